package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/testutil"
)

// redisAddr is the Redis server of the Redis benchmarks: WSESS_BENCH_REDIS_ADDR
// (run.sh passes its own) or a redis-server started by TestMain. Empty when
// neither is available: the Redis benchmarks skip.
var redisAddr string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	redisAddr = os.Getenv("WSESS_BENCH_REDIS_ADDR")
	if redisAddr == "" {
		srv, err := StartRedis(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: no Redis, skipping the Redis benchmarks:", err)
		} else {
			defer srv.Stop()
			redisAddr = srv.Addr
		}
	}
	return m.Run()
}

func serve(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	return Serve(h, path, cookie)
}

func firstCookie(tb testing.TB, w *httptest.ResponseRecorder) string {
	tb.Helper()
	c, err := FirstCookie(w)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// prepare is Prepare for a benchmark or test: it skips a Redis app when
// there is no Redis, and closes the app at the end.
func prepare(tb testing.TB, addr, app, kind, path string) *Prepared {
	tb.Helper()
	p, err := Prepare(context.Background(), addr, app, kind, path)
	if errors.Is(err, ErrNoRedis) {
		tb.Skip("no Redis")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func goRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb, err := NewGoRedis(context.Background(), redisAddr, PoolSize)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// admin is a separate connection for FLUSHALL and INFO.
func admin(tb testing.TB) *redis.Client {
	tb.Helper()
	if redisAddr == "" {
		tb.Skip("no Redis")
	}
	return goRedis(tb)
}

// benchApp runs the requests of app with a session of kind to path. It
// reports cpu-ns/op beside ns/op (the process's CPU time around the loop),
// and for the Redis apps the Redis commands per op (INFO commandstats,
// scripts' inner commands included).
func benchApp(b *testing.B, app, kind, path string) {
	var adm *redis.Client
	if RedisApp(app) {
		adm = admin(b)
		if err := adm.FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
	}
	p := prepare(b, redisAddr, app, kind, path)
	// Warm up pools and caches outside the measurement.
	for range 10 {
		serve(p.App.Handler, path, p.Cookie)
	}
	var before map[string]int64
	if adm != nil {
		var err error
		if before, err = CommandStats(context.Background(), adm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	ops := 0
	cpu := testutil.CPUTime()
	for b.Loop() {
		w := serve(p.App.Handler, path, p.Cookie)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		ops++
	}
	b.ReportMetric(float64(testutil.CPUTime()-cpu)/float64(ops), "cpu-ns/op")
	if p.Cookie != "" && (app == "wsess-cookie" || app == "gorilla") {
		b.ReportMetric(float64(len(p.Cookie)), "cookie-B")
	}
	if adm != nil {
		after, err := CommandStats(context.Background(), adm)
		if err != nil {
			b.Fatal(err)
		}
		var total int64
		for _, n := range CommandDiff(before, after) {
			total += n
		}
		b.ReportMetric(float64(total)/float64(ops), "rediscmds/op")
	}
}

// benchCase is one sub-benchmark: an app and the session it is sent.
type benchCase struct{ app, kind string }

// runGroups runs the requests to path of each group's cases, one group
// after the other.
func runGroups(b *testing.B, path string, groups [][]benchCase) {
	for _, g := range groups {
		for _, c := range g {
			b.Run(c.app+"/"+c.kind, func(b *testing.B) { benchApp(b, c.app, c.kind, path) })
		}
	}
}

// These go test benchmarks time each app alone, the way go test does;
// bench/cmd/inproc, which run.sh and bench/compare run, serves the apps of
// a group interleaved request by request instead (Interleave).

// BenchmarkCounter is weppy's /counter: read an int, add one, write it back.
// Groups: the cookie stores and the bare handler; the Redis stores and
// their floor (GETEX, SET); new sessions.
func BenchmarkCounter(b *testing.B) {
	runGroups(b, "/counter", [][]benchCase{
		{{"bare", KindExisting}, {"wsess-cookie", KindExisting}, {"gorilla", KindExisting}, {"scs-mem", KindExisting}},
		{{"redis-floor", KindExisting}, {"wsess-redis", KindExisting}, {"scs-redis", KindExisting}},
		{{"wsess-cookie", KindNew}, {"gorilla", KindNew}, {"scs-mem", KindNew}, {"wsess-redis", KindNew}, {"scs-redis", KindNew}},
	})
}

// BenchmarkRead loads an existing session and changes nothing. Groups: the
// cookie stores and the bare handler; the Redis stores and their floor (one
// GETEX), for an anonymous and a logged-in session.
func BenchmarkRead(b *testing.B) {
	runGroups(b, "/read", [][]benchCase{
		{{"bare", KindExisting}, {"wsess-cookie", KindExisting}, {"gorilla", KindExisting}, {"scs-mem", KindExisting}},
		{{"redis-floor", KindExisting}, {"wsess-redis", KindExisting}, {"wsess-redis", KindLoggedIn},
			{"redis-floor", KindLoggedIn}, {"scs-redis", KindExisting}},
	})
}

// BenchmarkRoundTrips counts Redis round trips per request through a
// counting proxy (its ns/op include the proxy hop: read the timings from
// BenchmarkCounter and BenchmarkRead). It also reports the commands per
// request.
func BenchmarkRoundTrips(b *testing.B) {
	cases := []struct{ path, name string }{{"/counter", "counter"}, {"/read", "read"}}
	for _, app := range []string{"wsess-redis", "scs-redis"} {
		for _, p := range cases {
			b.Run(app+"/"+p.name, func(b *testing.B) {
				adm := admin(b)
				proxy, err := StartProxy(redisAddr)
				if err != nil {
					b.Fatal(err)
				}
				defer proxy.Close()
				a := prepare(b, proxy.Addr, app, KindExisting, p.path)
				cookie := a.Cookie
				for range 10 {
					serve(a.App.Handler, p.path, cookie)
				}
				before, err := CommandStats(context.Background(), adm)
				if err != nil {
					b.Fatal(err)
				}
				trips := proxy.RoundTrips()
				ops := 0
				for b.Loop() {
					if w := serve(a.App.Handler, p.path, cookie); w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					ops++
				}
				trips = proxy.RoundTrips() - trips
				after, err := CommandStats(context.Background(), adm)
				if err != nil {
					b.Fatal(err)
				}
				diff := CommandDiff(before, after)
				var total int64
				for _, n := range diff {
					total += n
				}
				b.ReportMetric(float64(trips)/float64(ops), "roundtrips/op")
				b.ReportMetric(float64(total)/float64(ops), "rediscmds/op")
				if ops >= 100 {
					names := make([]string, 0, len(diff))
					for k, n := range diff {
						names = append(names, fmt.Sprintf("%s=%.2f", k, float64(n)/float64(ops)))
					}
					sort.Strings(names)
					b.Logf("commands per request: %s", strings.Join(names, " "))
				}
			})
		}
	}
}

// TestApps checks that every app counts and reads back, so a benchmark never
// measures an error page.
func TestApps(t *testing.T) {
	for _, app := range []string{"bare", "wsess-cookie", "gorilla", "scs-mem", "wsess-redis", "scs-redis"} {
		t.Run(app, func(t *testing.T) {
			p := prepare(t, redisAddr, app, KindNew, "/counter")
			h := p.App.Handler
			w := serve(h, "/counter", "")
			if got := w.Body.String(); w.Code != 200 || got != "This is your 1 visit" {
				t.Fatalf("first /counter: %d %q", w.Code, got)
			}
			if app == "bare" {
				return
			}
			cookie := firstCookie(t, w)
			w = serve(h, "/counter", cookie)
			if got := w.Body.String(); got != "This is your 2 visit" {
				t.Fatalf("second /counter: %q", got)
			}
			if !RedisApp(app) && app != "scs-mem" {
				cookie = firstCookie(t, w) // cookie stores carry the count
			}
			w = serve(h, "/read", cookie)
			if got := w.Body.String(); got != "This is your 2 visit" {
				t.Fatalf("/read: %q", got)
			}
		})
	}
}

// TestPrepare checks the sessions Prepare makes: each app answers its
// prepared request, a logged-in wsess session reads back, the bare handler
// is sent BareCookie and a new session no cookie.
func TestPrepare(t *testing.T) {
	for _, tt := range []struct {
		app, kind, path, body string
	}{
		{"bare", KindExisting, "/read", "This is your 1 visit"},
		{"wsess-cookie", KindExisting, "/read", "This is your 1 visit"},
		{"wsess-cookie", KindLoggedIn, "/read", "This is your 1 visit"},
		{"wsess-cookie", KindNew, "/counter", "This is your 1 visit"},
		{"gorilla", KindExisting, "/counter", "This is your 2 visit"},
		{"scs-mem", KindExisting, "/read", "This is your 1 visit"},
		{"wsess-redis", KindLoggedIn, "/read", "This is your 1 visit"},
		{"wsess-redis", KindExisting, "/counter", "This is your 2 visit"},
		{"scs-redis", KindExisting, "/read", "This is your 1 visit"},
		{"redis-floor", KindLoggedIn, "/read", "This is your 1 visit"},
	} {
		t.Run(tt.app+"/"+tt.kind+tt.path, func(t *testing.T) {
			p := prepare(t, redisAddr, tt.app, tt.kind, tt.path)
			switch {
			case tt.kind == KindNew && p.Cookie != "":
				t.Fatalf("new session sent cookie %q", p.Cookie)
			case tt.kind != KindNew && p.Cookie == "":
				t.Fatal("no cookie")
			case tt.app == "bare" && p.Cookie != BareCookie:
				t.Fatalf("bare sent %q", p.Cookie)
			}
			if w := serve(p.App.Handler, p.Path, p.Cookie); w.Code != 200 || w.Body.String() != tt.body {
				t.Fatalf("%s: %d %q, want %q", tt.path, w.Code, w.Body.String(), tt.body)
			}
		})
	}
	if _, err := Prepare(context.Background(), "", "wsess-redis", KindExisting, "/read"); !errors.Is(err, ErrNoRedis) {
		t.Fatalf("Redis app without Redis: %v, want ErrNoRedis", err)
	}
	if _, err := Prepare(context.Background(), redisAddr, "nope", KindExisting, "/read"); err == nil {
		t.Fatal("unknown app: no error")
	}
}

// fakeClocks are clocks that advance by step at each read, and by what a
// fake app adds.
type fakeClocks struct{ wall, cpu, step int64 }

func (f *fakeClocks) clocks() clocks {
	return clocks{
		wall: func() int64 { f.wall += f.step; return f.wall },
		cpu:  func() int64 { f.cpu += f.step; return f.cpu },
	}
}

// TestInterleave checks Interleave's bookkeeping on fake clocks: every app
// is measured as often, a request's time is what it added to the clocks
// (the reads' own cost taken off), the turns alternate, and an app that
// answers another status than 200 is an error.
func TestInterleave(t *testing.T) {
	fc := &fakeClocks{step: 7}
	var turns []string
	fake := func(name string, wall, cpu int64) *Prepared {
		return &Prepared{Name: name, Path: "/read", App: App{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fc.wall += wall
			fc.cpu += cpu
			if len(turns) < 6 {
				turns = append(turns, name)
			}
		}), Close: func() {}}}
	}
	a, b := fake("a", 1000, 600), fake("b", 50000, 40000)
	o := InterleaveOptions{PerApp: 10 * time.Millisecond, ThreadCPU: true}
	ms, err := interleave([]*Prepared{a, b}, o, fc.clocks())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "a" || ms[1].Name != "b" {
		t.Fatalf("measurements %+v", ms)
	}
	if ms[0].N != ms[1].N || ms[0].N < 100 {
		t.Fatalf("requests measured: %d and %d, want the same, at least 100", ms[0].N, ms[1].N)
	}
	for i, want := range []struct{ wall, cpu float64 }{{1000, 600}, {50000, 40000}} {
		m := ms[i]
		if m.WallP50 != want.wall || m.WallMean != want.wall || m.CPUP50 != want.cpu || m.CPUMean != want.cpu {
			t.Errorf("%s: wall %v/%v cpu %v/%v, want wall %v cpu %v", m.Name, m.WallP50, m.WallMean, m.CPUP50, m.CPUMean, want.wall, want.cpu)
		}
	}
	if got := strings.Join(turns, " "); got != "a b a b a b" {
		t.Errorf("turns %q, want a b a b a b", got)
	}

	ms, err = interleave([]*Prepared{a, b}, InterleaveOptions{PerApp: time.Millisecond}, fc.clocks())
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(ms[0].CPUP50) || !math.IsNaN(ms[0].CPUMean) {
		t.Errorf("CPU measured without ThreadCPU: %+v", ms[0])
	}

	failing := &Prepared{Name: "failing", Path: "/read", App: App{Handler: http.NotFoundHandler(), Close: func() {}}}
	if _, err := interleave([]*Prepared{a, failing}, o, fc.clocks()); err == nil {
		t.Fatal("an app answering 404: no error")
	}
	// The real clocks run too.
	bare := prepare(t, "", "bare", KindExisting, "/read")
	ms, err = Interleave([]*Prepared{bare}, InterleaveOptions{PerApp: time.Millisecond, ThreadCPU: true})
	if err != nil || ms[0].N == 0 {
		t.Fatalf("real clocks: %v, %+v", err, ms)
	}
}

// allocSink keeps TestAllocs's allocations on the heap.
var allocSink *[64]byte

// TestAllocs checks Allocs against apps whose allocations differ by a
// known number.
func TestAllocs(t *testing.T) {
	bare := prepare(t, "", "bare", KindExisting, "/read")
	counts := make([]float64, 2)
	for i, k := range []int{0, 5} {
		more := &Prepared{Name: "more", Path: "/read", App: App{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range k {
				allocSink = new([64]byte)
			}
			bare.App.Handler.ServeHTTP(w, r)
		}), Close: func() {}}}
		n, b, err := Allocs(more, 200)
		if err != nil {
			t.Fatal(err)
		}
		if n <= 0 || b <= 0 {
			t.Fatalf("%d more: %.2f allocs, %.0f B", k, n, b)
		}
		counts[i] = n
	}
	if d := counts[1] - counts[0]; d < 4.5 || d > 5.5 {
		t.Fatalf("5 more allocations counted as %.2f more (%v)", d, counts)
	}
}

// TestRedisFloor checks that the floors GETEX (and SET) the key of the
// wsess session they were made for, sliding its TTL and leaving it
// readable by wsess, and fail on a key that is not there.
func TestRedisFloor(t *testing.T) {
	adm := admin(t)
	ctx := context.Background()
	for _, kind := range []string{KindExisting, KindLoggedIn} {
		for _, write := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/write=%v", kind, write), func(t *testing.T) {
				rdb := goRedis(t)
				w, err := WsessRedis(rdb)
				if err != nil {
					t.Fatal(err)
				}
				path := "/counter"
				if kind == KindLoggedIn {
					path = "/login"
				}
				cookie := firstCookie(t, serve(w.Handler, path, ""))
				_, id, _ := strings.Cut(cookie, "=")
				key := WsessRedisKey(id)
				before, err := adm.Get(ctx, key).Result()
				if err != nil {
					t.Fatalf("the session's key %s: %v", key, err)
				}
				if err := adm.Expire(ctx, key, time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
				floor := RedisFloor(rdb, key, write)
				if rec := serve(floor.Handler, "/read", cookie); rec.Code != 200 {
					t.Fatalf("floor: %d %q", rec.Code, rec.Body.String())
				}
				if ttl := adm.TTL(ctx, key).Val(); ttl <= time.Minute {
					t.Fatalf("TTL %v after the floor, want it slid to %v", ttl, Expire)
				}
				if after := adm.Get(ctx, key).Val(); after != before {
					t.Fatalf("value changed by the floor: %q, was %q", after, before)
				}
				if rec := serve(w.Handler, "/read", cookie); rec.Body.String() != "This is your 1 visit" {
					t.Fatalf("wsess /read after the floor: %d %q", rec.Code, rec.Body.String())
				}
				missing := RedisFloor(rdb, key+"-missing", write)
				if rec := serve(missing.Handler, "/read", cookie); rec.Code != http.StatusInternalServerError {
					t.Fatalf("floor on a missing key: %d, want 500", rec.Code)
				}
			})
		}
	}
}
