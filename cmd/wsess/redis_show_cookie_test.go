package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisShowCookieValue: pkg/session's Redis manager stores a session
// under prefix + HashID(id), so `redis show` hashes a cookie value to find
// it, from the command line or from stdin (-), and still
// takes the stored key (a handle is given with its prefix); the raw id
// itself is in no key. A bare handle has the shape of an id, so it is
// hashed like one (never sent as it is: see TestRedisShowNeverSendsRawID),
// and the error says how to give it.
func TestRedisShowCookieValue(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	srv := newLibraryApp(t, s.Client(), counter41)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var id string
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultIDCookieName {
			id = c.Value
		}
	}
	if !session.ValidID(id) {
		t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
	}
	handle := session.HashID(id)
	url := []string{"--redis-url", s.URL(), "redis", "show", "-o", "json"}
	for _, tt := range []struct{ name, arg, stdin string }{
		{"cookie value", id, ""},
		{"cookie value on stdin", "-", id + "\n"},
		{"stored key", session.DefaultPrefix + handle, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, false, tt.stdin, append(url, "--", tt.arg)...)
			if r.Code != 0 || !strings.Contains(r.Stdout, `"counter": 41`) || !strings.Contains(r.Stdout, session.DefaultPrefix+handle) {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
			}
			if strings.Contains(r.Stdout, id) || strings.Contains(r.Stderr, id) {
				t.Fatalf("the output shows the cookie value itself: %q %q", r.Stdout, r.Stderr)
			}
		})
	}
	r := runRedis(t, false, "", append(url, "--", handle)...)
	if r.Code != 1 || !strings.Contains(r.Stderr, "give a handle with its prefix (wppsess:HANDLE)") {
		t.Fatalf("a bare handle: exit %d, stderr %q; want the hint to give it with its prefix", r.Code, r.Stderr)
	}
}
