package main

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
)

// chromiumAccept is the Accept header Chromium sends for a page.
const chromiumAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// csrfFrom returns the CSRF token of the first form of page.
func csrfFrom(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil || m[1] == "" {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// postForm POSTs the form v to u and returns the status and body after
// redirects.
func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	return testutil.ReadResponse(t, resp, err)
}

// getWith GETs u with the Accept header accept ("" for none) and returns
// the response, its body read.
func getWith(t *testing.T, c *http.Client, u, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	_, body := testutil.ReadResponse(t, resp, err)
	return resp, body
}

// loginAs logs c in as user through the login form and returns the page it
// lands on (/sessions).
func loginAs(t *testing.T, c *http.Client, base *url.URL, user string) string {
	t.Helper()
	_, form := get(t, c, base.JoinPath("login").String())
	code, page := postForm(t, c, base.JoinPath("login").String(), url.Values{"user": {user}, csrfField: {csrfFrom(t, form)}})
	if code != http.StatusOK || !strings.Contains(page, "Signed in as <strong>"+template.HTMLEscapeString(user)+"</strong>") {
		t.Fatalf("login as %s: %d\n%s", user, code, page)
	}
	return page
}

func TestServeDemoCounterNegotiates(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	c, _ := testutil.JarClient(t)
	for i, tt := range []struct {
		accept string
		html   bool
	}{
		{"", false},
		{"*/*", false},
		{"text/plain", false},
		{"application/json", false},
		{"text/html;q=0, */*", false},
		{"text/html", true},
		{"TEXT/HTML", true},
		{chromiumAccept, true},
		{"text/plain, text/html;q=0.5", true},
	} {
		n := i + 1
		resp, body := getWith(t, c, d.URL.JoinPath("counter").String(), tt.accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Vary") != "Accept" {
			t.Fatalf("Accept %q: %d, Vary %q", tt.accept, resp.StatusCode, resp.Header.Get("Vary"))
		}
		ct := resp.Header.Get("Content-Type")
		if tt.html {
			want := fmt.Sprintf(`<p class="visit" id="visit">This is your <strong id="count">%d</strong> visit</p>`, n)
			if ct != "text/html; charset=utf-8" || !strings.Contains(body, want) {
				t.Errorf("Accept %q: %s, want the page with %s:\n%s", tt.accept, ct, want, body)
			}
			continue
		}
		if want := fmt.Sprintf("This is your %d visit", n); ct != "text/plain; charset=utf-8" || body != want {
			t.Errorf("Accept %q: %s %q, want text/plain %q", tt.accept, ct, body, want)
		}
	}
}

func TestAcceptsHTML(t *testing.T) {
	for _, tt := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"text/*", false},
		{"text/htmlx", false},
		{"application/xhtml+xml", false},
		{"text/html;q=0", false},
		{"text/html; q=0.0, text/plain", false},
		{"text/html", true},
		{" text/html ; charset=utf-8", true},
		{"text/html;q=0.1", true},
		{"text/html;q=bogus", true},
		{chromiumAccept, true},
	} {
		if got := acceptsHTML(tt.accept); got != tt.want {
			t.Errorf("acceptsHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 5, 17, 13, 45, 31, 0, time.UTC)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now, "just now"},
		{now.Add(-4 * time.Second), "just now"},
		{now.Add(3 * time.Second), "in a moment"},
		{now.Add(-5 * time.Second), "5 seconds ago"},
		{now.Add(-time.Minute), "1 minute ago"},
		{now.Add(-3*time.Minute - 59*time.Second), "3 minutes ago"},
		{now.Add(59*time.Minute + 59*time.Second), "in 59 minutes"},
		{now.Add(time.Hour), "in 1 hour"},
		{now.Add(-47 * time.Hour), "47 hours ago"},
		{now.Add(-48 * time.Hour), "2 days ago"},
		{now.Add(-24 * 400 * time.Hour), "400 days ago"},
	} {
		if got := relTime(now, tt.t); got != tt.want {
			t.Errorf("relTime(now, now%+v) = %q, want %q", tt.t.Sub(now), got, tt.want)
		}
	}
	if v := when(now, now.Add(time.Minute).In(time.FixedZone("X", 3600))); v.RFC != "2026-05-17T13:46:31Z" || v.Rel != "in 1 minute" {
		t.Errorf("when = %+v", v)
	}
}

func TestDeviceName(t *testing.T) {
	for _, tt := range []struct{ ua, want string }{
		{"", "unknown"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Headless Chrome 156 on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131 on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 on iOS"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome 126 on Android"},
		{"curl/8.5.0", "curl 8"},
		{"Go-http-client/1.1", "Go 1"},
		{"short", "short"},
		{strings.Repeat("é", 30), strings.Repeat("é", 24) + "…"},
	} {
		if got := deviceName(tt.ua); got != tt.want {
			t.Errorf("deviceName(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

// Every page, signed in or not, error pages included, has the same header,
// the stylesheet and the favicon, and the headers of a private page.
func TestServeDemoPagesShareHeader(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	pages := []struct {
		path   string
		method string
		status int
	}{
		{"/", "GET", http.StatusOK},
		{"/counter", "GET", http.StatusOK},
		{"/login", "GET", http.StatusOK},
		{"/sessions", "GET", http.StatusOK},
		{"/no/such/page", "GET", http.StatusNotFound},
		{"/logout", "GET", http.StatusMethodNotAllowed},
		{"/counter", "POST", http.StatusMethodNotAllowed},
		{"/reset", "POST", http.StatusForbidden}, // no CSRF token
	}
	for _, user := range []string{"", "ana"} {
		c, _ := testutil.JarClient(t)
		if user != "" {
			loginAs(t, c, d.URL, user)
		}
		for _, p := range pages {
			req, err := http.NewRequest(p.method, strings.TrimSuffix(d.URL.String(), "/")+p.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", chromiumAccept)
			resp, err := c.Do(req)
			code, body := testutil.ReadResponse(t, resp, err)
			name := fmt.Sprintf("%s %s (user %q)", p.method, p.path, user)
			if code != p.status {
				t.Errorf("%s: %d, want %d", name, code, p.status)
			}
			h := resp.Header
			if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s: headers %v", name, h)
			}
			want := []string{
				`<header class="site">`, `<nav aria-label="Demo">`, `<a href="/counter"`, `<a href="/sessions"`,
				`<link rel="stylesheet" href="/static/style.css?v=`, `<link rel="icon" href="/favicon.ico"`,
				`<main id="main">`,
			}
			if user == "" {
				want = append(want, `<a href="/login"`, `<span>Not signed in</span>`)
			} else {
				want = append(want, `Signed in as <strong>ana</strong>`, `<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf_token" value="`)
			}
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: the page lacks %s:\n%s", name, w, body)
				}
			}
		}
	}
}

func TestServeDemoAssets(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	c, jar := testutil.JarClient(t)
	_, home := getWith(t, c, d.URL.String(), chromiumAccept)
	styleURL := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(home)
	if styleURL == nil {
		t.Fatalf("no stylesheet link:\n%s", home)
	}
	for _, a := range []struct{ path, file, contentType string }{
		{"/favicon.ico", "demo/favicon.ico", "image/x-icon"},
		{styleURL[1], "demo/style.css", "text/css; charset=utf-8"},
	} {
		want, err := fs.ReadFile(demoFiles, a.file)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := getWith(t, c, strings.TrimSuffix(d.URL.String(), "/")+a.path, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != a.contentType || body != string(want) {
			t.Errorf("GET %s: %d %s, %d bytes; want 200 %s, %d bytes", a.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), a.contentType, len(want))
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("GET %s sets a cookie: %q", a.path, resp.Header.Get("Set-Cookie"))
		}
		req, _ := http.NewRequest("GET", strings.TrimSuffix(d.URL.String(), "/")+a.path, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		resp2, err := c.Do(req)
		if code, _ := testutil.ReadResponse(t, resp2, err); code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", a.path, code)
		}
	}
	if ico, _ := fs.ReadFile(demoFiles, "demo/favicon.ico"); !bytes.HasPrefix(ico, []byte{0, 0, 1, 0, 1, 0}) {
		t.Errorf("favicon.ico is not an icon file with one image: % x", ico[:6])
	}
	css, _ := fs.ReadFile(demoFiles, "demo/style.css")
	for _, w := range []string{"@media (prefers-color-scheme: dark)", "time { white-space: nowrap; }", "tr.current td"} {
		if !bytes.Contains(css, []byte(w)) {
			t.Errorf("style.css lacks %q", w)
		}
	}
	if got := jar.Cookies(d.URL); len(got) != 0 {
		t.Errorf("an anonymous visit to / and the assets stored a session: %v", got)
	}
}

// A GET never changes a session: the addresses of the forms answer 405
// (Allow: POST), /logout with a button that does it, and /login?user= only
// fills the form in. (Before, GET /logout and GET /login?user= logged out
// and in: a link or an <img> on any site could do it.)
func TestServeDemoGetChangesNothing(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: srv.URL()}, "--store", "redis")
	c, _ := testutil.JarClient(t)
	loginAs(t, c, d.URL, "ana")
	for _, p := range []string{"/logout", "/reset", "/sessions/others", "/sessions/revoke"} {
		resp, body := getWith(t, c, strings.TrimSuffix(d.URL.String(), "/")+p, chromiumAccept)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d, Allow %q; want 405, POST", p, resp.StatusCode, resp.Header.Get("Allow"))
		}
		confirm := `<form method="post" action="` + p + `" class="actions"><input type="hidden" name="csrf_token" value="`
		if wantConfirm := p == "/logout" || p == "/reset"; strings.Contains(body, confirm) != wantConfirm {
			t.Errorf("GET %s: confirm form shown = %v, want %v:\n%s", p, !wantConfirm, wantConfirm, body)
		}
	}
	_, page := get(t, c, d.URL.JoinPath("login").String()+"?user=mallory")
	if !strings.Contains(page, `name="user" value="mallory"`) {
		t.Errorf("GET /login?user=mallory does not fill the form in:\n%s", page)
	}
	if _, page := get(t, c, d.URL.JoinPath("sessions").String()); !strings.Contains(page, "Signed in as <strong>ana</strong>") {
		t.Errorf("after the GETs, the session is not ana's any more:\n%s", page)
	}
}

// Every POST needs the session's CSRF token: without it, with a wrong one,
// with another session's, or with the one from before the login (a login
// makes a new one), the answer is 403 and nothing changes.
func TestServeDemoCSRF(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: srv.URL()}, "--store", "redis")
	a, jarA := testutil.JarClient(t)
	_, preLogin := get(t, a, d.URL.JoinPath("login").String())
	staleToken := csrfFrom(t, preLogin)
	page := loginAs(t, a, d.URL, "ana")
	token := csrfFrom(t, page)
	if token == staleToken {
		t.Fatalf("the login kept the session's CSRF token")
	}
	b, jarB := testutil.JarClient(t)
	loginAs(t, b, d.URL, "ana")
	x, _ := testutil.JarClient(t)
	_, other := get(t, x, d.URL.JoinPath("login").String())
	otherToken := csrfFrom(t, other)
	handleB := sessionHandle(t, jarB, d.URL)
	before := sessionHandle(t, jarA, d.URL)

	for _, ep := range []struct {
		path string
		form url.Values
	}{
		{"/reset", url.Values{}},
		{"/logout", url.Values{}},
		{"/login", url.Values{"user": {"mallory"}}},
		{"/sessions/others", url.Values{}},
		{"/sessions/revoke", url.Values{"handle": {handleB}}},
	} {
		for _, bad := range []struct {
			name  string
			token []string
		}{
			{"no token", nil},
			{"empty token", []string{""}},
			{"wrong token", []string{"AAAAAAAAAAAAAAAAAAAAAAAAAA"}},
			{"another session's token", []string{otherToken}},
			{"the token from before the login", []string{staleToken}},
			{"the token with a suffix", []string{token + "x"}},
		} {
			form := url.Values{}
			for k, v := range ep.form {
				form[k] = v
			}
			if bad.token != nil {
				form[csrfField] = bad.token
			}
			code, body := postForm(t, a, strings.TrimSuffix(d.URL.String(), "/")+ep.path, form)
			if code != http.StatusForbidden || !strings.Contains(body, "security token does not match") {
				t.Errorf("POST %s with %s: %d, want 403:\n%s", ep.path, bad.name, code, body)
			}
		}
	}
	// Nothing changed: both sessions are ana's, the same ones.
	for name, c := range map[string]*http.Client{"a": a, "b": b} {
		if _, page := get(t, c, d.URL.JoinPath("sessions").String()); !strings.Contains(page, "Signed in as <strong>ana</strong>") ||
			strings.Count(page, `<code class="handle">`) != 2 {
			t.Errorf("browser %s after the refused POSTs:\n%s", name, page)
		}
	}
	if after := sessionHandle(t, jarA, d.URL); after != before {
		t.Errorf("a refused POST renewed the session: %s, then %s", before, after)
	}
	// A session without a token (none was ever shown to it) refuses an
	// empty one too.
	fresh, _ := testutil.JarClient(t)
	get(t, fresh, d.URL.JoinPath("counter").String())
	if code, _ := postForm(t, fresh, d.URL.JoinPath("reset").String(), url.Values{csrfField: {""}}); code != http.StatusForbidden {
		t.Errorf("POST /reset with an empty token from a session without one: %d, want 403", code)
	}
	if _, body := get(t, fresh, d.URL.JoinPath("counter").String()); body != "This is your 2 visit" {
		t.Errorf("after the refused reset: %q", body)
	}
}
