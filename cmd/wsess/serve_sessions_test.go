package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
	"github.com/wsess/wsess/pkg/session"
)

// sessionHandle returns the handle of the Redis session in jar.
func sessionHandle(t *testing.T, jar *cookiejar.Jar, base *url.URL) string {
	t.Helper()
	for _, c := range jar.Cookies(base) {
		if c.Name == session.DefaultIDCookieName {
			return session.HashID(c.Value)
		}
	}
	t.Fatalf("no %s cookie in the jar", session.DefaultIDCookieName)
	return ""
}

var (
	handleRE = regexp.MustCompile(`<td><code class="handle">([^<]+)</code>`)
	timeRE   = regexp.MustCompile(`<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>`)
)

// listed returns the handles /sessions lists, and the current one.
func listed(page string) (handles []string, current string) {
	for _, row := range strings.Split(page, "<tr")[1:] {
		m := handleRE.FindStringSubmatch(row)
		if m == nil {
			continue
		}
		handles = append(handles, m[1])
		if strings.HasPrefix(row, ` class="current" aria-current="true">`) {
			current = m[1]
		}
	}
	return handles, current
}

// TestServeDemoSessionsRedis (issue 10 item 8): /sessions lists the user's
// sessions by handle (never by id), this browser's highlighted; a revoke
// button ends one, and only one of the user's own; "log out my other
// devices" ends the others and shows only while there are others; the log
// out form ends this one.
func TestServeDemoSessionsRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: srv.URL()}, "--store", "redis")
	sessionsURL := d.URL.JoinPath("sessions").String()
	a, jarA := testutil.JarClient(t)
	page := loginAs(t, a, d.URL, "ana")
	if handles, current := listed(page); len(handles) != 1 || current != sessionHandle(t, jarA, d.URL) {
		t.Fatalf("one session: handles %v, current %q\n%s", handles, current, page)
	}
	if strings.Contains(page, `id="logout-others"`) {
		t.Errorf("'log out my other devices' with no other device:\n%s", page)
	}
	b, jarB := testutil.JarClient(t)
	loginAs(t, b, d.URL, "ana")
	c, _ := testutil.JarClient(t)
	loginAs(t, c, d.URL, "ana")
	bob, jarBob := testutil.JarClient(t)
	loginAs(t, bob, d.URL, "bob")

	_, page = get(t, a, sessionsURL)
	handles, current := listed(page)
	if len(handles) != 3 || current != sessionHandle(t, jarA, d.URL) || !strings.Contains(page, `id="logout-others"`) {
		t.Fatalf("three sessions: handles %v, current %q\n%s", handles, current, page)
	}
	if strings.Count(page, `class="current"`) != 1 || strings.Count(page, `>Revoke</button>`) != 2 || !strings.Contains(page, `<span class="badge">This browser</span>`) {
		t.Errorf("want this browser's row highlighted, a revoke button on each other row:\n%s", page)
	}
	for _, jar := range []*cookiejar.Jar{jarA, jarB} {
		for _, ck := range jar.Cookies(d.URL) {
			if strings.Contains(page, ck.Value) {
				t.Errorf("/sessions shows a session id:\n%s", page)
			}
		}
	}
	// Times: relative, with the exact RFC 3339 time on hover.
	times := timeRE.FindAllStringSubmatch(page, -1)
	if len(times) != 9 {
		t.Errorf("%d <time> elements, want 3 per session:\n%s", len(times), page)
	}
	for _, m := range times {
		at, err := time.Parse(time.RFC3339, m[1])
		if err != nil || m[1] != m[2] || time.Since(at) > time.Hour || time.Until(at) > time.Hour ||
			!(m[3] == "just now" || strings.HasSuffix(m[3], " ago") || strings.HasPrefix(m[3], "in ")) {
			t.Errorf("time %q", m[0])
		}
	}

	// Revoke b's session from a.
	token := csrfFrom(t, page)
	code, page := postForm(t, a, d.URL.JoinPath("sessions", "revoke").String(), url.Values{csrfField: {token}, "handle": {sessionHandle(t, jarB, d.URL)}})
	if code != http.StatusOK || !strings.Contains(page, `<p class="notice" id="notice" role="status">Session `+shortHandle(sessionHandle(t, jarB, d.URL))+` is revoked`) {
		t.Fatalf("revoke: %d\n%s", code, page)
	}
	if handles, _ := listed(page); len(handles) != 2 {
		t.Errorf("after the revoke: %v", handles)
	}
	if _, page := get(t, a, sessionsURL); strings.Contains(page, `id="notice"`) {
		t.Errorf("the notice shows twice:\n%s", page)
	}
	if _, page := get(t, b, sessionsURL); !strings.Contains(page, "Not signed in") {
		t.Errorf("the revoked browser:\n%s", page)
	}

	// A handle that is not one of ana's revokes nothing.
	_, page = postForm(t, a, d.URL.JoinPath("sessions", "revoke").String(), url.Values{csrfField: {token}, "handle": {sessionHandle(t, jarBob, d.URL)}})
	if !strings.Contains(page, "That session had already ended.") {
		t.Errorf("revoking bob's session from ana's:\n%s", page)
	}
	if _, page := get(t, bob, sessionsURL); !strings.Contains(page, "Signed in as <strong>bob</strong>") {
		t.Errorf("ana revoked bob's session:\n%s", page)
	}

	// Log out the others: c ends, a stays, and the button goes.
	code, page = postForm(t, a, d.URL.JoinPath("sessions", "others").String(), url.Values{csrfField: {token}})
	if code != http.StatusOK || !strings.Contains(page, "Your other devices are logged out (1 session ended).") {
		t.Fatalf("log out my other devices: %d\n%s", code, page)
	}
	if handles, current := listed(page); len(handles) != 1 || current != sessionHandle(t, jarA, d.URL) || strings.Contains(page, `id="logout-others"`) {
		t.Errorf("after logging out the others: %v, %q\n%s", handles, current, page)
	}
	if _, page := get(t, c, sessionsURL); !strings.Contains(page, "Not signed in") {
		t.Errorf("the logged-out browser:\n%s", page)
	}

	// The log out form.
	code, page = postForm(t, a, d.URL.JoinPath("logout").String(), url.Values{csrfField: {token}})
	if code != http.StatusOK || !strings.Contains(page, "<span>Not signed in</span>") || len(jarA.Cookies(d.URL)) != 0 {
		t.Fatalf("after logging out: %d, cookies %v\n%s", code, jarA.Cookies(d.URL), page)
	}
	if _, page := get(t, a, sessionsURL); !strings.Contains(page, `id="signed-out"`) {
		t.Errorf("/sessions after logging out:\n%s", page)
	}
	if logs := d.Log.String(); !strings.Contains(logs, " POST /sessions/revoke 303 ") || !strings.Contains(logs, " POST /logout 303 ") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestServeDemoSessionsCookie: the cookie store lists no sessions; with
// --revocations it logs out the others, without it says it cannot.
func TestServeDemoSessionsCookie(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	t.Run("with revocations", func(t *testing.T) {
		d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: srv.URL()}, "--store", "cookie", "--revocations")
		a, _ := testutil.JarClient(t)
		b, _ := testutil.JarClient(t)
		loginAs(t, a, d.URL, "ana")
		loginAs(t, b, d.URL, "ana")
		_, page := get(t, a, d.URL.JoinPath("sessions").String())
		if !strings.Contains(page, `id="unlisted"`) || !strings.Contains(page, `id="logout-others"`) || strings.Contains(page, `<table`) {
			t.Fatalf("the cookie store's page:\n%s", page)
		}
		if len(timeRE.FindAllString(page, -1)) != 3 {
			t.Errorf("want this session's login, start and expiry as <time>:\n%s", page)
		}
		token := csrfFrom(t, page)
		code, page := postForm(t, a, d.URL.JoinPath("sessions", "others").String(), url.Values{csrfField: {token}})
		if code != http.StatusOK || !strings.Contains(page, "Signed in as <strong>ana</strong>") || !strings.Contains(page, "Your other devices are logged out.") {
			t.Fatalf("log out my other devices: %d\n%s", code, page)
		}
		if _, page := get(t, b, d.URL.JoinPath("sessions").String()); !strings.Contains(page, "Not signed in") {
			t.Fatalf("the other device:\n%s", page)
		}
		if _, page := get(t, a, d.URL.JoinPath("sessions").String()); !strings.Contains(page, "Signed in as <strong>ana</strong>") {
			t.Fatalf("the device that logged out the others:\n%s", page)
		}
		if code, _ := postForm(t, a, d.URL.JoinPath("sessions", "revoke").String(), url.Values{csrfField: {token}, "handle": {"x"}}); code != http.StatusNotImplemented {
			t.Errorf("POST /sessions/revoke with the cookie store: %d, want 501", code)
		}
	})
	t.Run("without revocations", func(t *testing.T) {
		d := startDemo(t, []string{demoKey}, nil)
		a, _ := testutil.JarClient(t)
		page := loginAs(t, a, d.URL, "ana")
		if !strings.Contains(page, `id="no-revoke"`) || strings.Contains(page, `id="logout-others"`) {
			t.Fatalf("want the page to say it cannot log out other devices:\n%s", page)
		}
		if code, _ := postForm(t, a, d.URL.JoinPath("sessions", "others").String(), url.Values{csrfField: {csrfFrom(t, page)}}); code != http.StatusNotImplemented {
			t.Fatalf("POST /sessions/others = %d, want 501", code)
		}
	})
}

func TestServeDemoLoginForm(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	a, _ := testutil.JarClient(t)
	_, form := get(t, a, d.URL.JoinPath("login").String())
	token := csrfFrom(t, form)
	for _, tt := range []struct{ user, shown string }{
		{"", `value=""`},
		{"   ", `value="   "`},
		{strings.Repeat("x", 65), `value=""`},
		{"\xff", `value=""`},
	} {
		code, page := postForm(t, a, d.URL.JoinPath("login").String(), url.Values{"user": {tt.user}, csrfField: {token}})
		if code != http.StatusBadRequest || !strings.Contains(page, `aria-invalid="true"`) || !strings.Contains(page, tt.shown) ||
			!strings.Contains(page, `<p class="error" id="username-error">`) {
			t.Errorf("login as %q: %d\n%s", tt.user, code, page)
		}
	}
	if _, page := get(t, a, d.URL.JoinPath("sessions").String()); !strings.Contains(page, "Not signed in") {
		t.Errorf("a refused login signed in:\n%s", page)
	}
	// A name is shown escaped.
	page := loginAs(t, a, d.URL, "<b>ana</b>")
	if strings.Contains(page, "<b>ana</b>") {
		t.Errorf("the user name is not escaped:\n%s", page)
	}
}
