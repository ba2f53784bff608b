package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
	"github.com/wsess/wsess/pkg/session"
)

// The demo's routes, in-process: newDemoHandler behind httptest. That the
// binary listens, logs and stops on SIGINT is checked in e2e.

const demoKey = "demo-e2e-secret-0123456789abcdef"

// demoServer is the demo handler on an httptest server.
type demoServer struct {
	URL    *url.URL
	Log    *testutil.SyncBuffer // the request log
	Stderr *bytes.Buffer        // warnings and notices (before serving)
}

// startDemo serves the demo in-process with the options of `wsess serve
// demo args...` (parsed by the real command), the environment env and
// secrets.
func startDemo(t *testing.T, secrets []string, env testEnv, args ...string) *demoServer {
	t.Helper()
	ios, _, _, errOut := testIO()
	var opts *serveDemoOptions
	f := newFactory(ios, env.lookup)
	cmd := newCmdServeDemo(f, func(_ context.Context, o *serveDemoOptions) error { opts = o; return nil })
	if err := execCmd(t, cmd, args...); err != nil {
		t.Fatal(err)
	}
	opts.Secrets = func() ([]string, error) { return secrets, nil }
	opts.Now = time.Now
	log := &testutil.SyncBuffer{}
	h, _, err := newDemoHandler(context.Background(), opts, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.CloseRedis() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	return &demoServer{URL: u, Log: log, Stderr: errOut}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	return testutil.ReadResponse(t, resp, err)
}

// countThree visits /counter three times and checks the answers.
func countThree(t *testing.T, c *http.Client, base *url.URL) {
	t.Helper()
	for i, want := range []string{"This is your 1 visit", "This is your 2 visit", "This is your 3 visit"} {
		code, body := get(t, c, base.JoinPath("counter").String())
		if code != http.StatusOK || body != want {
			t.Fatalf("visit %d: %d %q, want 200 %q", i+1, code, body, want)
		}
	}
	code, body := get(t, c, base.String())
	if code != http.StatusOK || !strings.Contains(body, `<strong id="count">3</strong>`) {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	// Reading the page changes nothing.
	if _, body := get(t, c, base.String()); !strings.Contains(body, `<strong id="count">3</strong>`) {
		t.Fatalf("GET / changed the count:\n%s", body)
	}
}

func TestServeDemoCookie(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	c, jar := testutil.JarClient(t)
	countThree(t, c, d.URL)

	cookies := jar.Cookies(d.URL)
	if len(cookies) != 1 || cookies[0].Name != session.DefaultCookieName {
		t.Fatalf("cookies = %v", cookies)
	}
	// wsess decode opens the jar's cookie.
	r := runCLI(t, testEnv{envKey: demoKey}, false, cookies[0].Name+"="+cookies[0].Value, "decode", "-o", "json", "-")
	var got struct {
		Format string         `json:"format"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("decode: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got.Format != "wsess" || got.Data["counter"] != float64(3) {
		t.Errorf("decoded %s", r.Stdout)
	}

	// The reset form (a POST with the page's CSRF token) destroys the
	// session and goes back to /.
	_, home := get(t, c, d.URL.String())
	code, body := postForm(t, c, d.URL.JoinPath("reset").String(), url.Values{csrfField: {csrfFrom(t, home)}})
	if code != http.StatusOK || !strings.Contains(body, `<strong id="count">0</strong>`) {
		t.Errorf("after reset: %d\n%s", code, body)
	}
	if left := jar.Cookies(d.URL); len(left) != 0 {
		t.Errorf("after reset the jar still holds %v", left)
	}
	if _, body := get(t, c, d.URL.JoinPath("counter").String()); body != "This is your 1 visit" {
		t.Errorf("after reset: %q", body)
	}

	logs := d.Log.String()
	for _, want := range []string{" GET /counter 200 ", " GET / 200 ", " POST /reset 303 "} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, cookies[0].Value) || strings.Contains(logs, demoKey) {
		t.Errorf("log shows the cookie or the secret:\n%s", logs)
	}
	if d.Stderr.Len() != 0 {
		t.Errorf("notice or warning although a strong secret was given: %q", d.Stderr)
	}
}

// The secret notices go through printWarning and printNotice.
func TestServeDemoSecretNotices(t *testing.T) {
	for _, tt := range []struct {
		name    string
		secrets []string
		want    string
	}{
		{"none", nil, "wsess: notice: no secret given (WSESS_KEY or --key-file); using a random one, so sessions will not survive a restart\n"},
		{"short", []string{"short"}, "wsess: warning: the secret is shorter than 16 bytes; generate a strong one with 'wsess keygen'\n"},
		{"strong", []string{demoKey}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := startDemo(t, tt.secrets, nil)
			if got := d.Stderr.String(); got != tt.want {
				t.Errorf("stderr = %q, want %q", got, tt.want)
			}
			c, _ := testutil.JarClient(t)
			if _, body := get(t, c, d.URL.JoinPath("counter").String()); body != "This is your 1 visit" {
				t.Fatalf("got %q", body)
			}
		})
	}
}

func TestServeDemoRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, nil, testEnv{envRedisURL: srv.URL()}, "--store", "redis")
	c, jar := testutil.JarClient(t)
	countThree(t, c, d.URL)

	cookies := jar.Cookies(d.URL)
	if len(cookies) != 1 || cookies[0].Name != session.DefaultIDCookieName {
		t.Fatalf("cookies = %v", cookies)
	}
	id := cookies[0].Value
	if !session.ValidID(id) {
		t.Fatalf("session id %q has not the shape of an id", id)
	}
	rdb := srv.Client()
	ctx := context.Background()
	key := session.DefaultPrefix + session.HashID(id) // ids are hashed at rest
	ttl, err := rdb.TTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL of %s = %v, want 0 < TTL <= 1h", key, ttl)
	}
	raw, err := rdb.Get(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || stored["counter"] != float64(3) {
		t.Errorf("stored value %q (%v), want counter 3", raw, err)
	}
	// The page names the session by its handle, never by its id (a
	// credential).
	_, body := get(t, c, d.URL.String())
	if !strings.Contains(body, `<code class="handle" id="handle">`+session.HashID(id)+`</code>`) {
		t.Errorf("the page does not show the session's handle:\n%s", body)
	}
	if strings.Contains(body, id) {
		t.Errorf("the page shows the session id:\n%s", body)
	}

	// The reset form removes the key.
	if code, _ := postForm(t, c, d.URL.JoinPath("reset").String(), url.Values{csrfField: {csrfFrom(t, body)}}); code != http.StatusOK {
		t.Errorf("reset: %d", code)
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("after reset, EXISTS %s = %d, %v", key, n, err)
	}
	if strings.Contains(d.Log.String(), id) {
		t.Errorf("log shows the session id:\n%s", d.Log.String())
	}
}

// TestServeDemoLogEscapesPath: a request path cannot write terminal escapes
// or a line of its own into the request log.
func TestServeDemoLogEscapesPath(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	for _, p := range []string{
		"/%1b]0;owned%07%1b[2J%0dFAKE LINE",
		"/a%0a2026-01-01T00:00:00Z GET /forged 200 1ms",
		"/%e2%80%aeevil%c2%9b31m",
	} {
		req, err := http.NewRequest("GET", strings.TrimSuffix(d.URL.String(), "/")+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The log with its times and durations masked, as a golden file.
	var masked strings.Builder
	for _, line := range strings.SplitAfter(d.Log.String(), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Fatalf("log line %q", line)
		}
		masked.WriteString("TIME " + strings.Join(f[1:len(f)-1], " ") + " DURATION\n")
	}
	got := masked.String()
	if strings.ContainsAny(got, "\x1b\x07\r\u202e\u009b") {
		t.Errorf("raw control characters in the log: %q", got)
	}
	if n := strings.Count(d.Log.String(), "\n"); n != 3 {
		t.Errorf("%d log lines for 3 requests:\n%s", n, d.Log.String())
	}
	golden(t, "demo_log_hostile.golden", []byte(got))
}

func TestServeDemoRedisDown(t *testing.T) {
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, false, "", "serve", "demo", "--store", "redis", "--addr", "127.0.0.1:0",
		"--redis-url", "redis://:pw-not-shown@127.0.0.1:"+strconv.Itoa(port)+"/0")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "wsess: cannot reach Redis at redis://xxxxx@127.0.0.1:"+strconv.Itoa(port)+"/0: ") ||
		strings.Count(r.Stderr, "\n") != 1 || strings.Contains(r.Stderr, "pw-not-shown") {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}
