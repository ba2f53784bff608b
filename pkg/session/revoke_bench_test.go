package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// BenchmarkCookieRevocation measures the per-request cost of
// CookieOptions.Revocations: a read-only request of a logged-in session,
// without revocation and with it (one GET to a loopback redis-server), and
// a request of a logged-in session that logs in again (with revocation: a
// second GET, the generation read at commit).
func BenchmarkCookieRevocation(b *testing.B) {
	rs := redistest.Start(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	for _, bc := range []struct {
		name string
		opts session.CookieOptions
	}{
		{"read/loggedin/off", session.CookieOptions{}},
		{"read/loggedin/on", session.CookieOptions{Revocations: rdb}},
	} {
		m, err := session.NewCookieManager(testSecret, bc.opts)
		if err != nil {
			b.Fatal(err)
		}
		login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			s.Set("counter", 41)
			s.Login("ana")
		}))
		rec := httptest.NewRecorder()
		login.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		cookie := ""
		for _, c := range rec.Result().Cookies() {
			cookie = c.Value
		}
		if cookie == "" {
			b.Fatal("login set no cookie")
		}
		b.Run(bc.name, func(b *testing.B) {
			runBench(b, m.Middleware(http.HandlerFunc(benchRead)), session.DefaultCookieName, cookie)
		})
		b.Run(strings.Replace(bc.name, "read/", "login/", 1), func(b *testing.B) {
			runBench(b, login, session.DefaultCookieName, cookie)
		})
	}
}
