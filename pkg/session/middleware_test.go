package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
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

// TestFromWithoutMiddlewarePanics: From, and each manager's From, panic
// with a message naming the middleware that is missing, rather than
// returning a nil session that fails later.
func TestFromWithoutMiddlewarePanics(t *testing.T) {
	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := session.NewRedisManager(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), session.RedisOptions{Prefix: "app:"})
	if err != nil {
		t.Fatal(err)
	}
	plain := httptest.NewRequest("GET", "/", nil).Context()
	var inCookie context.Context // a request behind the cookie manager only
	cm.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inCookie = r.Context() })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for _, tt := range []struct {
		name string
		ctx  context.Context
		from func(context.Context) *session.Session
		want string
	}{
		{"From", plain, session.From, "not behind a CookieManager's or RedisManager's Middleware"},
		{"CookieManager.From", plain, cm.From, `CookieManager.From found no session of this manager (cookie "wsess_session_data")`},
		{"RedisManager.From", plain, rm.From, `RedisManager.From found no session of this manager (prefix "app:", cookie "wsess_session_id")`},
		{"RedisManager.From behind the cookie manager", inCookie, rm.From, `RedisManager.From found no session of this manager`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %q, want one saying %q", msg, tt.want)
				}
			}()
			tt.from(tt.ctx)
		})
	}
}

// TestTwoManagersInOneChain: a handler behind a cookie manager and a Redis
// manager reads and writes both sessions in one request (each manager's
// From returns its own), and both persist across requests of a cookie jar.
func TestTwoManagersInOneChain(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, red := cm.From(r.Context()), rm.From(r.Context())
		if c == red {
			t.Error("both managers returned the same session")
		}
		nc, nr := c.Incr("cookie", 1), red.Incr("redis", 10)
		if session.From(r.Context()) != red {
			t.Error("From is not the innermost manager's session")
		}
		fmt.Fprintf(w, "cookie=%d redis=%d", nc, nr)
	})
	srv := httptest.NewServer(cm.Middleware(rm.Middleware(h)))
	defer srv.Close()
	c := newClient(t, srv)
	for i := 1; i <= 3; i++ {
		if got, want := c.mustGet("/"), fmt.Sprintf("cookie=%d redis=%d", i, 10*i); got != want {
			t.Fatalf("request %d: %q, want %q", i, got, want)
		}
	}
	if c.cookie(session.DefaultCookieName) == "" || c.cookie(session.DefaultIDCookieName) == "" {
		t.Fatal("the jar lacks one of the two session cookies")
	}
}

// TestFailedCommitKeepsOuterHeaders: when the commit
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

// TestLateChangeReported: a change made after the response's first byte is
// not saved, and Options.LateChange names it; a change made before is saved
// and not reported. Both managers.
func TestLateChangeReported(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	var (
		mu   sync.Mutex
		late [][]string
	)
	opts := session.Options{LateChange: func(r *http.Request, changes []string) {
		mu.Lock()
		late = append(late, changes)
		mu.Unlock()
	}}
	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := session.NewRedisManager(rdb, session.RedisOptions{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{{"cookie", cm.Middleware}, {"redis", rm.Middleware}} {
		t.Run(tt.name, func(t *testing.T) {
			late = nil
			mux := http.NewServeMux()
			mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				s.Set("early", "saved")
				io.WriteString(w, "first byte")
				s.Set("late", "lost")
				s.Destroy()
			})
			mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				fmt.Fprintf(w, "early=%s late=%s", s.String("early"), s.String("late"))
			})
			srv := httptest.NewServer(tt.mw(mux))
			defer srv.Close()
			c := newClient(t, srv)
			c.mustGet("/write")
			if got := c.mustGet("/read"); got != "early=saved late=" {
				t.Fatalf("after the request: %q, want only the change made before the first byte", got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(late) != 1 || strings.Join(late[0], ",") != "late,Destroy" {
				t.Fatalf("LateChange calls %q, want one naming late and Destroy", late)
			}
		})
	}
}
