package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// TestFailedCommitKeepsOuterHeaders (issue 9 finding 9): when the commit
// fails (a cookie over 4096 bytes), the error response keeps the headers
// outer middleware set and drops only what the inner handler added.
func TestFailedCommitKeepsOuterHeaders(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Inner", "must not leak")
		w.Header().Set("Content-Security-Policy", "replaced by the inner handler")
		w.Header().Add("Vary", "Cookie")
		session.From(r.Context()).Set("blob", strings.Repeat("x", 5000))
		io.WriteString(w, "should not be seen")
	})
	sessions := m.Middleware(inner)
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000")
		h.Set("Content-Security-Policy", "default-src 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Vary", "Origin")
		sessions.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(outer)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	for name, want := range map[string]string{
		"Strict-Transport-Security": "max-age=63072000",
		"Content-Security-Policy":   "default-src 'self'",
		"X-Frame-Options":           "DENY",
		"X-Inner":                   "",
		"Set-Cookie":                "",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
		t.Errorf("Vary = %q, want only the outer Origin", got)
	}
}

// TestHijack: the middleware's writer is an http.Hijacker only where the
// connection can be hijacked. On HTTP/1.1 an unchanged session hijacks; a
// changed one is refused with ErrHijacked (the Set-Cookie could never be
// delivered) and the handler's normal answer then carries the cookie. On
// HTTP/2 the writer is no Hijacker and http.ResponseController reports
// http.ErrNotSupported, as without the middleware.
func TestHijack(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("change") != "" {
			session.From(r.Context()).Set("k", "v")
		}
		_, isHijacker := w.(http.Hijacker)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err == nil {
			defer conn.Close()
			fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			brw.Flush()
			return
		}
		w.Header().Set("X-Hijacker", strconv.FormatBool(isHijacker))
		switch {
		case errors.Is(err, session.ErrHijacked):
			io.WriteString(w, "refused")
		case errors.Is(err, http.ErrNotSupported):
			io.WriteString(w, "not supported")
		default:
			io.WriteString(w, err.Error())
		}
	})
	h1 := httptest.NewServer(m.Middleware(h))
	defer h1.Close()
	h2 := httptest.NewUnstartedServer(m.Middleware(h))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()

	for _, tt := range []struct {
		name       string
		srv        *httptest.Server
		path       string
		body       string
		hijacker   string
		wantCookie bool
	}{
		{"HTTP/1.1 unchanged session", h1, "/", "hijacked", "", false},
		{"HTTP/1.1 changed session", h1, "/?change=1", "refused", "true", true},
		{"HTTP/2 unchanged session", h2, "/", "not supported", "false", false},
		{"HTTP/2 changed session", h2, "/?change=1", "not supported", "false", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.srv.Client().Get(tt.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.body || resp.Header.Get("X-Hijacker") != tt.hijacker {
				t.Fatalf("body %q, X-Hijacker %q; want %q, %q", b, resp.Header.Get("X-Hijacker"), tt.body, tt.hijacker)
			}
			if got := strings.Contains(resp.Header.Get("Set-Cookie"), session.DefaultCookieName+"="); got != tt.wantCookie {
				t.Fatalf("session cookie sent: %v, want %v", got, tt.wantCookie)
			}
			if tt.srv == h2 && resp.ProtoMajor != 2 {
				t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
			}
		})
	}
}
