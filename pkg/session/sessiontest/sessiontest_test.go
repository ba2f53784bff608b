package sessiontest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/pkg/session"
	"github.com/wsess/wsess/pkg/session/sessiontest"
)

func TestServe(t *testing.T) {
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	tests := []struct {
		name    string
		handler func(s *session.Session)
		opts    []sessiontest.Option
		saved   bool
		destroy bool
		check   func(t *testing.T, s *session.Session)
	}{
		{"reads only: nothing saved, the preloaded values stay", func(s *session.Session) { _ = s.Int("n") },
			[]sessiontest.Option{sessiontest.Values(map[string]any{"n": 7, "name": "x"})}, false, false,
			func(t *testing.T, s *session.Session) {
				if s.Int("n") != 7 || s.String("name") != "x" {
					t.Fatalf("values %v", s.Keys())
				}
			}},
		{"later Values win", func(s *session.Session) {},
			[]sessiontest.Option{sessiontest.Values(map[string]any{"n": 1}), sessiontest.Values(map[string]any{"n": 2})}, false, false,
			func(t *testing.T, s *session.Session) {
				if s.Int("n") != 2 {
					t.Fatalf("n = %d, want 2", s.Int("n"))
				}
			}},
		{"a change is saved", func(s *session.Session) { s.Set("theme", "dark"); s.Delete("n") },
			[]sessiontest.Option{sessiontest.Values(map[string]any{"n": 1})}, true, false,
			func(t *testing.T, s *session.Session) {
				if s.String("theme") != "dark" || s.Has("n") {
					t.Fatalf("keys %v", s.Keys())
				}
			}},
		{"logged in, at the clock's time", func(s *session.Session) {},
			[]sessiontest.Option{sessiontest.LoggedIn("ana"), sessiontest.Clock(clock)}, false, false,
			func(t *testing.T, s *session.Session) {
				if s.UserID() != "ana" || !s.AuthTime().Equal(at) || len(s.Keys()) != 0 {
					t.Fatalf("user %q at %v, keys %v", s.UserID(), s.AuthTime(), s.Keys())
				}
			}},
		{"the handler logs in", func(s *session.Session) { s.Login("bob") }, nil, true, false,
			func(t *testing.T, s *session.Session) {
				if s.UserID() != "bob" {
					t.Fatalf("user %q", s.UserID())
				}
			}},
		{"the handler logs out", func(s *session.Session) { s.Destroy() },
			[]sessiontest.Option{sessiontest.LoggedIn("ana"), sessiontest.Values(map[string]any{"n": 1})}, false, true,
			func(t *testing.T, s *session.Session) {
				if s.UserID() != "" || len(s.Keys()) != 0 || !s.IsNew() {
					t.Fatalf("after Destroy: user %q keys %v", s.UserID(), s.Keys())
				}
			}},
		{"a browser-session cookie", func(s *session.Session) { s.SetPersistent(false) }, nil, true, false,
			func(t *testing.T, s *session.Session) {
				if s.Persistent() {
					t.Fatal("the choice was not kept")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(session.From(r.Context()))
				w.Write([]byte("ok"))
			})
			res, err := sessiontest.Serve(h, httptest.NewRequest("GET", "/", nil), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Recorder.Body.String() != "ok" || res.Saved != tt.saved || res.Destroyed != tt.destroy {
				t.Fatalf("body %q saved %v destroyed %v; want saved %v destroyed %v", res.Recorder.Body, res.Saved, res.Destroyed, tt.saved, tt.destroy)
			}
			tt.check(t, res.Session)
		})
	}
}

// TestServeKeepsRequestCookies: the request's own cookies reach the
// handler beside the session's.
func TestServeKeepsRequestCookies(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "lang", Value: "fr"})
	var lang string
	_, err := sessiontest.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("lang"); err == nil {
			lang = c.Value
		}
	}), r, sessiontest.Values(map[string]any{"n": 1}))
	if err != nil || lang != "fr" {
		t.Fatalf("lang %q, err %v", lang, err)
	}
}

// TestServeErrors: a session that cannot be sealed is an error that says
// so, never a silent empty session.
func TestServeErrors(t *testing.T) {
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for name, v := range map[string]any{"unencodable": make(chan int), "too large": strings.Repeat("x", 5000)} {
		_, err := sessiontest.Serve(noop, httptest.NewRequest("GET", "/", nil), sessiontest.Values(map[string]any{"v": v}))
		if !errors.Is(err, sessiontest.ErrSession) {
			t.Errorf("%s: %v, want ErrSession", name, err)
		}
	}
}
