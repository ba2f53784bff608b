package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
)

// post does POST u (an empty form) and returns the status and body after
// redirects.
func post(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(""))
	return testutil.ReadResponse(t, resp, err)
}

// TestServeDemoSessions: /login, /sessions, "log out my
// other devices" and /logout, for the Redis store and for the cookie store
// with --revocations; the cookie store without it says it cannot.
func TestServeDemoSessions(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, tt := range []struct {
		name   string
		args   []string
		listed bool
	}{
		{"redis", []string{"--store", "redis"}, true},
		{"cookie with revocations", []string{"--store", "cookie", "--revocations"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := startDemo(t, []string{"0123456789abcdef0123456789abcdef"}, testEnv{envRedisURL: srv.URL()}, tt.args...)
			a, _ := testutil.JarClient(t)
			b, _ := testutil.JarClient(t)
			sessions := d.URL.JoinPath("sessions").String()
			code, page := get(t, a, d.URL.JoinPath("login").String()+"?user=ana")
			if code != http.StatusOK || !strings.Contains(page, "Signed in as <strong>ana</strong>") {
				t.Fatalf("login: %d\n%s", code, page)
			}
			get(t, b, d.URL.JoinPath("login").String()+"?user=ana")
			_, page = get(t, a, sessions)
			if got := strings.Count(page, "<tr class=\"current\">") + strings.Count(page, "<tr><td><code>"); tt.listed && got != 2 {
				t.Fatalf("the Redis store lists %d sessions, want 2:\n%s", got, page)
			}
			if !tt.listed && !strings.Contains(page, `id="unlisted"`) {
				t.Fatalf("the cookie store's page does not say it cannot list:\n%s", page)
			}
			if code, page := post(t, a, d.URL.JoinPath("sessions", "others").String()); code != http.StatusOK || !strings.Contains(page, "Signed in as <strong>ana</strong>") || !strings.Contains(page, `id="others-out"`) {
				t.Fatalf("log out my other devices: %d\n%s", code, page)
			}
			if _, page := get(t, b, sessions); !strings.Contains(page, "Not signed in") {
				t.Fatalf("the other device after 'log out my other devices':\n%s", page)
			}
			_, page = get(t, a, sessions)
			if !strings.Contains(page, "Signed in as <strong>ana</strong>") {
				t.Fatalf("the device that logged out the others:\n%s", page)
			}
			if tt.listed && strings.Count(page, "<tr class=\"current\">") != 1 || strings.Contains(page, "<tr><td><code>") {
				t.Fatalf("after logging out the others, want only this session listed:\n%s", page)
			}
			get(t, a, d.URL.JoinPath("logout").String())
			if _, page := get(t, a, sessions); !strings.Contains(page, "Not signed in") {
				t.Fatalf("after /logout:\n%s", page)
			}
		})
	}
	t.Run("cookie without revocations", func(t *testing.T) {
		d := startDemo(t, []string{"0123456789abcdef0123456789abcdef"}, nil)
		a, _ := testutil.JarClient(t)
		_, page := get(t, a, d.URL.JoinPath("login").String()+"?user=ana")
		if !strings.Contains(page, `id="no-revoke"`) || strings.Contains(page, `id="logout-others"`) {
			t.Fatalf("want the page to say it cannot log out other devices:\n%s", page)
		}
		if code, _ := post(t, a, d.URL.JoinPath("sessions", "others").String()); code != http.StatusNotImplemented {
			t.Fatalf("POST /sessions/others = %d, want 501", code)
		}
	})
	t.Run("bad user", func(t *testing.T) {
		d := startDemo(t, []string{"0123456789abcdef0123456789abcdef"}, nil)
		a, _ := testutil.JarClient(t)
		for _, q := range []string{"", "?user=", "?user=" + strings.Repeat("x", 65)} {
			if code, _ := get(t, a, d.URL.JoinPath("login").String()+q); code != http.StatusBadRequest {
				t.Fatalf("/login%s = %d, want 400", q, code)
			}
		}
	})
}
