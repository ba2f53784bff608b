package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

const demoKey = "demo-e2e-secret-0123456789abcdef"

// demoServer is a running `wsess serve demo` process.
type demoServer struct {
	URL    *url.URL
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	done   chan error
}

func (d *demoServer) Stderr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

var listenRE = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)`)

// startDemo runs the real wsess binary (this test binary, registered by
// TestMain) and waits for the URL it prints on stderr.
func startDemo(t *testing.T, env []string, args ...string) *demoServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "wsess", append([]string{"serve", "demo", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoServer{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.stderr.WriteString(line + "\n")
			d.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	select {
	case u := <-found:
		d.URL, err = url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
	case err := <-d.done:
		t.Fatalf("wsess serve demo exited early: %v\n%s", err, d.Stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("no listening URL on stderr:\n%s", d.Stderr())
	}
	return d
}

// stop sends SIGINT and checks the graceful exit.
func (d *demoServer) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("serve demo exited with %v after SIGINT\n%s", err, d.Stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve demo did not stop after SIGINT")
	}
	if !strings.Contains(d.Stderr(), "wsess: shutting down") {
		t.Errorf("no shutdown notice:\n%s", d.Stderr())
	}
}

// cleanEnv is the process environment without wsess settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSESS_") {
			env = append(env, kv)
		}
	}
	return env
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func newJarClient(t *testing.T) (*http.Client, *cookiejar.Jar) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}, jar
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

func TestServeDemoCookieEndToEnd(t *testing.T) {
	d := startDemo(t, []string{envKey + "=" + demoKey})
	c, jar := newJarClient(t)
	countThree(t, c, d.URL)

	cookies := jar.Cookies(d.URL)
	if len(cookies) != 1 || cookies[0].Name != session.DefaultCookieName {
		t.Fatalf("cookies = %v", cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value

	// The real binary decodes the jar's cookie.
	dec := exec.Command("wsess", "decode", "-o", "json", cookie)
	dec.Env = append(cleanEnv(), envKey+"="+demoKey)
	out, err := dec.Output()
	if err != nil {
		t.Fatalf("wsess decode: %v", err)
	}
	var got struct {
		Format string         `json:"format"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Format != "wsess" || got.Data["counter"] != float64(3) {
		t.Errorf("decoded %s", out)
	}

	// /reset destroys the session and goes back to /.
	code, body := get(t, c, d.URL.JoinPath("reset").String())
	if code != http.StatusOK || !strings.Contains(body, `<strong id="count">0</strong>`) {
		t.Errorf("after reset: %d\n%s", code, body)
	}
	if _, body := get(t, c, d.URL.JoinPath("counter").String()); body != "This is your 1 visit" {
		t.Errorf("after reset: %q", body)
	}

	d.stop(t)
	logs := d.Stderr()
	for _, want := range []string{" GET /counter 200 ", " GET / 200 ", " GET /reset 303 "} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, cookies[0].Value) || strings.Contains(logs, demoKey) {
		t.Errorf("log shows the cookie or the secret:\n%s", logs)
	}
	if strings.Contains(logs, "random") {
		t.Errorf("random-secret notice although WSESS_KEY was set:\n%s", logs)
	}
}

func TestServeDemoRandomSecretNotice(t *testing.T) {
	d := startDemo(t, nil)
	c, _ := newJarClient(t)
	if _, body := get(t, c, d.URL.JoinPath("counter").String()); body != "This is your 1 visit" {
		t.Fatalf("got %q", body)
	}
	d.stop(t)
	if !strings.Contains(d.Stderr(), "using a random one, so sessions will not survive a restart") {
		t.Errorf("no notice about the random secret:\n%s", d.Stderr())
	}
}

func TestServeDemoRedisEndToEnd(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, nil, "--store", "redis", "--redis-url", srv.URL())
	c, jar := newJarClient(t)
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
	key := "wppsess:" + id
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
	if _, body := get(t, c, d.URL.String()); !strings.Contains(body, id) {
		t.Errorf("the page does not show the session id:\n%s", body)
	}

	// /reset removes the key.
	get(t, c, d.URL.JoinPath("reset").String())
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("after reset, EXISTS %s = %d, %v", key, n, err)
	}
	d.stop(t)
	if strings.Contains(d.Stderr(), id) {
		t.Errorf("log shows the session id:\n%s", d.Stderr())
	}
}

func TestServeDemoRedisDown(t *testing.T) {
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, false, "", "serve", "demo", "--store", "redis", "--addr", "127.0.0.1:0",
		"--redis-url", "redis://:pw-not-shown@127.0.0.1:"+itoa(port)+"/0")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "wsess: cannot reach Redis at redis://:xxxxx@127.0.0.1:") ||
		strings.Count(r.Stderr, "\n") != 1 || strings.Contains(r.Stderr, "pw-not-shown") {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
