package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

func benchCounter(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	n := s.Int("counter") + 1
	s.Set("counter", n)
	fmt.Fprintf(w, "This is your %d visit", n)
}

func benchRead(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "This is your %d visit", session.From(r.Context()).Int("counter"))
}

// runBench serves b.N fresh requests carrying cookie (none when empty).
func runBench(b *testing.B, h http.Handler, name, cookie string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/counter", nil)
		if cookie != "" {
			req.Header.Set("Cookie", name+"="+cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkCookie(b *testing.B) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		b.Fatal(err)
	}
	existing, _ := m.Seal(map[string]any{"counter": 41}, 0)
	b.Run("counter/new", func(b *testing.B) {
		runBench(b, m.Middleware(http.HandlerFunc(benchCounter)), session.DefaultCookieName, "")
	})
	b.Run("counter/existing", func(b *testing.B) {
		runBench(b, m.Middleware(http.HandlerFunc(benchCounter)), session.DefaultCookieName, existing)
	})
	b.Run("read/existing", func(b *testing.B) {
		runBench(b, m.Middleware(http.HandlerFunc(benchRead)), session.DefaultCookieName, existing)
	})
	b.Run("floor", func(b *testing.B) { runBench(b, http.HandlerFunc(benchRead2), "", "") })
}

func benchRead2(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "This is your %d visit", 1)
}

func BenchmarkRedis(b *testing.B) {
	rs := redistest.Start(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(benchCounter)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	id := ""
	for _, c := range resp.Cookies() {
		id = c.Value
	}
	b.Run("counter/existing", func(b *testing.B) {
		runBench(b, m.Middleware(http.HandlerFunc(benchCounter)), session.DefaultIDCookieName, id)
	})
	b.Run("read/existing", func(b *testing.B) {
		runBench(b, m.Middleware(http.HandlerFunc(benchRead)), session.DefaultIDCookieName, id)
	})
}

// BenchmarkOuterHeaders: a read-only request through the cookie manager
// behind an outer handler that sets three security headers; the middleware
// remembers them for a failed commit (issue 9 finding 9).
func BenchmarkOuterHeaders(b *testing.B) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		b.Fatal(err)
	}
	existing, _ := m.Seal(map[string]any{"counter": 41}, 0)
	inner := m.Middleware(http.HandlerFunc(benchRead))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Strict-Transport-Security"] = []string{"max-age=63072000"}
		h["Content-Security-Policy"] = []string{"default-src 'self'"}
		h["X-Frame-Options"] = []string{"DENY"}
		inner.ServeHTTP(w, r)
	})
	runBench(b, outer, session.DefaultCookieName, existing)
}
