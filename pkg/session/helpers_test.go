package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestMain stops the shared redis-server if a test or example started one.
// Nothing is started up front, so tests that need no Redis (go test -run
// Cookie) run where there is no redis-server.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRedis.srv != nil {
		sharedRedis.srv.Stop()
	}
	os.Exit(code)
}

// sharedRedis is one private redis-server for examples, which get no
// *testing.T to start their own (tests call redistest.Start instead). It is
// started on first use.
var sharedRedis struct {
	once sync.Once
	srv  *redistest.Server
	err  error
}

// exampleRedisAddr starts the shared redis-server (once) and returns its
// address. When it cannot start, it prints why, which fails the example
// that asked, and returns an address where nothing listens.
func exampleRedisAddr() string {
	sharedRedis.once.Do(func() {
		sharedRedis.srv, sharedRedis.err = redistest.Launch(redistest.Options{})
	})
	if sharedRedis.err != nil {
		fmt.Println(sharedRedis.err)
		return "127.0.0.1:1"
	}
	return sharedRedis.srv.Addr
}

// counterMux is weppy's counter app plus a few routes the tests use.
func counterMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n := s.Int("counter") + 1
		s.Set("counter", n)
		fmt.Fprintf(w, "This is your %d visit", n)
	})
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		n := session.From(r.Context()).Incr("counter", 1)
		fmt.Fprintf(w, "%d", n)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d", session.From(r.Context()).Int("counter"))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		for k, v := range r.URL.Query() {
			s.Set(k, v[0])
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Set("blob", strings.Repeat("x", 5000))
		io.WriteString(w, "should not be seen")
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Destroy()
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).RenewID()
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).SetExpire(10 * time.Minute)
	})
	mux.HandleFunc("/nothing", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

// client is an HTTP client with a cookie jar.
type client struct {
	t   testing.TB
	srv *httptest.Server
	c   *http.Client
}

func newClient(t testing.TB, srv *httptest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, srv: srv, c: &http.Client{Jar: jar}}
}

// get returns the status and body of GET path.
func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.c.Get(c.srv.URL + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) mustGet(path string) string {
	c.t.Helper()
	code, body := c.get(path)
	if code != http.StatusOK {
		c.t.Fatalf("GET %s = %d %q, want 200", path, code, body)
	}
	return body
}

// cookie returns the jar's value for name ("" when absent).
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.srv.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// errorRecorder is an ErrorHandler that remembers the errors it saw.
type errorRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorRecorder) handle(w http.ResponseWriter, r *http.Request, err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
	session.DefaultErrorHandler(w, r, err)
}

func (e *errorRecorder) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}
