package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// browserTimeout bounds each browser test, browser start included.
const browserTimeout = 60 * time.Second

// chromiumPath finds Debian's chromium. Without it the test fails, naming the
// script that installs it, unless WSESS_SKIP_BROWSER=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("WSESS_SKIP_BROWSER") == "1" {
		t.Skip("chromium is not installed and WSESS_SKIP_BROWSER=1: skipping the browser test")
	}
	t.Fatal("chromium is not installed: run ./scripts/test (it installs Debian's chromium package), " +
		"or apt-get install -y chromium; set WSESS_SKIP_BROWSER=1 to skip the browser tests")
	return ""
}

// lockedBuffer collects the browser's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64*1024 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newBrowser starts headless Chromium with a fresh profile and returns a
// chromedp context for one tab, bounded by browserTimeout. The browser stops
// (and its profile is removed) when the test ends.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	profile := t.TempDir() // registered first, so removed after the browser stops
	out := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(out),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel() // waits for the browser process to exit
		cancel()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	// Start the browser now, with the test's context, so that its start-up
	// errors are reported here.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium (%s): %v\n%s", exe, err, out.String())
	}
	return bctx
}

// visitCounter navigates to url (the demo's /counter) and returns what
// the page says: "This is your N visit".
func visitCounter(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => e ? e.innerText : document.body.innerText)(document.getElementById("visit"))`))
	if err != nil {
		t.Fatalf("read the visit of %s: %v", url, err)
	}
	return strings.TrimSpace(text)
}

// pageText navigates to url and returns the page's visible text.
func pageText(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
	// Read through Runtime.evaluate rather than DOM queries, whose node ids
	// can be stale right after a navigation.
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		t.Fatalf("read the text of %s: %v", url, err)
	}
	return strings.TrimSpace(text)
}

// browserCookies returns the browser's cookies called name, read through the
// DevTools protocol (Storage.getCookies: every cookie of the profile).
func browserCookies(t *testing.T, ctx context.Context, name string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatalf("Storage.getCookies: %v", err)
	}
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// TestBrowser drives the demo server with headless Chromium for both stores,
// with and without --secure: the counter counts, the cookie has the right
// attributes, and the reset button starts over.
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	tests := []struct {
		store  string
		secure bool
	}{
		{"cookie", false},
		{"cookie", true},
		{"redis", false},
		{"redis", true},
	}
	for _, tt := range tests {
		name := tt.store
		if tt.secure {
			name += "/secure"
		}
		// One after the other: Chromium's start-up is CPU-bound, and four
		// at once took longer than four in a row.
		t.Run(name, func(t *testing.T) {
			args := []string{"--store", tt.store}
			cookieName := session.DefaultCookieName
			var rdb *redis.Client
			if tt.store == "redis" {
				rs := redistest.Start(t, redistest.Options{})
				rdb = rs.Client()
				args = append(args, "--redis-url", rs.URL())
				cookieName = session.DefaultIDCookieName
			}
			if tt.secure {
				args = append(args, "--secure")
			}
			srv := startDemo(t, args...)
			ctx := newBrowser(t, exe)
			testBrowserFlow(t, ctx, srv, cookieName, tt.secure, rdb)
		})
	}
}

func testBrowserFlow(t *testing.T, ctx context.Context, srv *demoServer, cookieName string, secure bool, rdb *redis.Client) {
	for i, want := range []string{"This is your 1 visit", "This is your 2 visit", "This is your 3 visit"} {
		if got := visitCounter(t, ctx, srv.URL+"/counter"); got != want {
			t.Fatalf("visit %d to /counter: page says %q, want %q", i+1, got, want)
		}
	}

	cookies := browserCookies(t, ctx, cookieName)
	if len(cookies) != 1 {
		t.Fatalf("the browser holds %d cookies called %s, want 1: %+v", len(cookies), cookieName, cookies)
	}
	c := cookies[0]
	if !c.HTTPOnly {
		t.Errorf("cookie %s is not HttpOnly", c.Name)
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("cookie %s has SameSite=%q, want Lax", c.Name, c.SameSite)
	}
	// With --secure the browser must still keep and send the cookie:
	// Chromium treats http://127.0.0.1 as a secure context, so it stores
	// Secure cookies set over plain HTTP there (checked with Chromium 156);
	// the visits above counted 1, 2, 3 with it.
	if c.Secure != secure {
		t.Errorf("cookie %s has Secure=%v, want %v", c.Name, c.Secure, secure)
	}
	if c.Path != "/" || c.Domain != "127.0.0.1" {
		t.Errorf("cookie %s has Path=%q Domain=%q, want / and host-only 127.0.0.1", c.Name, c.Path, c.Domain)
	}
	if c.Session {
		t.Errorf("cookie %s is a session cookie, want Max-Age/Expires set", c.Name)
	}
	// The sealed cookie slides with the idle timeout (an hour); the Redis
	// id cookie lives until the session's absolute deadline (a day, with
	// the JSON codec), the server ending an idle session sooner (CHANGELOG:
	// "the id cookie lives until the session's deadline").
	life := time.Hour
	if rdb != nil {
		life = session.DefaultAbsoluteTimeout
	}
	if exp := time.Unix(int64(c.Expires), 0); time.Until(exp) < life-10*time.Minute || time.Until(exp) > life+time.Minute {
		t.Errorf("cookie %s expires at %v, want about %v from now", c.Name, exp, life)
	}
	if strings.Contains(c.Value, "counter") {
		t.Errorf("cookie %s shows the session's content: %q", c.Name, c.Value)
	}
	oldID := c.Value
	if rdb != nil {
		checkRedisSession(t, rdb, oldID, 3)
	}

	// The index page shows the count; its reset link starts over.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("navigate to /: %v", err)
	}
	count, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("count").textContent`))
	if err != nil {
		t.Fatalf("read #count: %v", err)
	}
	if count != "3" {
		t.Fatalf("/ shows count %q, want 3", count)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#reset`), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click the reset button: %v", err)
	}
	// The reset form's POST answers 303 to /, which shows a count of 0.
	if err := waitFor(ctx, 20*time.Second,
		`location.pathname === "/" && document.getElementById("count") !== null && document.getElementById("count").textContent === "0"`); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("after clicking reset (at %s): the page never showed a count of 0: %v", loc, err)
	}
	if !logged(srv, "POST", "/reset", 303) {
		t.Errorf("the server did not log POST /reset 303:\n%s", srv.Stderr())
	}
	if left := browserCookies(t, ctx, cookieName); len(left) != 0 {
		t.Errorf("after reset the browser still holds %s: %+v", cookieName, left)
	}
	if rdb != nil {
		n, err := rdb.Exists(context.Background(), sessionKey(oldID)).Result()
		if err != nil || n != 0 {
			t.Errorf("after reset: EXISTS %s = %d, %v; want 0", sessionKey(oldID), n, err)
		}
	}

	if got := visitCounter(t, ctx, srv.URL+"/counter"); got != "This is your 1 visit" {
		t.Fatalf("/counter after reset: page says %q, want the first visit", got)
	}
	if rdb != nil {
		cookies := browserCookies(t, ctx, cookieName)
		if len(cookies) != 1 {
			t.Fatalf("after reset and a visit the browser holds %d cookies called %s, want 1", len(cookies), cookieName)
		}
		if cookies[0].Value == oldID {
			t.Errorf("the session after reset has the old id")
		}
		checkRedisSession(t, rdb, cookies[0].Value, 1)
	}
}

// waitFor evaluates the JavaScript predicate every 50 ms until it is true or
// timeout passes. It outlives navigations: an evaluation that fails because
// the page is being replaced is retried.
func waitFor(ctx context.Context, timeout time.Duration, predicate string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkRedisSession checks that Redis holds session id with counter n and a
// TTL of about an hour.
func checkRedisSession(t *testing.T, rdb *redis.Client, id string, n int) {
	t.Helper()
	if !session.ValidID(id) {
		t.Errorf("session id %q does not have the shape of an id", id)
	}
	ctx := context.Background()
	key := sessionKey(id)
	val, err := rdb.Get(ctx, key).Result()
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(val), &m); err != nil {
		t.Fatalf("the value of %s is not a JSON object: %v: %q", key, err, val)
	}
	if got, _ := m["counter"].(float64); int(got) != n {
		t.Errorf("%s holds counter %v, want %d", key, m["counter"], n)
	}
	ttl, err := rdb.TTL(ctx, key).Result()
	if err != nil || ttl < 50*time.Minute || ttl > time.Hour {
		t.Errorf("TTL %s = %v, %v; want about an hour", key, ttl, err)
	}
}

// sessionKey is the demo's Redis key of session id: ids are hashed at rest.
func sessionKey(id string) string { return session.DefaultPrefix + session.HashID(id) }

// logged reports whether the server has logged a request with this method,
// path and status.
func logged(srv *demoServer, method, path string, status int) bool {
	for _, r := range parseRequestLog(srv.Stderr()) {
		if r.method == method && r.path == path && r.status == status {
			return true
		}
	}
	return false
}
