package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
)

// --- flags, through runF ----------------------------------------------------

func TestRedisLsFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      redisLsOptions
		wantUsage bool
	}{
		{"defaults", []string{}, redisLsOptions{Prefix: "wppsess:", Format: "auto", Output: "table"}, false},
		{"all", []string{"--prefix", "p:", "--match", "a*", "--limit", "5", "--decode", "--format", "pickle", "-o", "jsonl"},
			redisLsOptions{Prefix: "p:", Match: "a*", Limit: 5, Decode: true, Format: "pickle", Output: "jsonl"}, false},
		{"keys only tsv", []string{"--keys-only", "-o", "tsv"}, redisLsOptions{Prefix: "wppsess:", Format: "auto", KeysOnly: true, Output: "tsv"}, false},
		{"where rate", []string{"--where", ".auth.user.id == 42", "--rate", "2000"},
			redisLsOptions{Prefix: "wppsess:", Format: "auto", Output: "table", walkFlags: walkFlags{Where: ".auth.user.id == 42", Rate: 2000}}, false},
		{"where and keys only", []string{"--where", ".a", "--keys-only"}, redisLsOptions{}, true},
		{"negative rate", []string{"--rate", "-1"}, redisLsOptions{}, true},
		{"bad output", []string{"-o", "yaml"}, redisLsOptions{}, true},
		{"negative limit", []string{"--limit", "-1"}, redisLsOptions{}, true},
		{"bad format", []string{"--decode", "--format", "xml"}, redisLsOptions{}, true},
		{"keys only and decode", []string{"--keys-only", "--decode"}, redisLsOptions{}, true},
		{"an argument", []string{"x"}, redisLsOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*redisLsOptions)) *cobra.Command {
				return newCmdRedisLs(newFactory(ios, nil), func(o *redisLsOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			g := *got
			g.IO, g.Now, g.Manager, g.expr = nil, nil, nil, nil
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestRedisShowFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      redisShowOptions
		wantUsage bool
	}{
		{"id", []string{"abc"}, redisShowOptions{Arg: "abc", Prefix: "wppsess:", Format: "auto", Output: "table"}, false},
		{"all", []string{"--prefix", "p:", "--format", "json", "-o", "json", "p:abc"}, redisShowOptions{Arg: "p:abc", Prefix: "p:", Format: "json", Output: "json"}, false},
		{"no arg", []string{}, redisShowOptions{}, true},
		{"two args", []string{"a", "b"}, redisShowOptions{}, true},
		{"empty id", []string{""}, redisShowOptions{}, true},
		{"bad output", []string{"-o", "jsonl", "a"}, redisShowOptions{}, true},
		{"bad format", []string{"--format", "xml", "a"}, redisShowOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*redisShowOptions)) *cobra.Command {
				return newCmdRedisShow(newFactory(ios, nil), func(o *redisShowOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			g := *got
			g.IO, g.Now, g.Manager = nil, nil, nil
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestRedisExpireFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		tty       bool // stdin and stderr are terminals
		want      redisExpireOptions
		wantUsage bool
	}{
		{"ttl", []string{"--prefix", "p:", "--in", "60s"}, false, redisExpireOptions{Prefix: "p:", In: time.Minute, Batch: 1000, Format: "auto"}, false},
		{"delete yes", []string{"--prefix", "p:", "--delete", "--yes", "--idle", "24h", "--batch", "50", "--match", "x*"}, false,
			redisExpireOptions{Prefix: "p:", Match: "x*", Delete: true, Yes: true, Idle: 24 * time.Hour, Batch: 50, Format: "auto"}, false},
		{"delete dry run needs no yes", []string{"--prefix", "p:", "--delete", "--dry-run"}, false, redisExpireOptions{Prefix: "p:", Delete: true, DryRun: true, Batch: 1000, Format: "auto"}, false},
		{"delete on a terminal asks", []string{"--prefix", "p:", "--delete"}, true, redisExpireOptions{Prefix: "p:", Delete: true, Batch: 1000, Format: "auto"}, false},
		{"delete off a terminal needs yes", []string{"--prefix", "p:", "--delete"}, false, redisExpireOptions{}, true},
		{"no prefix", []string{"--in", "1m"}, false, redisExpireOptions{}, true},
		{"empty prefix", []string{"--prefix", "", "--in", "1m"}, false, redisExpireOptions{}, true},
		{"neither", []string{"--prefix", "p:"}, false, redisExpireOptions{}, true},
		{"both", []string{"--prefix", "p:", "--in", "1m", "--delete", "--yes"}, false, redisExpireOptions{}, true},
		{"zero ttl", []string{"--prefix", "p:", "--in", "0s"}, false, redisExpireOptions{}, true},
		{"sub-second ttl", []string{"--prefix", "p:", "--in", "999ms", "--yes"}, false, redisExpireOptions{}, true},
		{"negative idle", []string{"--prefix", "p:", "--in", "1m", "--idle", "-1s"}, false, redisExpireOptions{}, true},
		{"batch zero", []string{"--prefix", "p:", "--in", "1m", "--batch", "0"}, false, redisExpireOptions{}, true},
		{"bad duration", []string{"--prefix", "p:", "--in", "soon"}, false, redisExpireOptions{}, true},
		{"no ttl where rate", []string{"--prefix", "p:", "--in", "24h", "--no-ttl", "--where", ".a == 1", "--rate", "2000", "--format", "pickle"}, false,
			redisExpireOptions{Prefix: "p:", In: 24 * time.Hour, Batch: 1000, NoTTL: true, Format: "pickle", walkFlags: walkFlags{Where: ".a == 1", Rate: 2000}}, false},
		{"negative rate", []string{"--prefix", "p:", "--in", "1m", "--rate", "-1"}, false, redisExpireOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			ios.SetStdinTTY(tt.tty)
			ios.SetStderrTTY(tt.tty)
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*redisExpireOptions)) *cobra.Command {
				cmd := newCmdRedisExpire(newFactory(ios, nil), func(o *redisExpireOptions) error { capture(o); return nil })
				cmd.SetFlagErrorFunc(flagError)
				return cmd
			})
			if got == nil {
				return
			}
			g := *got
			g.IO, g.Now, g.Manager, g.expr = nil, nil, nil, nil
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestRedisStatsFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      redisStatsOptions
		wantUsage bool
	}{
		{"defaults", []string{}, redisStatsOptions{Prefix: "wppsess:", Output: "table", Top: 10, Format: "auto"}, false},
		{"all", []string{"--prefix", "p:", "--match", "a*", "-o", "json", "--top", "3", "--where", ".cart | length > 50", "--rate", "10", "--format", "json"},
			redisStatsOptions{Prefix: "p:", Match: "a*", Output: "json", Top: 3, Format: "json", walkFlags: walkFlags{Where: ".cart | length > 50", Rate: 10}}, false},
		{"every key", []string{"--prefix", ""}, redisStatsOptions{Output: "table", Top: 10, Format: "auto"}, false},
		{"negative top", []string{"--top", "-1"}, redisStatsOptions{}, true},
		{"top too large", []string{"--top", "1001"}, redisStatsOptions{}, true},
		{"negative rate", []string{"--rate", "-5"}, redisStatsOptions{}, true},
		{"bad output", []string{"-o", "jsonl"}, redisStatsOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*redisStatsOptions)) *cobra.Command {
				return newCmdRedisStats(newFactory(ios, nil), func(o *redisStatsOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			g := *got
			g.IO, g.Manager, g.expr = nil, nil, nil
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

// --- rendering, golden files --------------------------------------------------

// lsRows are fixed rows: the rendering of real rows is checked here, the
// listing itself against real servers below (idle times there move).
func lsRows() []manager.Info {
	return []manager.Info{
		{Key: "wppsess:Tq2-7wEjRDmXzU0sF0DRmt9Kj2J4bVq6w0yQm8m4o1g", TTL: 3599900 * time.Millisecond, Size: 33, Idle: 12 * time.Second, Type: "string",
			Value: []byte(`{"counter": 7, "user": "someone"}`)},
		{Key: "wppsess:7c9e6679-7425-40de-944b-e07fc1f90ae7", TTL: manager.NoExpiry, Size: 2048, Idle: 90061 * time.Second, Type: "string",
			Value: []byte("\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x04name\x94\x8c\x04Zo\xc3\xab\x94s.")}, // pickle.dumps({'name': 'Zoë'}, protocol=4)
		{Key: "wppsess:junk", TTL: manager.NoExpiry, Size: 3, Idle: 0, Type: "string", Value: []byte("\xff\x00x")},
		{Key: "wppsess:odd\tkey", TTL: 1500 * time.Millisecond, Size: -1, Idle: manager.IdleUnknown, Type: "hash"},
		{Key: "wppsess:Xh5hXjZ0cBKDU3Xn2Ek3ZyVbYQ1gq8U9m7wV2c4t6Ko", TTL: 299 * time.Second, Size: 58, Idle: 1 * time.Second, Type: "string",
			Value: []byte("\x00wsess:renamed:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"),
			Own:   manager.Own{Kind: manager.OwnTombstone, Target: "wppsess:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"}},
	}
}

// lsMetaRows are sessions with the library's reserved keys: a JSON value
// (pkg/session: created, login, user, generation, idle override) and a
// pickle value with bytes and weppy's _expires_after.
func lsMetaRows() []manager.Info {
	created := fixedNow.Add(-3 * time.Minute).Unix()
	auth := fixedNow.Add(-90 * time.Second).UnixMilli()
	js := fmt.Sprintf(`{"cart":[1,2],"_wsess_created":%d,"_wsess_auth":%d,"_wsess_user":"42","_wsess_gen":3,"_expires_after":1800,"theme":"dark"}`, created, auth)
	return []manager.Info{
		{Key: "wppsess:meta", TTL: time.Hour, Size: int64(len(js)), Idle: time.Second, Type: "string", Value: []byte(js)},
		{Key: "wppsess:bytes", TTL: time.Hour, Size: 51, Idle: time.Second, Type: "string",
			// pickle.dumps({'_expires_after': 600, 'tok': b'hello'}, protocol=3)
			Value: []byte("\x80\x03}q\x00(X\x0e\x00\x00\x00_expires_afterq\x01MX\x02X\x03\x00\x00\x00tokq\x02C\x05helloq\x03u.")},
	}
}

func TestRedisLsRender(t *testing.T) {
	tests := []struct {
		golden string
		tty    bool
		opts   redisLsOptions
		width  int // the terminal's width (0: unknown, 80 assumed)
		rows   []manager.Info
	}{
		{"redis_ls_tty.golden", true, redisLsOptions{Output: "table"}, 0, nil},
		{"redis_ls_pipe.golden", false, redisLsOptions{Output: "table"}, 0, nil},
		{"redis_ls_decode_tty.golden", true, redisLsOptions{Output: "table", Decode: true, Format: "auto"}, 140, nil},
		// The preview fills what the other columns leave of the width.
		{"redis_ls_decode_tty_80.golden", true, redisLsOptions{Output: "table", Decode: true, Format: "auto"}, 0, nil},
		{"redis_ls_decode_tty_200.golden", true, redisLsOptions{Output: "table", Decode: true, Format: "auto"}, 200, nil},
		// The library's reserved keys: named fields, after the app's keys.
		{"redis_ls_meta_tty.golden", true, redisLsOptions{Output: "table", Decode: true, Format: "auto"}, 160, lsMetaRows()},
		{"redis_ls_meta_tsv.golden", false, redisLsOptions{Output: "tsv", Decode: true, Format: "auto"}, 0, lsMetaRows()},
		{"redis_ls_meta_jsonl.golden", false, redisLsOptions{Output: "jsonl", Decode: true, Format: "auto"}, 0, lsMetaRows()},
		{"redis_ls_decode_pipe.golden", false, redisLsOptions{Output: "tsv", Decode: true, Format: "auto"}, 0, nil},
		{"redis_ls_json.golden", true, redisLsOptions{Output: "json", Decode: true, Format: "auto"}, 0, nil},
		{"redis_ls_jsonl.golden", false, redisLsOptions{Output: "jsonl"}, 0, nil},
		{"redis_ls_keys.golden", true, redisLsOptions{Output: "table", KeysOnly: true}, 0, nil},
		{"redis_ls_limit_tty.golden", true, redisLsOptions{Output: "table", Limit: 2}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			ios.SetTerminalWidth(tt.width)
			opts := tt.opts
			opts.IO, opts.Now, opts.Prefix = ios, func() time.Time { return fixedNow }, "wppsess:"
			w := newLsWriter(&opts)
			rows := tt.rows
			if rows == nil {
				rows = lsRows()
			}
			var err error
			for _, inf := range rows {
				if err = w.row(inf); err != nil {
					break
				}
			}
			if err != nil && !errors.Is(err, errLimit) {
				t.Fatal(err)
			}
			if err := w.end(errors.Is(err, errLimit), false); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, out.Bytes())
		})
	}
}

// statsFixture is the statistics the stats golden files show.
func statsFixture() manager.Stats {
	st := manager.Stats{Keys: 1200, NoTTL: 250, Strings: 1190, Bytes: 1190 * 150, MinSize: 20, MaxSize: 70000, Scanned: 1206,
		Memory: manager.Memory{Sampled: 12, SampledBytes: 1800, SampledUsage: 3000, Estimated: 297500, PerKey: 250},
		Top: []manager.Entry{
			{Key: "wppsess:big", Size: 70000, TTL: manager.NoExpiry, Idle: 90061 * time.Second},
			{Key: "wppsess:odd\tkey", Size: 4000, TTL: 3599900 * time.Millisecond, Idle: manager.IdleUnknown},
		},
		Prefixes:    []manager.Group{{Name: "wppsess:", Keys: 1200, NoTTL: 250, Bytes: 178500}},
		Bookkeeping: manager.OwnCounts{Tombstones: 3, IndexKeys: 2, Markers: 1},
		Nodes: []manager.Group{
			{Name: "127.0.0.1:7001", Keys: 400, NoTTL: 80, Bytes: 60000},
			{Name: "127.0.0.1:7002", Keys: 800, NoTTL: 170, Bytes: 118500},
		},
	}
	h, d := time.Hour, 24*time.Hour
	for _, b := range []manager.Bucket{
		{Label: "<1m", Upper: int64(time.Minute), Count: 10}, {Label: "<10m", Upper: int64(10 * time.Minute), Count: 40},
		{Label: "<1h", Upper: int64(h), Count: 900}, {Label: "<6h", Upper: int64(6 * h)}, {Label: "<1d", Upper: int64(d)},
		{Label: "<7d", Upper: int64(7 * d)}, {Label: ">=7d"}, {Label: "none", Count: 250},
	} {
		st.TTL = append(st.TTL, b)
	}
	for _, b := range []manager.Bucket{
		{Label: "<64B", Upper: 64, Count: 100}, {Label: "<256B", Upper: 256, Count: 1000}, {Label: "<1KiB", Upper: 1 << 10, Count: 80},
		{Label: "<4KiB", Upper: 4 << 10, Count: 9}, {Label: "<16KiB", Upper: 16 << 10}, {Label: "<64KiB", Upper: 64 << 10},
		{Label: ">=64KiB", Count: 1}, {Label: "other", Count: 10},
	} {
		st.Size = append(st.Size, b)
	}
	for _, b := range []manager.Bucket{
		{Label: "<1m", Upper: int64(time.Minute), Count: 700}, {Label: "<10m", Upper: int64(10 * time.Minute), Count: 200},
		{Label: "<1h", Upper: int64(h), Count: 100}, {Label: "<6h", Upper: int64(6 * h)}, {Label: "<1d", Upper: int64(d), Count: 150},
		{Label: "<7d", Upper: int64(7 * d), Count: 50}, {Label: ">=7d"}, {Label: "unknown"},
	} {
		st.Idle = append(st.Idle, b)
	}
	return st
}

func TestRedisStatsRender(t *testing.T) {
	st := statsFixture()
	for _, tt := range []struct {
		golden string
		tty    bool
		output string
	}{
		{"redis_stats_tty.golden", true, "table"},
		{"redis_stats_pipe.golden", false, "table"},
		{"redis_stats_json.golden", false, "json"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			if err := writeStats(&redisStatsOptions{IO: ios, Prefix: "wppsess:", Output: tt.output}, st, false); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, out.Bytes())
		})
	}
}

func TestHumanFormats(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {1500 * time.Millisecond, "2s"}, {59 * time.Second, "59s"}, {3599900 * time.Millisecond, "1h00m"},
		{3599 * time.Second, "59m59s"}, {49 * time.Hour, "2d01h"}, {manager.NoExpiry, "none"},
	} {
		if got := humanTTL(tt.d); got != tt.want {
			t.Errorf("humanTTL(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int64
		want string
	}{{-1, "-"}, {0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {3 << 20, "3.0 MiB"}} {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// --- against real servers ------------------------------------------------------

// runRedis runs wsess in-process with stdin, stdout and stderr terminals
// or not.
func runRedis(t *testing.T, tty bool, stdin string, args ...string) cliResult {
	t.Helper()
	ios, in, out, errOut := testIO()
	in.WriteString(stdin)
	ios.SetStdinTTY(tty)
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	f := newFactory(ios, nil)
	f.Now = func() time.Time { return fixedNow }
	defer f.CloseRedis()
	root := newRootCmd(f)
	root.SetArgs(cliArgs(root, append([]string{}, args...))) // as run does
	_, err := root.ExecuteContextC(context.Background())
	code := exitCode(err, errOut)
	return cliResult{Stdout: out.String(), Stderr: errOut.String(), Code: code}
}

// fillSessions writes n JSON sessions under prefix with pipelines (no TTL).
func fillSessions(t *testing.T, c redis.UniversalClient, prefix string, n int) {
	t.Helper()
	redistest.Fill(t, c, n, func(i int) (string, string, time.Duration) {
		return prefix + fmt.Sprintf("s%06d", i), `{"counter": ` + strconv.Itoa(i) + `}`, 0
	})
}

// count returns the number of keys under prefix.
func count(t *testing.T, c redis.UniversalClient, prefix string) int {
	t.Helper()
	n := 0
	err := manager.New(c).Scan(context.Background(), manager.ScanOptions{Prefix: prefix}, func(k []string) error { n += len(k); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// redisBackend is a Redis deployment a CLI test runs against, started by
// the test: a client for the test's own setup and the flags that point
// wsess at it.
type redisBackend struct {
	name  string
	start func(t *testing.T) (redis.UniversalClient, []string)
}

// redisBackends are a single node and a 3-master cluster.
func redisBackends() []redisBackend {
	return []redisBackend{
		{"single", func(t *testing.T) (redis.UniversalClient, []string) {
			s := redistest.Start(t, redistest.Options{})
			return s.Client(), []string{"--redis-url", s.URL()}
		}},
		{"cluster", func(t *testing.T) (redis.UniversalClient, []string) {
			cl := redistest.StartCluster(t, 3)
			return cl.Client(), []string{"--cluster", strings.Join(cl.Addrs(), ",")}
		}},
	}
}

func TestRedisCommands(t *testing.T) {
	const nMain, nOther = 100_000, 1_000
	backends := redisBackends()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c, conn := be.start(t)
			fillSessions(t, c, "wppsess:", nMain)
			fillSessions(t, c, "other:", nOther)
			wsess := func(tty bool, stdin string, args ...string) cliResult {
				t.Helper()
				return runRedis(t, tty, stdin, append(append([]string{}, conn...), args...)...)
			}

			// ls -o jsonl: one valid line per session, each key once.
			r := wsess(false, "", "redis", "ls", "-o", "jsonl")
			if r.Code != 0 || r.Stderr != "" {
				t.Fatalf("ls: exit %d, stderr %q", r.Code, r.Stderr)
			}
			seen := map[string]bool{}
			sc := bufio.NewScanner(strings.NewReader(r.Stdout))
			for sc.Scan() {
				var row struct {
					Key  string `json:"key"`
					TTL  *int64 `json:"ttl_seconds"` // left out: no TTL
					Size int64  `json:"size"`
				}
				if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
					t.Fatalf("ls -o jsonl line %q: %v", sc.Text(), err)
				}
				if !strings.HasPrefix(row.Key, "wppsess:s") || row.TTL != nil || row.Size < 14 || seen[row.Key] {
					t.Fatalf("ls -o jsonl: unexpected or repeated row %q", sc.Text())
				}
				seen[row.Key] = true
			}
			if len(seen) != nMain {
				t.Fatalf("ls -o jsonl printed %d sessions, want %d", len(seen), nMain)
			}

			// --keys-only to a pipe: the keys, one a line; --limit stops early.
			r = wsess(false, "", "redis", "ls", "--prefix", "other:", "--keys-only")
			if lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n"); r.Code != 0 || len(lines) != nOther || !strings.HasPrefix(lines[0], "other:s") {
				t.Fatalf("ls --keys-only: exit %d, %d lines", r.Code, len(lines))
			}
			r = wsess(false, "", "redis", "ls", "--limit", "10", "--decode")
			if lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n"); r.Code != 0 || len(lines) != 10 || !strings.Contains(lines[0], "\tcounter=") {
				t.Fatalf("ls --limit 10 --decode: exit %d, %q", r.Code, r.Stdout)
			}

			// stats to a pipe is exact: no TTLs, sizes known (MEMORY USAGE
			// where there is no CLIENT NO-TOUCH).
			wantSize := "size.<64B\t1000\n"
			if !hasNoTouch(c) {
				wantSize = "size.<256B\t1000\n"
			}
			r = wsess(false, "", "redis", "stats", "--prefix", "other:")
			if r.Code != 0 || !strings.Contains(r.Stdout, "keys\t1000\n") || !strings.Contains(r.Stdout, "ttl.none\t1000\n") || !strings.Contains(r.Stdout, wantSize) {
				t.Fatalf("stats: exit %d, %q", r.Code, r.Stdout)
			}

			// show, on a terminal and off: the session decoded.
			for _, tty := range []bool{true, false} {
				r = wsess(tty, "", "redis", "show", "s000042")
				golden(t, fmt.Sprintf("redis_show_tty_%v.golden", tty), []byte(r.Stdout))
			}
			r = wsess(false, "", "redis", "show", "-o", "json", "wppsess:s000042")
			golden(t, "redis_show_json.golden", []byte(r.Stdout))
			r = wsess(false, "", "redis", "show", "nope")
			if r.Code != 1 || !strings.Contains(r.Stderr, "no session with that id") {
				t.Fatalf("show a missing id: exit %d, %q", r.Code, r.Stderr)
			}

			// Deleting off a terminal without --yes: exit 2, nothing changed.
			r = wsess(false, "", "redis", "expire", "--prefix", "wppsess:", "--delete")
			if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "--yes") {
				t.Fatalf("delete without --yes: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
			}
			// On a terminal the answer decides; "n" keeps everything.
			r = wsess(true, "n\n", "redis", "expire", "--prefix", "wppsess:", "--delete")
			if r.Code != 1 || !strings.Contains(r.Stderr, "[y/N]") || !strings.Contains(r.Stderr, "aborted") {
				t.Fatalf("delete answered n: exit %d, %q", r.Code, r.Stderr)
			}
			if n := count(t, c, "wppsess:"); n != nMain {
				t.Fatalf("after refused deletes %d keys remain, want %d", n, nMain)
			}

			r = wsess(false, "", "redis", "expire", "--prefix", "wppsess:", "--delete", "--dry-run")
			if want := "Would delete 100000 keys under \"wppsess:\" (dry run: nothing changed); 100000 scanned, 0 failed\n"; r.Code != 0 || r.Stdout != want {
				t.Fatalf("dry run: exit %d, %q; want %q", r.Code, r.Stdout, want)
			}
			if n := count(t, c, "wppsess:"); n != nMain {
				t.Fatalf("after a dry run %d keys remain, want %d", n, nMain)
			}

			r = wsess(false, "", "redis", "expire", "--prefix", "wppsess:", "--in", "60s", "--yes")
			if want := "Set a TTL of 1m0s on 100000 keys under \"wppsess:\"; 100000 scanned, 0 failed\n"; r.Code != 0 || r.Stdout != want || r.Stderr != "" {
				t.Fatalf("expire --in 60s: exit %d, %q %q; want %q", r.Code, r.Stdout, r.Stderr, want)
			}
			m := manager.New(c)
			var bad int
			check := func(prefix string, ok func(time.Duration) bool) {
				err := m.List(context.Background(), manager.ScanOptions{Prefix: prefix}, func(infos []manager.Info) error {
					for _, inf := range infos {
						if !ok(inf.TTL) {
							bad++
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			check("wppsess:", func(d time.Duration) bool { return d > 0 && d <= time.Minute })
			check("other:", func(d time.Duration) bool { return d == manager.NoExpiry })
			if bad != 0 {
				t.Fatalf("%d keys with a wrong TTL after expire --in 60s", bad)
			}

			// On a terminal, "y" deletes, with a progress line on stderr.
			r = wsess(true, "y\n", "redis", "expire", "--prefix", "wppsess:", "--delete")
			if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Deleted 100000 keys under \"wppsess:\"") {
				t.Fatalf("delete answered y: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
			}
			if n := count(t, c, "wppsess:"); n != 0 {
				t.Fatalf("%d keys remain after delete", n)
			}
			r = wsess(false, "", "redis", "expire", "--prefix", "other:", "--delete", "--yes")
			// SCAN may return a key twice while keys are being unlinked, so
			// the scanned count is at least, not exactly, 1000.
			if want := "Deleted 1000 keys under \"other:\"; "; r.Code != 0 || !strings.HasPrefix(r.Stdout, want) || !strings.HasSuffix(r.Stdout, " scanned, 0 failed\n") {
				t.Fatalf("delete --yes: exit %d, %q; want %q...", r.Code, r.Stdout, want)
			}
			if n := count(t, c, ""); n != 0 {
				t.Fatalf("%d keys remain in the database", n)
			}
			r = wsess(true, "", "redis", "ls")
			if r.Code != 0 || r.Stdout != "no keys under \"wppsess:\"\n" {
				t.Fatalf("ls of nothing: exit %d, %q", r.Code, r.Stdout)
			}
		})
	}
}

func TestRedisUnavailable(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	url := s.URL()
	s.Stop()
	for _, args := range [][]string{
		{"redis", "ls"},
		{"redis", "show", "abc"},
		{"redis", "stats"},
		{"redis", "expire", "--prefix", "p:", "--in", "1m"},
	} {
		r := runRedis(t, false, "", append([]string{"--redis-url", url}, args...)...)
		if r.Code != 1 || !strings.HasPrefix(r.Stderr, "wsess: Redis refused the connection at "+s.Addr+"; ") || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%v against a stopped server: exit %d, %q", args, r.Code, r.Stderr)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\\`, "tab\tnl\ncr\r\x00\x1f\x7f\b\f", "zoë 日本", "bad\xff\xfeutf8", "ls\u2028ps\u2029", "<a&b>", strings.Repeat("x", 300)} {
		want, err := marshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestRedisShowOtherPrefix: redis show with a whole key under another prefix
// than --prefix shows it, and the error for an id that is not there names
// the prefixes that do hold keys when there are few.
func TestRedisShowOtherPrefix(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	ctx := context.Background()
	for k, v := range map[string]string{
		"emtsess:7c9e6679-7425-40de-944b-e07fc1f90ae7": `{"counter": 7}`,
		"myapp:sess:x": `{"counter": 8}`,
	} {
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	url := []string{"--redis-url", s.URL(), "redis", "show"}
	r := runRedis(t, false, "", append(url, "emtsess:7c9e6679-7425-40de-944b-e07fc1f90ae7")...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "emtsess:7c9e6679-7425-40de-944b-e07fc1f90ae7") || !strings.Contains(r.Stdout, "counter") {
		t.Fatalf("show a key under another prefix: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
	r = runRedis(t, false, "", append(url, "nope")...)
	want := `wsess: no session with that id under prefix "wppsess:"; keys exist under "emtsess:", "myapp:": try --prefix emtsess:` + "\n"
	if r.Code != 1 || r.Stderr != want {
		t.Fatalf("show a missing id: exit %d, stderr %q; want %q", r.Code, r.Stderr, want)
	}
	// Many prefixes are no hint: the plain advice.
	for i := 0; i < 6; i++ {
		if err := c.Set(ctx, fmt.Sprintf("app%d:x", i), "{}", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	r = runRedis(t, false, "", append(url, "nope")...)
	want = `wsess: no session with that id under prefix "wppsess:"; check the id and --prefix (wsess redis ls lists the keys)` + "\n"
	if r.Code != 1 || r.Stderr != want {
		t.Fatalf("show a missing id among many prefixes: exit %d, stderr %q; want %q", r.Code, r.Stderr, want)
	}
}
