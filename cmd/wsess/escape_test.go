package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/textesc"
)

// Text from a session, a key name or a request reaches a terminal, a TSV
// row or a log line escaped.

// hostileKeys are Redis keys that would retitle and clear a terminal,
// forge a row, or reorder what follows them.
var hostileKeys = []string{
	"wppsess:\x1b]0;owned\x07\x1b[2J",
	"wppsess:row\nwppsess:FORGED\t-1\t0\t0\t",
	"wppsess:bidi\u202egpj.exe\u2066x\u2069",
	"wppsess:c1\u009b31mred\x7f",
}

// hostileValue is a stored session whose keys and values, nested too, hold
// the same.
const hostileValue = `{"a\u001b[2Jb": {"n\u0007ested\nkey": "v\u009b"}, "x\u202ey": "\u202e\u0085", "ok": 1}`

// controlLeft reports the first character of out a terminal would act on
// (other than the newlines that end lines and the tabs between fields), or
// "".
func controlLeft(out string) string {
	for _, r := range out {
		if r != '\n' && r != '\t' && textesc.MustEscape(r, len(string(r))) {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

func TestRedisHostileText(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	ctx := context.Background()
	for _, k := range hostileKeys {
		if err := c.Set(ctx, k, hostileValue, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n := len(hostileKeys)
	for _, tt := range []struct {
		name  string
		tty   bool
		args  []string
		lines int // lines the output must have
	}{
		{"ls keys tty", true, []string{"redis", "ls", "--keys-only"}, n + 1},
		{"ls keys pipe", false, []string{"redis", "ls", "--keys-only"}, n},
		{"ls tty", true, []string{"redis", "ls", "--decode"}, n + 2},
		{"ls tsv", false, []string{"redis", "ls", "--decode", "-o", "tsv"}, n},
		{"ls jsonl", false, []string{"redis", "ls", "--decode", "-o", "jsonl"}, n},
		{"show tty", true, []string{"redis", "show", hostileKeys[0]}, 11},
		{"show pipe", false, []string{"redis", "show", hostileKeys[1]}, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, tt.tty, "", append([]string{"--redis-url", s.URL()}, tt.args...)...)
			if r.Code != 0 {
				t.Fatalf("exit %d, %q", r.Code, r.Stderr)
			}
			if bad := controlLeft(r.Stdout); bad != "" {
				t.Errorf("output holds %s:\n%q", bad, r.Stdout)
			}
			if got := strings.Count(r.Stdout, "\n"); got != tt.lines {
				t.Errorf("%d lines, want %d:\n%s", got, tt.lines, r.Stdout)
			}
			if strings.Contains(r.Stdout, "\nwppsess:FORGED") {
				t.Errorf("a key forged a row:\n%s", r.Stdout)
			}
		})
	}
	// show's output is stable (no idle time): golden files per mode.
	for _, tty := range []bool{true, false} {
		r := runRedis(t, tty, "", "--redis-url", s.URL(), "redis", "show", hostileKeys[0])
		golden(t, fmt.Sprintf("redis_show_hostile_tty_%v.golden", tty), []byte(r.Stdout))
	}
}

// The listing's rows, in every format, from fixed rows with hostile keys
// and values (golden files; the rows of a real listing carry idle times).
func TestRedisLsHostileGolden(t *testing.T) {
	var rows []manager.Info
	for _, k := range hostileKeys {
		rows = append(rows, manager.Info{Key: k, TTL: manager.NoExpiry, Size: int64(len(hostileValue)), Type: "string", Value: []byte(hostileValue)})
	}
	for _, tt := range []struct {
		golden string
		tty    bool
		output string
	}{
		{"redis_ls_hostile_tty.golden", true, "table"},
		{"redis_ls_hostile_tsv.golden", false, "tsv"},
		{"redis_ls_hostile_jsonl.golden", false, "jsonl"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			ios.SetTerminalWidth(120)
			opts := redisLsOptions{IO: ios, Now: func() time.Time { return fixedNow }, Prefix: "wppsess:", Output: tt.output, Decode: true, Format: "auto"}
			w := newLsWriter(&opts)
			for _, inf := range rows {
				if err := w.row(inf); err != nil && !errors.Is(err, errLimit) {
					t.Fatal(err)
				}
			}
			if err := w.end(false, false); err != nil {
				t.Fatal(err)
			}
			if bad := controlLeft(out.String()); bad != "" {
				t.Errorf("output holds %s", bad)
			}
			golden(t, tt.golden, out.Bytes())
		})
	}
}

// Session keys and values in a preview are escaped.
func TestPreviewEscapes(t *testing.T) {
	got := preview(map[string]any{"k\x1b[2J": "\u202e\x07"}, 0)
	if want := `k\x1b[2J="\u202e\u0007"`; got != want {
		t.Errorf("preview = %q, want %q", got, want)
	}
}
