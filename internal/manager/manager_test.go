package manager_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
)

const (
	prefix  = "wppsess:"
	other   = "other:"
	nMain   = 100_000
	nOther  = 1_000
	payload = `{"counter": 7, "user": "someone"}`
)

// fill writes n string keys prefix+i (no TTL unless ttl > 0) with pipelines.
func fill(tb testing.TB, c redis.UniversalClient, prefix string, n int, ttl time.Duration) {
	tb.Helper()
	fillSessions(tb, c, prefix, n, func(int) string { return payload }, func(int) time.Duration { return ttl })
}

type backend struct {
	name  string
	start func(t *testing.T) redis.UniversalClient
}

var backends = []backend{
	{"single", func(t *testing.T) redis.UniversalClient { return redistest.Start(t, redistest.Options{}).Client() }},
	{"cluster", func(t *testing.T) redis.UniversalClient { return redistest.StartCluster(t, 3).Client() }},
}

// collect returns every key a Scan reports, failing on duplicates: while
// the keyspace only grew, SCAN returns each key once.
func collect(t *testing.T, m *manager.Manager, opts manager.ScanOptions) map[string]bool {
	t.Helper()
	return scanKeys(t, m, opts, true)
}

// collectAfterDeletes returns the distinct keys a Scan reports. After a
// mass delete Redis shrinks its hash table, and SCAN may then report a key
// twice (documented SCAN behaviour), so duplicates are not an error here.
func collectAfterDeletes(t *testing.T, m *manager.Manager, opts manager.ScanOptions) map[string]bool {
	t.Helper()
	return scanKeys(t, m, opts, false)
}

func scanKeys(t *testing.T, m *manager.Manager, opts manager.ScanOptions, unique bool) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	err := m.Scan(context.Background(), opts, func(keys []string) error {
		for _, k := range keys {
			if seen[k] && unique {
				t.Errorf("key %q reported twice", k)
			}
			seen[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return seen
}

// ttls returns the TTL of every key under p, through List.
func ttls(t *testing.T, m *manager.Manager, p string) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	err := m.List(context.Background(), manager.ScanOptions{Prefix: p}, func(infos []manager.Info) error {
		for _, inf := range infos {
			if inf.Err != nil {
				return inf.Err
			}
			out[inf.Key] = inf.TTL
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List %s: %v", p, err)
	}
	return out
}

// TestLifecycle runs the steps in order on one data set per backend: each
// step starts from the state the previous one left.
func TestLifecycle(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			c := be.start(t)
			fill(t, c, prefix, nMain, 0)
			fill(t, c, other, nOther, 0)
			m := manager.New(c)

			t.Run("Scan", func(t *testing.T) {
				if got := len(collect(t, m, manager.ScanOptions{Prefix: prefix})); got != nMain {
					t.Errorf("Scan %s: %d keys, want %d", prefix, got, nMain)
				}
				if got := len(collect(t, m, manager.ScanOptions{Prefix: other, Count: 10})); got != nOther {
					t.Errorf("Scan %s: %d keys, want %d", other, got, nOther)
				}
				if got := len(collect(t, m, manager.ScanOptions{Prefix: prefix, Match: "99*"})); got != 1111 {
					t.Errorf("Scan %s with Match 99*: %d keys, want 1111", prefix, got)
				}
			})

			t.Run("List", func(t *testing.T) {
				var n int
				err := m.List(ctx, manager.ScanOptions{Prefix: prefix}, func(infos []manager.Info) error {
					for _, inf := range infos {
						n++
						// The length, or MEMORY USAGE (more) where there is no
						// CLIENT NO-TOUCH.
						sized := inf.Size == int64(len(payload)) || inf.SizeIsMemory && inf.Size > int64(len(payload))
						if inf.TTL != manager.NoExpiry || !sized || inf.Type != "string" || inf.Err != nil || inf.Idle < 0 {
							return fmt.Errorf("unexpected %+v", inf)
						}
					}
					return nil
				})
				if err != nil || n != nMain {
					t.Fatalf("List: %d keys, %v; want %d", n, err, nMain)
				}
			})

			t.Run("DryRun", func(t *testing.T) {
				s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true, DryRun: true})
				want := manager.Summary{Scanned: nMain, Matched: nMain}
				if err != nil || s != want {
					t.Fatalf("dry run: %+v, %v; want %+v", s, err, want)
				}
				if got := len(collect(t, m, manager.ScanOptions{Prefix: prefix})); got != nMain {
					t.Fatalf("after a dry run %d keys remain, want %d", got, nMain)
				}
			})

			t.Run("ExpireTTL", func(t *testing.T) {
				var last manager.Progress
				calls := 0
				s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: 60 * time.Second,
					Progress: func(p manager.Progress) { last = p; calls++ }})
				want := manager.Summary{Scanned: nMain, Matched: nMain, Changed: nMain}
				if err != nil || s != want {
					t.Fatalf("expire: %+v, %v; want %+v", s, err, want)
				}
				if calls == 0 || last.Summary != s {
					t.Errorf("progress: %d calls, last %+v; want the final summary %+v", calls, last.Summary, s)
				}
				got := ttls(t, m, prefix)
				if len(got) != nMain {
					t.Fatalf("%d keys under %s, want %d", len(got), prefix, nMain)
				}
				for k, ttl := range got {
					if ttl <= 0 || ttl > 60*time.Second {
						t.Fatalf("%s: TTL %v, want 0 < TTL <= 60s", k, ttl)
					}
				}
				for k, ttl := range ttls(t, m, other) {
					if ttl != manager.NoExpiry {
						t.Fatalf("%s (other prefix): TTL %v, want none", k, ttl)
					}
				}
			})

			t.Run("Delete", func(t *testing.T) {
				n, err := m.DeletePrefix(ctx, prefix, 0)
				if err != nil || n != nMain {
					t.Fatalf("DeletePrefix: %d, %v; want %d", n, err, nMain)
				}
				if got := len(collectAfterDeletes(t, m, manager.ScanOptions{Prefix: prefix})); got != 0 {
					t.Errorf("%d keys remain under %s", got, prefix)
				}
				if got := len(collectAfterDeletes(t, m, manager.ScanOptions{Prefix: other})); got != nOther {
					t.Errorf("%d keys under %s, want %d untouched", got, other, nOther)
				}
				if got := len(collectAfterDeletes(t, m, manager.ScanOptions{})); got != nOther {
					t.Errorf("%d keys in the database, want %d", got, nOther)
				}
			})
		})
	}
}

func TestIdleFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for keys to become idle")
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			c := be.start(t)
			m := manager.New(c)
			fill(t, c, "s:old:", 200, 0)
			// Redis tracks idle time in whole seconds off a clock updated by
			// its cron: wait long enough for the old keys to be >= 2s idle.
			time.Sleep(3200 * time.Millisecond)
			fill(t, c, "s:new:", 50, 0)

			s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: "s:", Delete: true, Idle: 2 * time.Second, DryRun: true})
			if want := (manager.Summary{Scanned: 250, Matched: 200}); err != nil || s != want {
				t.Fatalf("dry run: %+v, %v; want %+v", s, err, want)
			}
			s, err = m.Expire(ctx, manager.ExpireOptions{Prefix: "s:", TTL: time.Hour, Idle: 2 * time.Second, Batch: 7})
			if want := (manager.Summary{Scanned: 250, Matched: 200, Changed: 200}); err != nil || s != want {
				t.Fatalf("expire: %+v, %v; want %+v", s, err, want)
			}
			for k, ttl := range ttls(t, m, "s:new:") {
				if ttl != manager.NoExpiry {
					t.Fatalf("%s: a fresh key got TTL %v", k, ttl)
				}
			}
			// ttls read the keys again (on Redis < 7.2 that resets the
			// idle clock of all of them); delete the idle ones: none.
			s, err = m.Expire(ctx, manager.ExpireOptions{Prefix: "s:", Delete: true, Idle: time.Hour})
			if want := (manager.Summary{Scanned: 250}); err != nil || s != want {
				t.Fatalf("delete idle >= 1h: %+v, %v; want %+v", s, err, want)
			}
		})
	}
}

func TestGlobPrefix(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t, redistest.Options{}).Client()
	m := manager.New(c)
	literal := `a*[x]?\:`
	for _, k := range []string{literal + "1", literal + "2", `abx]?\:3`, `a*x?\:4`, `aa[x]?\:5`, `a*[x]?\`} {
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, m, manager.ScanOptions{Prefix: literal})
	if len(got) != 2 || !got[literal+"1"] || !got[literal+"2"] {
		t.Fatalf("Scan %q: %v; want only the two literal keys", literal, got)
	}
	n, err := m.DeletePrefix(ctx, literal, 0)
	if err != nil || n != 2 {
		t.Fatalf("DeletePrefix %q: %d, %v; want 2", literal, n, err)
	}
	if left := collectAfterDeletes(t, m, manager.ScanOptions{}); len(left) != 4 {
		t.Fatalf("after delete: %v; want the 4 other keys", left)
	}
}

func TestEscapeGlob(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wppsess:", "wppsess:"},
		{"a*b", `a\*b`},
		{`[x]?\`, `\[x\]\?\\`},
		{"", ""},
	} {
		if got := manager.EscapeGlob(tc.in); got != tc.want {
			t.Errorf("EscapeGlob(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := manager.Pattern("p*:", ""); got != `p\*:*` {
		t.Errorf("Pattern = %q", got)
	}
	if got := manager.Pattern("p:", "ab?"); got != `p:ab?` {
		t.Errorf("Pattern with match = %q", got)
	}
}

func TestGetDescribeStats(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c := be.start(t)
			m := manager.New(c)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(c.Set(ctx, "p:a", payload, time.Hour).Err())
			must(c.Set(ctx, "p:b", string(make([]byte, 2000)), 30*time.Second).Err())
			must(c.Set(ctx, "p:c", "x", 0).Err())
			must(c.HSet(ctx, "p:h", "f", "v").Err())

			val, inf, err := m.Get(ctx, "p:a")
			if err != nil || string(val) != payload || inf.Size != int64(len(payload)) || inf.TTL <= 59*time.Minute || inf.TTL > time.Hour || inf.Type != "string" {
				t.Fatalf("Get: %q %+v %v", val, inf, err)
			}
			if _, _, err := m.Get(ctx, "p:missing"); !errors.Is(err, manager.ErrNotFound) {
				t.Fatalf("Get missing: %v, want ErrNotFound", err)
			}
			if ttl := c.PTTL(ctx, "p:a").Val(); ttl <= 59*time.Minute {
				t.Fatalf("TTL after Get: %v", ttl)
			}

			infos, err := m.Describe(ctx, []string{"p:b", "p:c", "p:h", "p:missing"})
			if err != nil || len(infos) != 4 {
				t.Fatalf("Describe: %+v, %v", infos, err)
			}
			// The length, or where reading it would reset the idle time (no
			// CLIENT NO-TOUCH), MEMORY USAGE: more than the length.
			sized := func(i manager.Info, n int64) bool {
				if i.SizeIsMemory {
					return i.Size > n && i.Memory == i.Size
				}
				return i.Size == n
			}
			if i := infos[0]; i.Key != "p:b" || !sized(i, 2000) || i.TTL <= 0 || i.TTL > 30*time.Second {
				t.Errorf("p:b: %+v", i)
			}
			if i := infos[1]; !sized(i, 1) || i.TTL != manager.NoExpiry || i.Type != "string" {
				t.Errorf("p:c: %+v", i)
			}
			if i := infos[2]; i.Size != -1 || i.Type != "hash" || i.Err != nil {
				t.Errorf("p:h: %+v", i)
			}
			if i := infos[3]; i.TTL != manager.Missing || i.Type != "none" {
				t.Errorf("p:missing: %+v", i)
			}

			// With values the size is the value's length (no STRLEN):
			// the same sizes and types as without.
			values := map[string]string{}
			described := map[string]string{}
			wantDescribed := map[string]string{"p:a": fmt.Sprintf("string %d", len(payload)), "p:b": "string 2000", "p:c": "string 1", "p:h": "hash -1"}
			err = m.List(ctx, manager.ScanOptions{Prefix: "p:", Values: true}, func(infos []manager.Info) error {
				for _, inf := range infos {
					values[inf.Key] = string(inf.Value)
					described[inf.Key] = fmt.Sprintf("%s %d", inf.Type, inf.Size)
				}
				return nil
			})
			if err != nil || len(values) != 4 || values["p:a"] != payload || values["p:c"] != "x" || values["p:h"] != "" {
				t.Errorf("List with values: %v, %v", values, err)
			}
			if fmt.Sprint(described) != fmt.Sprint(wantDescribed) {
				t.Errorf("List with values described %v, want %v", described, wantDescribed)
			}

			st, err := m.Stats(ctx, manager.ScanOptions{Prefix: "p:"})
			if err != nil {
				t.Fatal(err)
			}
			if st.SizeIsMemory != infos[0].SizeIsMemory {
				t.Errorf("Stats.SizeIsMemory %v, Describe's %v", st.SizeIsMemory, infos[0].SizeIsMemory)
			}
			if st.Keys != 4 || st.Strings != 3 {
				t.Errorf("Stats: %+v", st)
			}
			if !st.SizeIsMemory && (st.Bytes != int64(len(payload)+2000+1) || st.MinSize != 1 || st.MaxSize != 2000) ||
				st.SizeIsMemory && (st.Bytes <= int64(len(payload)+2000+1) || st.MinSize <= 1 || st.MaxSize <= 2000 || st.Memory.Estimated != st.Bytes) {
				t.Errorf("Stats sizes: %+v", st)
			}
			counts := func(bs []manager.Bucket) map[string]int64 {
				out := map[string]int64{}
				for _, b := range bs {
					if b.Count > 0 {
						out[b.Label] = b.Count
					}
				}
				return out
			}
			if got, want := fmt.Sprint(counts(st.TTL)), fmt.Sprint(map[string]int64{"<1m": 1, "<1h": 1, "none": 2}); got != want {
				t.Errorf("TTL buckets %s, want %s", got, want)
			}
			wantSizes := map[string]int64{"<64B": 2, "<4KiB": 1, "other": 1}
			if st.SizeIsMemory { // 1 byte and 47 take 64 bytes or more of memory
				wantSizes = map[string]int64{"<256B": 2, "<4KiB": 1, "other": 1}
			}
			if got, want := fmt.Sprint(counts(st.Size)), fmt.Sprint(wantSizes); got != want {
				t.Errorf("size buckets %s, want %s", got, want)
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	m := manager.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	for _, o := range []manager.ExpireOptions{
		{Delete: true},
		{Prefix: "p:"},
		{Prefix: "p:", Delete: true, TTL: time.Second},
		{Prefix: "p:", TTL: -time.Second},
		{Prefix: "p:", Delete: true, Idle: -time.Second},
	} {
		if _, err := m.Expire(context.Background(), o); !errors.Is(err, manager.ErrInvalidOptions) {
			t.Errorf("Expire(%+v): %v, want ErrInvalidOptions", o, err)
		}
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("single", func(t *testing.T) {
		s := redistest.Start(t, redistest.Options{})
		c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
		t.Cleanup(func() { _ = c.Close() })
		fill(t, c, prefix, 10, 0)
		s.Stop()
		m := manager.New(c)
		checkUnavailable(t, m)
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t, 3)
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), MaxRetries: -1, MaxRedirects: -1, DialTimeout: time.Second})
		t.Cleanup(func() { _ = c.Close() })
		fill(t, c, prefix, 100, 0)
		cl.StopMaster(1)
		checkUnavailable(t, manager.New(c))
	})
	_ = ctx
}

func checkUnavailable(t *testing.T, m *manager.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := map[string]error{
		"Scan":   m.Scan(ctx, manager.ScanOptions{Prefix: prefix}, func([]string) error { return nil }),
		"List":   m.List(ctx, manager.ScanOptions{Prefix: prefix}, func([]manager.Info) error { return nil }),
		"Stats":  func() error { _, err := m.Stats(ctx, manager.ScanOptions{Prefix: prefix}); return err }(),
		"Expire": func() error { _, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true}); return err }(),
	}
	for op, err := range errs {
		if !errors.Is(err, manager.ErrUnavailable) {
			t.Errorf("%s on a stopped server: %v, want ErrUnavailable", op, err)
		}
	}
}

// TestCallbackError checks that an error from the callback stops the walk
// and comes back as is.
func TestCallbackError(t *testing.T) {
	c := redistest.Start(t, redistest.Options{}).Client()
	fill(t, c, prefix, 5000, 0)
	m := manager.New(c)
	stop := errors.New("stop")
	calls := 0
	err := m.Scan(context.Background(), manager.ScanOptions{Prefix: prefix, Count: 100}, func([]string) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("Scan: %v after %d calls; want the callback's error after 1", err, calls)
	}
}
