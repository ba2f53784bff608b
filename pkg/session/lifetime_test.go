package session_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/pkg/session"
)

// newFakeClock starts at real time (to the second), so that the client's
// cookie jar, which runs on the real clock, keeps the cookies it is given.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

// managementMux is counterMux plus login and the user read-back.
func managementMux() *http.ServeMux {
	mux := counterMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Login(r.URL.Query().Get("user"))
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		auth := ""
		if t := s.AuthTime(); !t.IsZero() {
			auth = strconv.FormatInt(t.Unix(), 10)
		}
		fmt.Fprintf(w, "user=%s auth=%s keys=%s counter=%d handle=%q", s.UserID(), auth, strings.Join(s.Keys(), ","), s.Int("counter"), s.Handle())
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		session.From(r.Context()).Incr("counter", 1)
	})
	return mux
}

// getCookie does GET path and returns the body and the session cookie the
// response set (nil when none).
func (c *client) getCookie(path, name string) (string, *http.Cookie, http.Header) {
	c.t.Helper()
	resp, err := c.c.Get(c.srv.URL + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s = %d %q", path, resp.StatusCode, b)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return string(b), ck, resp.Header
		}
	}
	return string(b), nil, resp.Header
}

// newTestRedisClient is a client for constructor tests: it never connects.
func newTestRedisClient(t testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestCookieAbsoluteLifetime: a session used every minute still ends at
// the absolute limit, the cookie's Max-Age never runs past it, and the old
// session never comes back.
func TestCookieAbsoluteLifetime(t *testing.T) {
	clk := newFakeClock()
	const absolute = 3 * time.Hour
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{
		Expire: time.Hour, AbsoluteTimeout: absolute, Clock: clk.Now,
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	start := clk.Now()
	limit := start.Add(absolute)
	var old string
	for i := 1; i <= 200; i++ { // 200 minutes: past the 180-minute limit
		body, ck, _ := c.getCookie("/incr", session.DefaultCookieName)
		now := clk.Now()
		if now.Before(limit) {
			if body != strconv.Itoa(i) {
				t.Fatalf("minute %d: counter %s, want %d (session ended before its absolute limit)", i-1, body, i)
			}
			if ck == nil {
				t.Fatalf("minute %d: no cookie", i-1)
			}
			if got := now.Add(time.Duration(ck.MaxAge) * time.Second); got.After(limit) {
				t.Fatalf("minute %d: Max-Age %d runs to %v, past the absolute limit %v", i-1, ck.MaxAge, got, limit)
			}
			if ck.Expires.After(limit) {
				t.Fatalf("minute %d: Expires %v past the absolute limit %v", i-1, ck.Expires, limit)
			}
			if _, exp, err := m.Open(ck.Value); err != nil || exp.After(limit) {
				t.Fatalf("minute %d: sealed expiry %v (err %v) past the absolute limit %v", i-1, exp, err, limit)
			}
			old = ck.Value
		} else {
			want := int(now.Sub(limit)/time.Minute) + 1
			if body != strconv.Itoa(want) {
				t.Fatalf("minute %d (past the limit): counter %s, want %d from a new session", i-1, body, want)
			}
		}
		clk.Advance(time.Minute)
	}
	// The last cookie of the old session, replayed: still refused.
	replay := newClient(t, srv)
	replay.setCookie(session.DefaultCookieName, old)
	if got := replay.mustGet("/read"); got != "0" {
		t.Fatalf("replayed cookie of the ended session reads %s, want 0", got)
	}
}

// TestCookieIdleTimeout: a session left idle past Expire ends, and is not
// revived by a later request carrying its cookie.
func TestCookieIdleTimeout(t *testing.T) {
	clk := newFakeClock()
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{Options: session.Options{
		Expire: 10 * time.Minute, Clock: clk.Now,
	}})
	c := newClient(t, srv)
	c.mustGet("/incr")
	clk.Advance(9 * time.Minute)
	if got := c.mustGet("/incr"); got != "2" {
		t.Fatalf("within the idle timeout: %s, want 2", got)
	}
	cookie := c.cookie(session.DefaultCookieName)
	clk.Advance(10*time.Minute + time.Second)
	if got := c.mustGet("/read"); got != "0" {
		t.Fatalf("after the idle timeout: %s, want 0", got)
	}
	clk.Advance(-5 * time.Minute) // even a clock stepping back finds nothing new
	c.setCookie(session.DefaultCookieName, cookie)
	clk.Advance(5 * time.Minute)
	if got := c.mustGet("/read"); got != "0" {
		t.Fatalf("idle cookie replayed: %s, want 0", got)
	}
}

func TestAbsoluteTimeoutOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    session.CookieOptions
		wantErr bool
	}{
		{"wsess default", session.CookieOptions{}, false},
		{"wsess none", session.CookieOptions{Options: session.Options{AbsoluteTimeout: -1}}, false},
		{"wsess sub-second", session.CookieOptions{Options: session.Options{AbsoluteTimeout: time.Millisecond}}, true},
		{"emmett default none", session.CookieOptions{Format: session.FormatEmmett}, false},
		{"emmett positive", session.CookieOptions{Format: session.FormatEmmett, Options: session.Options{AbsoluteTimeout: time.Hour}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := session.NewCookieManager(testSecret, tt.opts)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, session.ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

// TestCookieDefaultAbsoluteTimeout: with no AbsoluteTimeout set, a wsess
// session ends after 24 h however active.
func TestCookieDefaultAbsoluteTimeout(t *testing.T) {
	clk := newFakeClock()
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{Options: session.Options{Expire: 2 * time.Hour, Clock: clk.Now}})
	c := newClient(t, srv)
	for i := 1; i <= 24; i++ {
		if got := c.mustGet("/incr"); got != strconv.Itoa(i) {
			t.Fatalf("hour %d: %s, want %d", i-1, got, i)
		}
		clk.Advance(time.Hour)
	}
	if got := c.mustGet("/incr"); got != "1" {
		t.Fatalf("after 24 h: %s, want 1 (a new session)", got)
	}
}

// TestCookieLogin: Login re-seals the cookie with the same data plus the
// user and the authentication time, which later requests read back; the
// reserved keys stay out of Keys; a cookie session's handle is "".
func TestCookieLogin(t *testing.T) {
	clk := newFakeClock()
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Clock: clk.Now}})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv2.Close)
	c := newClient(t, srv2)
	c.mustGet("/incr")
	c.mustGet("/incr")
	before := c.cookie(session.DefaultCookieName)
	clk.Advance(time.Minute)
	_, ck, _ := c.getCookie("/login?user=ana", session.DefaultCookieName)
	if ck == nil || ck.Value == before {
		t.Fatalf("Login set no new cookie (%v)", ck)
	}
	want := fmt.Sprintf("user=ana auth=%d keys=counter counter=2 handle=\"\"", clk.Now().Unix())
	if got := c.mustGet("/whoami"); got != want {
		t.Fatalf("after login: %q, want %q", got, want)
	}
	// The anonymous cookie from before the login carries no user.
	anon := newClient(t, srv2)
	anon.setCookie(session.DefaultCookieName, before)
	if got := anon.mustGet("/whoami"); !strings.HasPrefix(got, "user= auth= keys=counter counter=2") {
		t.Fatalf("pre-login cookie: %q, want the anonymous session", got)
	}
}

// TestCookieLoginRestartsAbsoluteLifetime: a login is a fresh
// authentication, so the absolute lifetime counts from it.
func TestCookieLoginRestartsAbsoluteLifetime(t *testing.T) {
	clk := newFakeClock()
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{
		Expire: time.Hour, AbsoluteTimeout: 2 * time.Hour, Clock: clk.Now,
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	c.mustGet("/incr")
	clk.Advance(90 * time.Minute)
	c.mustGet("/login?user=ana")
	// Every 30 minutes: past 2 h from creation, within 2 h from login.
	for i := 1; i <= 3; i++ {
		clk.Advance(30 * time.Minute)
		if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
			t.Fatalf("%d min after login: %q, want ana's session", 30*i, got)
		}
	}
	clk.Advance(30 * time.Minute) // 2 h after login
	if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user= ") {
		t.Fatalf("2 h after login: %q, want a new session", got)
	}
}

func TestCookiePrefixRules(t *testing.T) {
	tests := []struct {
		name    string
		opts    session.Options
		wantErr string // "" = accepted
	}{
		{"host ok", session.Options{CookieName: "__Host-sid", Secure: true}, ""},
		{"host ok explicit path", session.Options{CookieName: "__Host-sid", Secure: true, Path: "/"}, ""},
		{"host not secure", session.Options{CookieName: "__Host-sid"}, "set Secure: true"},
		{"host path", session.Options{CookieName: "__Host-sid", Secure: true, Path: "/app"}, `set Path to "/"`},
		{"host domain", session.Options{CookieName: "__Host-sid", Secure: true, Domain: "example.com"}, `remove Domain "example.com"`},
		{"host case-insensitive", session.Options{CookieName: "__host-sid"}, "set Secure: true"},
		{"secure ok", session.Options{CookieName: "__Secure-sid", Secure: true, Domain: "example.com", Path: "/app"}, ""},
		{"secure not secure", session.Options{CookieName: "__Secure-sid"}, "set Secure: true"},
		{"plain name", session.Options{CookieName: "sid"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cerr := session.NewCookieManager(testSecret, session.CookieOptions{Options: tt.opts})
			_, rerr := session.NewRedisManager(newTestRedisClient(t), session.RedisOptions{Options: tt.opts})
			for which, err := range map[string]error{"cookie": cerr, "redis": rerr} {
				if tt.wantErr == "" {
					if err != nil {
						t.Errorf("%s manager: %v, want accepted", which, err)
					}
					continue
				}
				if !errors.Is(err, session.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s manager: %v, want ErrInvalidOptions saying %q", which, err, tt.wantErr)
				}
			}
		})
	}
}

// TestCacheControlOnSessionCookie: a response that sets the session cookie
// is marked private unless the handler chose its own Cache-Control; a
// response that sets no cookie is left alone.
func TestCacheControlOnSessionCookie(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	tests := []struct {
		path       string
		wantCookie bool
		want       string
	}{
		{"/incr", true, "private"},
		{"/cached", true, "no-store"},
		{"/nothing", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := newClient(t, srv)
			_, ck, h := c.getCookie(tt.path, session.DefaultCookieName)
			if (ck != nil) != tt.wantCookie {
				t.Fatalf("cookie set: %v, want %v", ck != nil, tt.wantCookie)
			}
			if got := h.Values("Cache-Control"); strings.Join(got, ",") != tt.want {
				t.Fatalf("Cache-Control %q, want %q", got, tt.want)
			}
		})
	}
}
