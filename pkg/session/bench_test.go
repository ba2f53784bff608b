package session_test

import (
	"context"
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
// remembers them for a failed commit.
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

// BenchmarkRedisManagement: the per-request cost of session management in
// the Redis store: raw ids and no absolute lifetime (no management: the
// baseline), hashed ids, the absolute lifetime, a logged-in session whose
// last-seen is not due, and one whose last-seen is recorded (its marker
// removed, outside the timer, before each request).
func BenchmarkRedisManagement(b *testing.B) {
	rs := redistest.Start(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		s.Set("counter", 41)
		if r.URL.Query().Get("user") != "" {
			s.Login("ana")
		}
	})
	for _, tt := range []struct {
		name  string
		opts  session.RedisOptions
		user  bool
		touch bool
	}{
		{"read/raw-ids", session.RedisOptions{HashIDs: new(false), Options: session.Options{AbsoluteTimeout: -1}}, false, false},
		{"read/hashed-ids", session.RedisOptions{Options: session.Options{AbsoluteTimeout: -1}}, false, false},
		{"read/hashed-ids+absolute", session.RedisOptions{}, false, false},
		{"read/logged-in", session.RedisOptions{}, true, false},
		{"read/logged-in+touch", session.RedisOptions{}, true, true},
		{"counter/raw-ids", session.RedisOptions{HashIDs: new(false), Options: session.Options{AbsoluteTimeout: -1}}, false, false},
		{"counter/hashed-ids+absolute", session.RedisOptions{}, false, false},
		{"counter/logged-in", session.RedisOptions{}, true, false},
	} {
		b.Run(tt.name, func(b *testing.B) {
			m, err := session.NewRedisManager(rdb, tt.opts)
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/?user=", nil)
			if tt.user {
				req = httptest.NewRequest("GET", "/?user=ana", nil)
			}
			rec := httptest.NewRecorder()
			m.Middleware(login).ServeHTTP(rec, req)
			id := ""
			for _, c := range rec.Result().Cookies() {
				id = c.Value
			}
			h := benchRead
			if tt.name[:4] == "coun" {
				h = benchCounter
			}
			mw := m.Middleware(http.HandlerFunc(h))
			seen := "{" + m.Key(id) + "}:seen:" + m.Key(id)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if tt.touch {
					b.StopTimer()
					rdb.Del(context.Background(), seen)
					b.StartTimer()
				}
				req := httptest.NewRequest("GET", "/counter", nil)
				req.Header.Set("Cookie", session.DefaultIDCookieName+"="+id)
				rec := httptest.NewRecorder()
				mw.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
