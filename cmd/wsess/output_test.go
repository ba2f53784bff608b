package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/redistest"
)

// outputNotAdopted are the commands whose -o is not addOutputFlag's yet.
var outputNotAdopted []string

// TestOutputFlagEverywhere: every command's -o is addOutputFlag's, with
// formats drawn from the one set, in its order.
func TestOutputFlagEverywhere(t *testing.T) {
	ios, _, _, _ := testIO()
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		if f := c.LocalFlags().Lookup("output"); f != nil && !slices.Contains(outputNotAdopted, c.CommandPath()) {
			seen++
			v, ok := f.Value.(*outputValue)
			if !ok {
				t.Errorf("%s: -o is a %T, not addOutputFlag's", c.CommandPath(), f.Value)
			} else {
				var inOrder []string
				for _, o := range outputFormats {
					if slices.Contains(v.options, o) {
						inOrder = append(inOrder, o)
					}
				}
				if !slices.Equal(v.options, inOrder) {
					t.Errorf("%s: formats %q, want a subset of %q in its order", c.CommandPath(), v.options, outputFormats)
				}
			}
			if f.Shorthand != "o" {
				t.Errorf("%s: --output has shorthand %q", c.CommandPath(), f.Shorthand)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(newFactory(ios, nil)))
	if seen < 4 {
		t.Errorf("found %d commands with -o, want decode, redis ls, show and stats at least", seen)
	}
}

// TestOutputBadValue: a bad -o is the same usage error everywhere, naming
// the command's formats.
func TestOutputBadValue(t *testing.T) {
	for _, tt := range []struct {
		path    string // the command
		args    []string
		formats string
	}{
		{"wsess decode", []string{"decode"}, "table|json|tsv"},
		{"wsess redis ls", []string{"redis", "ls"}, "table|json|jsonl|tsv"},
		{"wsess redis show", []string{"redis", "show", "x"}, "table|json|tsv"},
		{"wsess redis stats", []string{"redis", "stats"}, "table|json|tsv"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			args := append([]string{"--redis-url", "redis://127.0.0.1:1/0"}, tt.args...)
			r := runCLI(t, nil, false, "", append(args, "-o", "yaml")...)
			want := `wsess: invalid argument "yaml" for "-o, --output" flag: valid values are {` + tt.formats + `}; run '` + tt.path + ` --help' for usage` + "\n"
			if r.Code != 2 || r.Stderr != want || r.Stdout != "" {
				t.Errorf("got exit %d stdout %q stderr %q\nwant exit 2 stderr %q", r.Code, r.Stdout, r.Stderr, want)
			}
			help := runCLI(t, nil, false, "", append(args, "--help")...)
			if !strings.Contains(help.Stdout, "output format: {"+tt.formats+"}; default table on a terminal, tsv otherwise") {
				t.Errorf("help does not list the formats:\n%s", help.Stdout)
			}
		})
	}
}

// TestOutputTableLayout: only -o table given explicitly asks for the
// table on a pipe; the default and the other formats do not.
func TestOutputTableLayout(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-o", "table"}, true},
		{[]string{"--output=table"}, true},
		{[]string{"-o", "tsv"}, false},
		{[]string{"-o", "json"}, false},
		{[]string{"-o", "table", "-o", "json"}, false},
	} {
		ios, _, _, _ := testIO()
		parseFlags(t, append(tt.args, "x"), false, func(capture func(*decodeOptions)) *cobra.Command {
			return newCmdDecode(newFactory(ios, nil), func(o *decodeOptions) error { capture(o); return nil })
		})
		if got := ios.TableLayout(); got != tt.want {
			t.Errorf("%q: TableLayout() = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// readGolden returns testdata/<name>.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOutputTableOnPipe: -o table on a pipe prints what a terminal gets
// (without colour), and -o tsv on a terminal what a pipe gets: the golden
// files of the other mode, byte for byte.
func TestOutputTableOnPipe(t *testing.T) {
	t.Run("decode", func(t *testing.T) {
		cookie := sealForTest(t, `{"counter": 3, "user": {"id": 42, "name": "Ana"}, "flags": [true, null], "big": 123456789012345678901234567890}`)
		env := testEnv{envKey: testSecret}
		for _, tt := range []struct {
			tty    bool
			output string
			golden string
		}{
			{false, "table", "decode_tty.golden"},
			{true, "tsv", "decode_pipe.golden"},
			{false, "tsv", "decode_pipe.golden"},
		} {
			r := runCLI(t, env, tt.tty, "", "decode", "-o", tt.output, cookie)
			if r.Code != 0 || r.Stdout != readGolden(t, tt.golden) {
				t.Errorf("tty %v -o %s: exit %d, stderr %q, stdout\n%s\nwant %s", tt.tty, tt.output, r.Code, r.Stderr, r.Stdout, tt.golden)
			}
		}
	})
	t.Run("redis ls", func(t *testing.T) {
		for _, tt := range []struct {
			tty, explicit bool
			output        string
			golden        string
		}{
			{false, true, "table", "redis_ls_tty.golden"},
			{true, true, "tsv", "redis_ls_pipe.golden"},
		} {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			ios.SetTableLayout(tt.explicit && tt.output == outTable)
			opts := redisLsOptions{IO: ios, Now: func() time.Time { return fixedNow }, Prefix: "wppsess:", Output: tt.output}
			w := newLsWriter(&opts)
			for _, inf := range lsRows() {
				if err := w.row(inf); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.end(false, false); err != nil {
				t.Fatal(err)
			}
			if out.String() != readGolden(t, tt.golden) {
				t.Errorf("tty %v -o %s: got\n%s\nwant %s", tt.tty, tt.output, out.String(), tt.golden)
			}
		}
	})
	t.Run("redis stats", func(t *testing.T) {
		for _, tt := range []struct {
			tty    bool
			output string
			golden string
		}{
			{false, "table", "redis_stats_tty.golden"},
			{true, "tsv", "redis_stats_pipe.golden"},
		} {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			ios.SetTableLayout(tt.output == outTable)
			if err := writeStats(&redisStatsOptions{IO: ios, Prefix: "wppsess:", Output: tt.output}, statsFixture(), false); err != nil {
				t.Fatal(err)
			}
			if out.String() != readGolden(t, tt.golden) {
				t.Errorf("tty %v -o %s: got\n%s\nwant %s", tt.tty, tt.output, out.String(), tt.golden)
			}
		}
	})
	t.Run("redis show", func(t *testing.T) {
		s := redistest.Start(t, redistest.Options{})
		if err := s.Client().Set(context.Background(), "wppsess:s000042", `{"counter": 42}`, 0).Err(); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			tty    bool
			output string
			golden string
		}{
			{false, "table", "redis_show_tty_true.golden"},
			{true, "tsv", "redis_show_tty_false.golden"},
		} {
			r := runRedis(t, tt.tty, "", "--redis-url", s.URL(), "redis", "show", "-o", tt.output, "s000042")
			if r.Code != 0 || r.Stdout != readGolden(t, tt.golden) {
				t.Errorf("tty %v -o %s: exit %d, stderr %q, stdout\n%s\nwant %s", tt.tty, tt.output, r.Code, r.Stderr, r.Stdout, tt.golden)
			}
		}
		// A key pkg/session keeps for itself, the same way.
		if err := s.Client().Set(context.Background(), "wsess:revoked:LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ", "1747489470000", 0).Err(); err != nil {
			t.Fatal(err)
		}
		tty := runRedis(t, true, "", "--redis-url", s.URL(), "redis", "show", "wsess:revoked:LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ")
		pipe := runRedis(t, false, "", "--redis-url", s.URL(), "redis", "show", "-o", "table", "wsess:revoked:LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ")
		if tty.Code != 0 || pipe.Code != 0 || tty.Stdout != pipe.Stdout || !strings.HasPrefix(pipe.Stdout, "key      ") {
			t.Errorf("own key: -o table on a pipe %q (exit %d), on a terminal %q (exit %d)", pipe.Stdout, pipe.Code, tty.Stdout, tty.Code)
		}
	})
}

// TestJSONPolicy: no JSON golden file holds a null or a -1 sentinel for an
// absent expiry, TTL, size or idle time, nor a duration without _seconds
// in its name.
func TestJSONPolicy(t *testing.T) {
	bad := regexp.MustCompile(`"expires": ?null|"(ttl|idle|size|ttl_seconds|idle_seconds)": ?-1\b|"(ttl|idle)": ?-?[0-9]`)
	for _, name := range []string{
		"decode_json.golden", "redis_ls_json.golden", "redis_ls_jsonl.golden", "redis_ls_hostile_jsonl.golden",
		"redis_show_json.golden", "redis_show_own_json.golden", "redis_stats_json.golden", "redis_sessions_json.golden",
		"render/json_emmett_types.golden", "render/json_empty.golden", "render/json_weppy_auth.golden", "render/json_wsess.golden",
	} {
		if m := bad.FindString(readGolden(t, name)); m != "" {
			t.Errorf("%s holds %s", name, m)
		}
	}
}
