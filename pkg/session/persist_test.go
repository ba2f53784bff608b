package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// persistMux logs in with "remember me" given by ?remember=1 (anything
// else: a browser-session cookie), counts, and reports the choice.
func persistMux() *http.ServeMux {
	mux := managementMux()
	mux.HandleFunc("/remember", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		s.Login(r.URL.Query().Get("user"))
		s.SetPersistent(r.URL.Query().Get("remember") == "1")
	})
	mux.HandleFunc("/persistent", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if s.Persistent() {
			w.Write([]byte("persistent keys=" + strings.Join(s.Keys(), ",")))
		} else {
			w.Write([]byte("browser-session keys=" + strings.Join(s.Keys(), ",")))
		}
	})
	return mux
}

// TestPersistentChoice: a login without "remember me" gets a cookie with
// neither Max-Age nor Expires, on every later response that sets it too;
// with it, a persistent cookie; the choice survives requests, hides from
// Keys, and the server still ends a browser-session session at its idle
// timeout. For both stores.
func TestPersistentChoice(t *testing.T) {
	const idle = 10 * time.Minute
	type setup struct {
		srv     *httptest.Server
		clk     *fakeClock
		name    string
		expired func(t *testing.T, c *client) // makes the session idle past its timeout
	}
	stores := map[string]func(t *testing.T) setup{
		"cookie": func(t *testing.T) setup {
			clk := newFakeClock()
			m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Expire: idle, Clock: clk.Now}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(persistMux()))
			t.Cleanup(srv.Close)
			return setup{srv: srv, clk: clk, name: session.DefaultCookieName,
				expired: func(t *testing.T, c *client) { clk.Advance(idle + time.Second) }}
		},
		"redis": func(t *testing.T) setup {
			rs := redistest.Start(t, redistest.Options{})
			rdb := rs.Client()
			m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{Expire: idle}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(persistMux()))
			t.Cleanup(srv.Close)
			return setup{srv: srv, name: session.DefaultIDCookieName, expired: func(t *testing.T, c *client) {
				// The key's TTL is the idle timeout: end it as Redis would.
				keys, err := rdb.Keys(context.Background(), session.DefaultPrefix+"*").Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					ttl := rdb.TTL(context.Background(), k).Val()
					if strings.Contains(k, "{") || ttl <= 0 {
						continue // the user index, markers
					}
					if ttl > idle {
						t.Fatalf("session key TTL %v, want at most the idle timeout %v", ttl, idle)
					}
					rdb.Del(context.Background(), k)
				}
			}}
		},
	}
	for store, start := range stores {
		for _, remember := range []bool{false, true} {
			name := store + "/browser-session"
			if remember {
				name = store + "/remember"
			}
			t.Run(name, func(t *testing.T) {
				st := start(t)
				c := newClient(t, st.srv)
				q := "/remember?user=ana&remember=0"
				if remember {
					q = "/remember?user=ana&remember=1"
				}
				_, ck, h := c.getCookie(q, st.name)
				if ck == nil {
					t.Fatal("the login set no cookie")
				}
				wantAttrs(t, "login", h, remember)
				body, _, _ := c.getCookie("/persistent", st.name)
				want := "browser-session keys="
				if remember {
					want = "persistent keys="
				}
				if body != want {
					t.Fatalf("after the login: %q, want %q (the choice kept, the key hidden)", body, want)
				}
				// A later change sets the cookie again, with the same choice.
				if _, ck, h = c.getCookie("/incr", st.name); ck == nil && store == "cookie" {
					t.Fatal("a change to a cookie session set no cookie")
				} else if ck != nil {
					wantAttrs(t, "a later change", h, remember)
				}
				wantUser(t, c, "ana", "before the idle timeout")
				st.expired(t, c)
				wantUser(t, c, "", "after the idle timeout")
			})
		}
	}
}

// wantAttrs checks the session cookie's lifetime attributes: both Max-Age
// and Expires for a persistent cookie, neither for a browser-session one.
func wantAttrs(t *testing.T, when string, h http.Header, persistent bool) {
	t.Helper()
	for _, line := range h["Set-Cookie"] {
		hasMaxAge, hasExpires := strings.Contains(line, "; Max-Age="), strings.Contains(line, "; Expires=")
		if persistent && !(hasMaxAge && hasExpires) || !persistent && (hasMaxAge || hasExpires) {
			t.Fatalf("%s: Set-Cookie %q, want persistent=%v", when, line, persistent)
		}
	}
}
