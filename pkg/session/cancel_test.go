package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestLoadOutlivesClientCancel: a request whose client went away while its
// session loads (a browser cancelling a favicon request) still loads it,
// bounded by the manager's own timeouts, instead of reaching the error
// handler as a store outage (a 503 in the log).
// Both the Redis load and the cookie store's revocation lookup.
func TestLoadOutlivesClientCancel(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	rm, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := session.NewCookieManager("a-secret-of-sixteen-bytes", session.CookieOptions{Revocations: rdb})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		mw     func(http.Handler) http.Handler
		cookie string
	}{
		{"redis", rm.Middleware, session.DefaultIDCookieName},
		{"cookie with revocations", cm.Middleware, session.DefaultCookieName},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				if r.URL.Path == "/login" {
					s.Login("ana")
				}
				s.Incr("n", 1)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
			var cookie *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == tt.cookie {
					cookie = c
				}
			}
			if rec.Code != http.StatusOK || cookie == nil {
				t.Fatalf("login: %d, cookies %v", rec.Code, rec.Result().Cookies())
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the client is gone before the load starts
			req := httptest.NewRequest("GET", "/favicon.ico", nil).WithContext(ctx)
			req.AddCookie(cookie)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("a cancelled request got %d %q, want its handler's 200", rec.Code, rec.Body.String())
			}
		})
	}
}
