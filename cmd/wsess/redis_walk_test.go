package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/where"
)

// fillWhereFixtures stores sessions as the real frameworks wrote them
// (internal/interop's vectors, made by weppy 1.3.4 and Emmett through
// pyreal) under their prefixes, wsess JSON sessions, a value no decoder
// reads and a key that is not a string.
func fillWhereFixtures(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	vs, err := interop.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"weppy-1.3.4/auth": true, "weppy-1.3.4/counter": true, "weppy-1.3.4/types": true,
		"emmett-2.4.14/counter": true, "emmett-2.7.1/types": true,
	}
	n := 0
	for _, v := range vs {
		name := v.Framework + "/" + v.Case
		if v.Format != "pickle" || !want[name] {
			continue
		}
		b, err := hex.DecodeString(v.ValueHex)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, v.Prefix+strings.ReplaceAll(name, "/", "-"), b, 0).Err(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("found %d of the %d interop vectors", n, len(want))
	}
	for k, v := range map[string]string{
		"wppsess:wsess-user42": `{"auth": {"user": {"id": 42}}, "cart": [1, 2, 3]}`,
		"wppsess:wsess-user1":  `{"auth": {"user": {"id": 1}}, "counter": 3}`,
		"wppsess:wsess-cart":   `{"cart": [1, 2, 3, 4, 5, 6], "name": "Zoë"}`,
		"wppsess:junk":         "\xff\x00x",
	} {
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.HSet(ctx, "wppsess:a-hash", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisWhere: --where selects by content in JSON and pickled sessions
// (weppy's auth.user.id, Emmett's big integers, wsess's JSON); a value that
// cannot be decoded never matches and is counted; a failing expression is
// counted apart. The selected keys and what stderr says are golden.
func TestRedisWhere(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	fillWhereFixtures(t, s.Client())
	tests := []struct {
		name string
		args []string
	}{
		{"weppy_auth_user", []string{"--prefix", "wppsess:", "--where", ".auth.user.id == 1"}},
		{"user42", []string{"--prefix", "", "--where", ".auth.user.id == 42"}},
		{"counter_everywhere", []string{"--prefix", "", "--where", ".counter == 3"}},
		{"emmett_big_int", []string{"--prefix", "emtsess:", "--where", ".big == 1180591620717411303424"}},
		{"cart_length", []string{"--prefix", "", "--where", ".cart | length > 5"}},
		{"runtime_errors", []string{"--prefix", "", "--where", `.name | test("Zo")`}},
		{"forced_json", []string{"--prefix", "", "--where", ".counter == 3", "--format", "json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got strings.Builder
			for _, tty := range []bool{false, true} {
				args := append([]string{"--redis-url", s.URL(), "redis", "ls", "-o", "tsv"}, tt.args...)
				if tty {
					args[5] = "table"
				}
				r := runRedis(t, tty, "", args...)
				if r.Code != 0 {
					t.Fatalf("exit %d: %s", r.Code, r.Stderr)
				}
				fmt.Fprintf(&got, "--- tty %v: keys\n%s--- stderr\n%s", tty, sortedFirstFields(r.Stdout, tty), dropIdleNote(r.Stderr))
			}
			// stats and a dry-run expire count the same sessions.
			r := runRedis(t, false, "", append([]string{"--redis-url", s.URL(), "redis", "stats", "-o", "json"}, tt.args...)...)
			var st struct {
				Keys, Scanned, Undecodable int64
				WhereErrors                int64 `json:"where_errors"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &st); r.Code != 0 || err != nil {
				t.Fatalf("stats: exit %d, %v, %q", r.Code, err, r.Stderr)
			}
			fmt.Fprintf(&got, "--- stats\nkeys %d, scanned %d, undecodable %d, where errors %d\n", st.Keys, st.Scanned, st.Undecodable, st.WhereErrors)
			prefix := tt.args[1]
			if prefix != "" {
				r = runRedis(t, false, "", append([]string{"--redis-url", s.URL(), "redis", "expire", "--delete", "--dry-run"}, tt.args...)...)
				fmt.Fprintf(&got, "--- expire --dry-run (exit %d)\n%s%s", r.Code, r.Stdout, dropIdleNote(r.Stderr))
			}
			golden(t, "where/"+tt.name+".golden", []byte(got.String()))
		})
	}
}

// sortedFirstFields returns the keys of a -o tsv listing, sorted, one a
// line; for a table (whose column widths follow the rows that come first,
// in SCAN's order) only its last line, the note.
func sortedFirstFields(out string, table bool) string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if table {
		return "note: " + lines[len(lines)-1] + "\n"
	}
	var keys []string
	for _, l := range lines {
		if k, _, _ := strings.Cut(l, "\t"); k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return strings.Join(keys, "\n") + "\n"
}

// TestRedisWhereBadExpression: a bad expression is a usage error (exit 2)
// that shows where it went wrong, before anything connects (the URL is a
// closed port).
func TestRedisWhereBadExpression(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"ls_unterminated", []string{"redis", "ls", "--where", ".auth.user.id =="}},
		{"expire_bad_token", []string{"redis", "expire", "--prefix", "p:", "--delete", "--yes", "--where", ".a | ) == 1"}},
		{"stats_unknown_function", []string{"redis", "stats", "--where", ".cart | lenght > 50"}},
		{"ls_wide_chars", []string{"redis", "ls", "--where", `.name == "日本語" and and`}},
		{"ls_env_refused", []string{"redis", "ls", "--where", "input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, false, "", append([]string{"--redis-url", "redis://127.0.0.1:1/0"}, tt.args...)...)
			if r.Code != 2 || r.Stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit 2 and nothing on stdout", r.Code, r.Stdout)
			}
			golden(t, "where/bad_"+tt.name+".golden", []byte(r.Stderr))
		})
	}
}

// whereCaret points at the byte where the parser stopped, counted in
// display cells.
func TestWhereCaret(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want string
	}{
		{".a ==", "  .a ==\n       ^\n"},
		{".a | ) == 1", "  .a | ) == 1\n       ^\n"},
		{`"日本" +`, "  \"日本\" +\n          ^\n"},
		{".a\t|\t)", "  .a | )\n       ^\n"},
	} {
		_, err := where.Compile(tt.expr)
		var se *where.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: err %v, want a *where.SyntaxError", tt.expr, err)
		}
		if got := whereCaret(se); got != tt.want {
			t.Errorf("%q: caret\n%s\nwant\n%s", tt.expr, got, tt.want)
		}
	}
}

// fillUsers writes n JSON sessions under prefix whose auth.user.id is i%10,
// with pipelines, no TTL.
func fillUsers(t *testing.T, c redis.UniversalClient, prefix string, n int) {
	t.Helper()
	redistest.Fill(t, c, n, func(i int) (string, string, time.Duration) {
		return fmt.Sprintf("%ss%06d", prefix, i), fmt.Sprintf(`{"auth": {"user": {"id": %d}}, "n": %d}`, i%10, i), 0
	})
}

// TestRedisExpireWhereDelete: expire --where ... --delete --yes removes
// exactly the matching sessions of 100,000, on one node and on a 3-master
// cluster, through the CLI; undecodable values stay and are counted.
func TestRedisExpireWhereDelete(t *testing.T) {
	const n = 100_000
	for _, be := range redisBackends() {
		t.Run(be.name, func(t *testing.T) {
			c, conn := be.start(t)
			ctx := context.Background()
			fillUsers(t, c, "wppsess:", n)
			for i := 0; i < 7; i++ {
				if err := c.Set(ctx, fmt.Sprintf("wppsess:junk%d", i), "\x80\x04not a pickle", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			args := append(append([]string{}, conn...), "redis", "expire", "--prefix", "wppsess:", "--where", ".auth.user.id == 7", "--delete", "--yes")
			r := runRedis(t, false, "", args...)
			want := fmt.Sprintf("Deleted 10000 keys under \"wppsess:\", where \".auth.user.id == 7\"; %d scanned, 0 failed, 7 undecodable, 0 where errors\n", n+7)
			if r.Code != 0 || r.Stdout != want || dropIdleNote(r.Stderr) != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", r.Code, r.Stdout, r.Stderr, want)
			}
			// Exactly the others remain: every id but 7, and the junk.
			left := map[string]bool{}
			err := manager.New(c).Scan(ctx, manager.ScanOptions{Prefix: "wppsess:"}, func(keys []string) error {
				for _, k := range keys {
					left[k] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != n-n/10+7 {
				t.Fatalf("%d keys left, want %d", len(left), n-n/10+7)
			}
			for i := 0; i < n; i++ {
				if k := fmt.Sprintf("wppsess:s%06d", i); left[k] != (i%10 != 7) {
					t.Fatalf("%s: present %v after deleting user 7's sessions", k, left[k])
				}
			}
		})
	}
}

// TestRedisNoTTL: stats counts the keys without a TTL exactly, and
// expire --no-ttl --in 24h gives exactly those a TTL, leaving the others'
// TTLs alone.
func TestRedisNoTTL(t *testing.T) {
	for _, be := range redisBackends() {
		t.Run(be.name, func(t *testing.T) {
			c, conn := be.start(t)
			ctx := context.Background()
			const n, noTTL = 20_000, 1_234
			fillUsers(t, c, "p:", n)
			// Every key but the first noTTL gets a TTL of 1h to 2h.
			pipe := c.Pipeline()
			for i := noTTL; i < n; i++ {
				pipe.Expire(ctx, fmt.Sprintf("p:s%06d", i), time.Hour+time.Duration(i)*time.Second/10)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			wsess := func(args ...string) cliResult {
				return runRedis(t, false, "", append(append([]string{}, conn...), args...)...)
			}
			r := wsess("redis", "stats", "--prefix", "p:")
			if r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprintf("\nkeys\t%d\nno_ttl\t%d\n", n, noTTL)) || !strings.Contains(r.Stdout, fmt.Sprintf("\nttl.none\t%d\n", noTTL)) {
				t.Fatalf("stats: exit %d, %q", r.Code, r.Stdout)
			}
			r = wsess("redis", "expire", "--prefix", "p:", "--no-ttl", "--in", "24h", "--dry-run")
			if want := fmt.Sprintf("Would set a TTL of 24h0m0s on %d keys under \"p:\" without a TTL (dry run: nothing changed); %d scanned, 0 failed\n", noTTL, n); r.Code != 0 || r.Stdout != want {
				t.Fatalf("dry run: exit %d, %q; want %q", r.Code, r.Stdout, want)
			}
			r = wsess("redis", "expire", "--prefix", "p:", "--no-ttl", "--in", "24h")
			if want := fmt.Sprintf("Set a TTL of 24h0m0s on %d keys under \"p:\" without a TTL; %d scanned, 0 failed\n", noTTL, n); r.Code != 0 || r.Stdout != want {
				t.Fatalf("expire --no-ttl: exit %d, %q %q; want %q", r.Code, r.Stdout, r.Stderr, want)
			}
			pipe = c.Pipeline()
			cmds := make([]*redis.DurationCmd, n)
			for i := range cmds {
				cmds[i] = pipe.PTTL(ctx, fmt.Sprintf("p:s%06d", i))
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				ttl := cmd.Val()
				set := time.Hour + time.Duration(i)*time.Second/10
				if i < noTTL && (ttl <= 23*time.Hour || ttl > 24*time.Hour) {
					t.Fatalf("key %d had no TTL: now %v, want about 24h", i, ttl)
				}
				if i >= noTTL && (ttl > set || ttl < set-10*time.Minute) {
					t.Fatalf("key %d had a TTL of %v: now %v, want it left alone", i, set, ttl)
				}
			}
			r = wsess("redis", "stats", "--prefix", "p:", "-o", "json")
			if r.Code != 0 || !strings.Contains(r.Stdout, "\n  \"no_ttl\": 0,\n") {
				t.Fatalf("stats after: exit %d, %q", r.Code, r.Stdout)
			}
		})
	}
}

// TestRedisRate: --rate 2000 on 10,000 keys takes between 4.5 s and
// 6 s of wall time through the CLI, for each command that walks keys. (The
// bound is generous on purpose; the exact rate belongs in a benchmark.)
func TestRedisRate(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 15 s")
	}
	s := redistest.Start(t, redistest.Options{})
	fillUsers(t, s.Client(), "p:", 10_000)
	for _, args := range [][]string{
		{"redis", "ls", "--prefix", "p:", "--keys-only", "--rate", "2000"},
		{"redis", "stats", "--prefix", "p:", "--rate", "2000"},
		{"redis", "expire", "--prefix", "p:", "--in", "1h", "--rate", "2000"},
	} {
		start := time.Now()
		r := runRedis(t, false, "", append([]string{"--redis-url", s.URL()}, args...)...)
		took := time.Since(start)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d, %q", args, r.Code, r.Stderr)
		}
		if took < 4500*time.Millisecond || took > 6*time.Second {
			t.Errorf("%v took %v; want 4.5 s to 6 s for 10,000 keys at 2,000 keys/s", args, took)
		}
	}
}

// runRedisCtx is runRedis with the run's context, as main gives it (the
// signal context of signal.NotifyContext).
func runRedisCtx(t *testing.T, ctx context.Context, args ...string) cliResult {
	t.Helper()
	ios, _, out, errOut := testIO()
	f := newFactory(ios, nil)
	f.Now = func() time.Time { return fixedNow }
	code := run(ctx, args, ios, f.LookupEnv)
	return cliResult{Stdout: out.String(), Stderr: errOut.String(), Code: code}
}

// deletedRe reads the count out of an expire --delete summary.
var deletedRe = regexp.MustCompile(`^(Interrupted: )?Deleted (\d+) keys under "p:"; (\d+) scanned, 0 failed\n$`)

// waitFewer polls DBSIZE until it is below n (bounded: 10 s).
func waitFewer(t *testing.T, c *redis.Client, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if k, err := c.DBSize(context.Background()).Result(); err == nil && k < n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("DBSIZE still %d or more after 10 s", n)
}

// deletedCount checks an expire --delete summary and returns its count.
func deletedCount(t *testing.T, r cliResult, interrupted bool) int {
	t.Helper()
	m := deletedRe.FindStringSubmatch(r.Stdout)
	if m == nil || (m[1] != "") != interrupted {
		t.Fatalf("summary %q (stderr %q); want a delete summary, interrupted %v", r.Stdout, r.Stderr, interrupted)
	}
	var k int
	fmt.Sscan(m[2], &k)
	return k
}

// TestRedisExpireInterrupted: an expire interrupted mid-walk (its context
// cancelled, as SIGINT does through main's signal.NotifyContext) prints the
// summary so far, exits 1, and a rerun completes with every key handled
// once.
func TestRedisExpireInterrupted(t *testing.T) {
	const n = 10_000
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	fillUsers(t, c, "p:", n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan cliResult, 1)
	go func() {
		done <- runRedisCtx(t, ctx, "--redis-url", s.URL(), "redis", "expire", "--prefix", "p:", "--delete", "--yes", "--rate", "4000")
	}()
	waitFewer(t, c, n-1000)
	cancel()
	r := <-done
	first := deletedCount(t, r, true)
	if r.Code != 1 || !strings.Contains(r.Stderr, "wsess: interrupted; the batch in flight was finished") || !strings.Contains(r.Stderr, "run the same command again") {
		t.Fatalf("interrupted: exit %d, stderr %q", r.Code, r.Stderr)
	}
	left, err := c.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if first == 0 || first == n || int64(first) != n-left {
		t.Fatalf("the interrupted run says it deleted %d keys; %d of %d are left", first, left, n)
	}
	r = runRedisCtx(t, context.Background(), "--redis-url", s.URL(), "redis", "expire", "--prefix", "p:", "--delete", "--yes")
	if second := deletedCount(t, r, false); r.Code != 0 || first+second != n {
		t.Fatalf("rerun: exit %d, deleted %d after %d; want %d in all", r.Code, second, first, n)
	}
	if k := c.DBSize(context.Background()).Val(); k != 0 {
		t.Fatalf("%d keys left after the rerun", k)
	}
}

// TestRedisExpireSIGINT, with a real signal: wsess (this test binary running
// main, see TestMain) gets SIGINT in the middle of a paced expire, prints
// the summary so far, exits 1, and a rerun finishes the job.
func TestRedisExpireSIGINT(t *testing.T) {
	const n = 10_000
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	fillUsers(t, c, "p:", n)
	run := startBinary(t, "--redis-url", s.URL(), "redis", "expire", "--prefix", "p:", "--delete", "--yes", "--rate", "4000")
	waitFewer(t, c, n-1000)
	r := run.interrupt(t, 10*time.Second)
	first := deletedCount(t, r, true)
	if r.Code != 1 || !strings.Contains(r.Stderr, "wsess: interrupted;") {
		t.Fatalf("after SIGINT: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if left := c.DBSize(context.Background()).Val(); first == 0 || int64(first) != n-left {
		t.Fatalf("the interrupted run says it deleted %d keys; %d of %d are left", first, left, n)
	}
	rerun := exec.Command("wsess", "--redis-url", s.URL(), "redis", "expire", "--prefix", "p:", "--delete", "--yes")
	b, err := rerun.Output()
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if second := deletedCount(t, cliResult{Stdout: string(b)}, false); first+second != n {
		t.Fatalf("rerun deleted %d after %d; want %d in all", second, first, n)
	}
}

// TestProgressText: the progress line on a terminal's stderr shows the rate,
// how far the walk is and the time left.
func TestProgressText(t *testing.T) {
	for _, tt := range []struct {
		p    manager.Progress
		verb string
		want string
	}{
		{manager.Progress{Summary: manager.Summary{Scanned: 2000, Changed: 1500}, Elapsed: time.Second, Total: 10000}, "changed",
			"scanned 2000  changed 1500  2000 keys/s  20%  ETA 4s"},
		{manager.Progress{Summary: manager.Summary{Scanned: 500, Matched: 10}, Elapsed: 2 * time.Second, Fraction: 0.25}, "matched",
			"scanned 500  matched 10  250 keys/s  25%  ETA 6s"},
		{manager.Progress{}, "listed", "scanned 0  listed 0  0 keys/s"},
	} {
		if got := progressText(tt.p, tt.verb); got != tt.want {
			t.Errorf("progressText(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestRedisStatsInterrupted: an interrupted stats prints the statistics of
// the keys seen so far, marked incomplete, and exits 1.
func TestRedisStatsInterrupted(t *testing.T) {
	const n = 10_000
	s := redistest.Start(t, redistest.Options{})
	fillUsers(t, s.Client(), "p:", n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		done <- runRedisCtx(t, ctx, "--redis-url", s.URL(), "redis", "stats", "--prefix", "p:", "--rate", "2000", "-o", "json")
	}()
	// Cancel once the paced walk (about 5 s) is under way: Redis has
	// described two batches (200 keys each at this rate).
	waitCalls(t, s.Client(), "pttl", 400)
	cancel()
	r := <-done
	var st struct {
		Complete bool  `json:"complete"`
		Keys     int64 `json:"keys"`
		Scanned  int64 `json:"scanned"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("stdout %q: %v", r.Stdout, err)
	}
	if r.Code != 1 || st.Complete || st.Keys == 0 || st.Keys >= n || st.Keys != st.Scanned || !strings.HasPrefix(r.Stderr, "wsess: interrupted;") {
		t.Fatalf("exit %d, %+v, stderr %q; want partial statistics marked incomplete and exit 1", r.Code, st, r.Stderr)
	}
}

// waitCalls polls INFO commandstats until the server has answered at
// least n calls of cmd (bounded: 10 s).
func waitCalls(t *testing.T, c *redis.Client, cmd string, n int) {
	t.Helper()
	re := regexp.MustCompile(`cmdstat_` + cmd + `:calls=(\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		info, err := c.Info(context.Background(), "commandstats").Result()
		if m := re.FindStringSubmatch(info); err == nil && m != nil {
			var k int
			fmt.Sscan(m[1], &k)
			if k >= n {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d calls of %s after 10 s", n, cmd)
}

// BenchmarkRedisRate measures the rate --rate holds through the CLI, in
// keys/s. The first batch (a tenth of a second's worth) starts at once, so
// n keys take about (n - rate/10)/rate: 5,000 keys at 10,000 keys/s report
// about 12,500 keys/s.
func BenchmarkRedisRate(b *testing.B) {
	const n, rate = 5_000, 10_000
	s := redistest.Start(b, redistest.Options{})
	ctx := context.Background()
	pipe := s.Client().Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf("p:s%06d", i), "{}", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ios, _, _, errOut := testIO()
		if code := run(ctx, []string{"--redis-url", s.URL(), "redis", "ls", "--prefix", "p:", "--keys-only", "--rate", fmt.Sprint(rate)}, ios, nil); code != 0 {
			b.Fatalf("exit %d: %s", code, errOut)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// TestRedisLsInterrupted: an interrupted ls keeps what it printed well formed
// (-o json closes its array) and exits 1.
func TestRedisLsInterrupted(t *testing.T) {
	const n = 10_000
	s := redistest.Start(t, redistest.Options{})
	fillUsers(t, s.Client(), "p:", n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		done <- runRedisCtx(t, ctx, "--redis-url", s.URL(), "redis", "ls", "--prefix", "p:", "--rate", "2000", "-o", "json")
	}()
	waitCalls(t, s.Client(), "pttl", 400)
	cancel()
	r := <-done
	var rows []struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
		t.Fatalf("stdout is not one JSON array: %v\n%s", err, r.Stdout)
	}
	if r.Code != 1 || len(rows) == 0 || len(rows) >= n || r.Stderr != "wsess: interrupted; the batch in flight was finished, nothing after it was started\n" {
		t.Fatalf("exit %d, %d rows, stderr %q; want some rows and exit 1", r.Code, len(rows), r.Stderr)
	}
}

// An expression that never ends (`def f: f; f`, `last(range(1e12))`) stops
// on Ctrl-C like any walk: the command's context reaches the jq
// evaluation, the command prints its house-style summary of an
// interrupted walk and exits 1, and nothing is counted as a where error.
// (Before, the evaluation ran without a context and the command never
// returned.)
func TestRedisWhereNeverEndingInterrupted(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	fillSessions(t, c, "p:", 3)
	const interrupted = "wsess: interrupted; the batch in flight was finished, nothing after it was started\n"
	for _, tt := range []struct {
		name  string
		args  []string
		check func(t *testing.T, r cliResult)
	}{
		{"ls", []string{"redis", "ls", "--prefix", "p:", "--where", "def f: f; f", "-o", "json"}, func(t *testing.T, r cliResult) {
			if r.Stdout != "[]\n" || r.Stderr != interrupted {
				t.Errorf("stdout %q, stderr %q; want an empty, closed array and %q", r.Stdout, r.Stderr, interrupted)
			}
		}},
		{"stats", []string{"redis", "stats", "--prefix", "p:", "--where", "last(range(1e12))", "-o", "json"}, func(t *testing.T, r cliResult) {
			var st struct {
				Complete     *bool `json:"complete"`
				Keys         int64 `json:"keys"`
				FilterErrors int64 `json:"where_errors"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.Complete == nil || *st.Complete || st.Keys != 0 || st.FilterErrors != 0 || r.Stderr != interrupted {
				t.Errorf("stdout %q (%v), stderr %q; want incomplete statistics without where errors and %q", r.Stdout, err, r.Stderr, interrupted)
			}
		}},
		{"expire", []string{"redis", "expire", "--prefix", "p:", "--delete", "--dry-run", "--where", "def f: f; f"}, func(t *testing.T, r cliResult) {
			want := `Interrupted: Would delete 0 keys under "p:", where "def f: f; f" (dry run: nothing changed); 3 scanned, 0 failed, 0 undecodable, 0 where errors` + "\n"
			rerun := strings.TrimSuffix(interrupted, "\n") + "; run the same command again to finish the job\n"
			if r.Stdout != want || r.Stderr != rerun {
				t.Errorf("stdout %q, stderr %q; want %q and %q", r.Stdout, r.Stderr, want, rerun)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan cliResult, 1)
			go func() {
				done <- runRedisCtx(t, ctx, append([]string{"--redis-url", s.URL()}, tt.args...)...)
			}()
			// The values are read (GET) just before the expression runs on them.
			waitCalls(t, c, "get", 1)
			cancel()
			var r cliResult
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the command did not return within 30 s of its context's cancellation")
			}
			if r.Code != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 1", r.Code, r.Stdout, r.Stderr)
			}
			r.Stderr = dropIdleNote(r.Stderr)
			tt.check(t, r)
		})
	}
}

// The same with a real SIGINT: wsess (this test binary running main, see
// TestMain) stops `ls --where 'def f: f; f'` and exits 1.
func TestRedisWhereNeverEndingSIGINT(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	fillSessions(t, c, "p:", 3)
	run := startBinary(t, "--redis-url", s.URL(), "redis", "ls", "--prefix", "p:", "--where", "def f: f; f")
	waitCalls(t, c, "get", 1)
	r := run.interrupt(t, 30*time.Second)
	want := "wsess: interrupted; the batch in flight was finished, nothing after it was started\n"
	if r.Code != 1 || r.Stdout != "" || dropIdleNote(r.Stderr) != want {
		t.Fatalf("after SIGINT: exit %d, stdout %q, stderr %q; want 1, nothing, %q", r.Code, r.Stdout, r.Stderr, want)
	}
}

// runningBinary is the wsess binary started by startBinary.
type runningBinary struct {
	cmd         *exec.Cmd
	out, errOut strings.Builder
}

// startBinary starts the wsess binary on PATH with args, no colour and
// no Redis URL from the environment; the test's end kills it.
func startBinary(t *testing.T, args ...string) *runningBinary {
	t.Helper()
	b := &runningBinary{cmd: exec.Command("wsess", args...)}
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.errOut
	b.cmd.Env = append(os.Environ(), envRedisURL+"=", "NO_COLOR=1")
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

// interrupt sends SIGINT and returns what the run printed and its exit
// code; it fails the test when the process does not stop within limit.
func (b *runningBinary) interrupt(t *testing.T, limit time.Duration) cliResult {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(limit):
		t.Fatalf("wsess did not stop within %v of SIGINT", limit)
	}
	return cliResult{Stdout: b.out.String(), Stderr: b.errOut.String(), Code: b.cmd.ProcessState.ExitCode()}
}
