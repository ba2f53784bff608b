package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

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

// serve runs one request through h: a fresh request and recorder per call.
func serve(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// firstCookie returns the "name=value" of the response's first Set-Cookie.
func firstCookie(tb testing.TB, w *httptest.ResponseRecorder) string {
	tb.Helper()
	sc := w.Result().Header.Values("Set-Cookie")
	if len(sc) == 0 {
		tb.Fatalf("no Set-Cookie (status %d, body %q)", w.Code, w.Body.String())
	}
	nv, _, _ := strings.Cut(sc[0], ";")
	return nv
}

type appCase struct {
	name  string
	redis bool
	make  func(tb testing.TB) App
}

func cookieApps() []appCase {
	return []appCase{
		{name: "bare", make: func(testing.TB) App { return Bare() }},
		{name: "wsess-cookie", make: func(tb testing.TB) App {
			a, err := WsessCookie()
			if err != nil {
				tb.Fatal(err)
			}
			return a
		}},
		{name: "gorilla", make: func(testing.TB) App { return Gorilla() }},
		{name: "scs-mem", make: func(testing.TB) App { return SCSMem() }},
	}
}

func redisApps() []appCase {
	return []appCase{
		{name: "wsess-redis", redis: true, make: func(tb testing.TB) App {
			a, err := WsessRedis(goRedis(tb))
			if err != nil {
				tb.Fatal(err)
			}
			return a
		}},
		{name: "scs-redis", redis: true, make: func(tb testing.TB) App {
			pool := NewRedigoPool(redisAddr, 16)
			tb.Cleanup(func() { pool.Close() })
			return SCSRedis(pool)
		}},
	}
}

func goRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb, err := NewGoRedis(context.Background(), redisAddr, 16)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

func allApps() []appCase { return append(cookieApps(), redisApps()...) }

// admin is a separate connection for FLUSHALL and INFO.
func admin(tb testing.TB) *redis.Client {
	tb.Helper()
	if redisAddr == "" {
		tb.Skip("no Redis")
	}
	return goRedis(tb)
}

// benchApp runs path through app, with no cookie (a new session each op) or
// with the cookie of a session made before the loop. Redis-backed apps also
// report Redis commands per op (INFO commandstats, scripts' inner commands
// included).
func benchApp(b *testing.B, c appCase, path string, existing bool) {
	var adm *redis.Client
	if c.redis {
		adm = admin(b)
		if err := adm.FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
	}
	app := c.make(b)
	defer app.Close()
	cookie := ""
	if existing && c.name != "bare" {
		w := serve(app.Handler, "/counter", "")
		cookie = firstCookie(b, w)
	}
	// Warm up pools and caches outside the measurement.
	for range 10 {
		serve(app.Handler, path, cookie)
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
		w := serve(app.Handler, path, cookie)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		ops++
	}
	b.ReportMetric(float64(testutil.CPUTime()-cpu)/float64(ops), "cpu-ns/op")
	if cookie != "" && !c.redis && c.name != "scs-mem" {
		b.ReportMetric(float64(len(cookie)), "cookie-B")
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

// BenchmarkCounter is weppy's /counter: read an int, add one, write it back.
func BenchmarkCounter(b *testing.B) {
	for _, c := range allApps() {
		for _, existing := range []bool{false, true} {
			if c.name == "bare" && existing {
				continue
			}
			name := c.name + "/new"
			if existing {
				name = c.name + "/existing"
			}
			b.Run(name, func(b *testing.B) { benchApp(b, c, "/counter", existing) })
		}
	}
}

// BenchmarkRead loads an existing session and changes nothing.
func BenchmarkRead(b *testing.B) {
	for _, c := range allApps() {
		b.Run(c.name+"/existing", func(b *testing.B) { benchApp(b, c, "/read", true) })
	}
}

// BenchmarkRoundTrips counts Redis round trips per request through a
// counting proxy (its ns/op include the proxy hop: read the timings from
// BenchmarkCounter and BenchmarkRead). It also reports the commands per
// request.
func BenchmarkRoundTrips(b *testing.B) {
	cases := []struct{ path, name string }{{"/counter", "counter"}, {"/read", "read"}}
	for _, c := range redisApps() {
		for _, p := range cases {
			b.Run(c.name+"/"+p.name, func(b *testing.B) {
				adm := admin(b)
				proxy, err := StartProxy(redisAddr)
				if err != nil {
					b.Fatal(err)
				}
				defer proxy.Close()
				saved := redisAddr
				redisAddr = proxy.Addr
				app := c.make(b)
				redisAddr = saved
				defer app.Close()
				cookie := firstCookie(b, serve(app.Handler, "/counter", ""))
				for range 10 {
					serve(app.Handler, p.path, cookie)
				}
				before, err := CommandStats(context.Background(), adm)
				if err != nil {
					b.Fatal(err)
				}
				trips := proxy.RoundTrips()
				ops := 0
				for b.Loop() {
					if w := serve(app.Handler, p.path, cookie); w.Code != http.StatusOK {
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
	for _, c := range allApps() {
		t.Run(c.name, func(t *testing.T) {
			if c.redis && redisAddr == "" {
				t.Skip("no Redis")
			}
			app := c.make(t)
			defer app.Close()
			w := serve(app.Handler, "/counter", "")
			if got := w.Body.String(); w.Code != 200 || got != "This is your 1 visit" {
				t.Fatalf("first /counter: %d %q", w.Code, got)
			}
			if c.name == "bare" {
				return
			}
			cookie := firstCookie(t, w)
			w = serve(app.Handler, "/counter", cookie)
			if got := w.Body.String(); got != "This is your 2 visit" {
				t.Fatalf("second /counter: %q", got)
			}
			if !c.redis && c.name != "scs-mem" {
				cookie = firstCookie(t, w) // cookie stores carry the count
			}
			w = serve(app.Handler, "/read", cookie)
			if got := w.Body.String(); got != "This is your 2 visit" {
				t.Fatalf("/read: %q", got)
			}
		})
	}
}
