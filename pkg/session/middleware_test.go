package session_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/pkg/session"
)

// TestStreamingKeepsWorking: the session is committed before the first
// byte of a streamed response; http.Flusher and http.ResponseController
// reach the real writer, so each chunk arrives on its own.
func TestStreamingKeepsWorking(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Set("streamed", true)
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the wrapped writer is not an http.Flusher")
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Errorf("ResponseController.SetWriteDeadline: %v", err)
		}
		w.Write([]byte("first\n"))
		if err := rc.Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
		<-release // the client reads "first" before the handler goes on
		w.Write([]byte("second\n"))
	})
	srv := httptest.NewServer(m.Middleware(h))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Set-Cookie"), session.DefaultCookieName+"=w1.") {
		t.Fatalf("no session cookie on a streamed response: %q", resp.Header.Get("Set-Cookie"))
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	close(release)
	if line, _ = br.ReadString('\n'); line != "second\n" {
		t.Fatalf("second chunk %q", line)
	}
}

// TestCommitAfterSilentHandler: a handler that writes nothing still gets
// its session saved (the middleware commits after it returns), and an
// informational 103 does not commit early.
func TestCommitAfterSilentHandler(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		session.From(r.Context()).Set("after-103", "yes")
	})
	srv := httptest.NewServer(m.Middleware(h))
	defer srv.Close()
	c := newClient(t, srv)
	code, _ := c.get("/")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	values, _, err := m.Open(c.cookie(session.DefaultCookieName))
	if err != nil || values["after-103"] != "yes" {
		t.Fatalf("session after a silent handler: %v, %v", values, err)
	}
}

// TestNoMiddlewareNoSession: From gives nil outside the middleware.
func TestNoMiddlewareNoSession(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if s := session.From(r.Context()); s != nil {
		t.Fatalf("From = %v without the middleware", s)
	}
}
