package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wsess/wsess/internal/redistest"
)

// axeVersion is the axe-core release scripts/bootstrap installs.
const axeVersion = "4.14.1"

// axeScript returns axe-core's axe.min.js, as scripts/bootstrap installs it:
// under $WSESS_AXE_DIR, by default <user cache dir>/wsess/axe-core. Without
// it the accessibility checks fail the test under CI=true and are skipped
// otherwise (ok false, with a loud message).
func axeScript(t *testing.T) (src string, ok bool) {
	t.Helper()
	dir := os.Getenv("WSESS_AXE_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("no cache directory for axe-core (set WSESS_AXE_DIR): %v", err)
		}
		dir = filepath.Join(cache, "wsess", "axe-core")
	}
	path := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("axe-core is not installed (%v): run ./scripts/bootstrap, which installs axe-core@%s with npm", err, axeVersion)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Logf("\n%s\n!!! SKIPPING THE ACCESSIBILITY CHECKS: %s\n%s", strings.Repeat("!", 72), msg, strings.Repeat("!", 72))
		return "", false
	}
	return string(b), true
}

// screenshotDir returns the folder the walk writes its screenshots to:
// $WSESS_SCREENSHOTS, or wsess-demo-screenshots in the temporary directory.
// It is kept after the test, for a person to look at.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WSESS_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "wsess-demo-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one browser tab walking the demo.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string // for messages: "A", "B"
	srv  *demoServer
}

// open navigates to the demo's path: the tab's first page, the only URL
// typed; every other page is reached through the pages' links and forms.
func (b *tab) open(path string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.srv.URL+path)); err != nil {
		b.t.Fatalf("%s: open %s: %v", b.name, path, err)
	}
	b.loaded(path, 200)
}

// click clicks the element sel (a link, a form's button) and waits for the
// page it leads to, whose path must be wantPath and status wantStatus.
func (b *tab) click(sel, wantPath string, wantStatus int) {
	b.t.Helper()
	// The mark goes with the page: once it is gone, the next page is there.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__walkMark = true`)); err != nil {
		b.t.Fatalf("%s: mark the page: %v", b.name, err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("%s: click %s on %s: %v", b.name, sel, b.path(), err)
	}
	if err := waitFor(b.ctx, 20*time.Second, `window.__walkMark === undefined && document.readyState === "complete"`); err != nil {
		b.t.Fatalf("%s: after clicking %s, no new page: %v", b.name, sel, err)
	}
	b.loaded(wantPath, wantStatus)
}

// loaded checks the page's path and status (of the last response: after a
// form's 303, the page it redirected to).
func (b *tab) loaded(wantPath string, wantStatus int) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]any](`[location.pathname, performance.getEntriesByType("navigation")[0].responseStatus]`))
	if err != nil || len(got) != 2 {
		b.t.Fatalf("%s: read the location: %v", b.name, err)
	}
	if got[0] != wantPath || got[1] != float64(wantStatus) {
		b.t.Fatalf("%s: at %v with status %v, want %s %d; page:\n%s", b.name, got[0], got[1], wantPath, wantStatus, b.text("body"))
	}
}

func (b *tab) path() string {
	p, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
	return p
}

// text is the visible text of the first element sel, "" for none.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(e => e ? e.innerText.trim() : "")(document.querySelector(%q))`, sel)))
	if err != nil {
		b.t.Fatalf("%s: read %s: %v", b.name, sel, err)
	}
	return s
}

// count is the number of elements sel.
func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatalf("%s: count %s: %v", b.name, sel, err)
	}
	return n
}

// want fails the test unless the text of sel contains s.
func (b *tab) want(sel, s string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, s) {
		b.t.Fatalf("%s at %s: %s says %q, want %q", b.name, b.path(), sel, got, s)
	}
}

// logIn logs in as user through the header's link and the form.
func (b *tab) logIn(user string) {
	b.t.Helper()
	b.click(`header nav a[href="/login"]`, "/login", 200)
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#username"), user)); err != nil {
		b.t.Fatalf("%s: type the user name: %v", b.name, err)
	}
	b.click("#login-submit", "/sessions", 200)
	b.want("#user", "Signed in as "+user)
}

// newTab opens a tab in a browser context of its own (its own cookies)
// of the browser that ctx belongs to.
func newTab(t *testing.T, ctx context.Context, name string, srv *demoServer) *tab {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(c); err != nil {
		t.Fatalf("%s: new browser context: %v", name, err)
	}
	return &tab{t: t, ctx: c, name: name, srv: srv}
}

// pageChecker checks each page a tab shows, in light and dark mode: the
// header and the stylesheet are there, and axe-core finds no serious or
// critical violation. It takes the screenshots asked for.
type pageChecker struct {
	axe   string // axe.min.js; "" skips the accessibility checks
	dir   string // the screenshots' folder
	store string
	pages []string // the pages checked, for the log
}

// colours of the stylesheet's body background (style.css: --bg).
var bodyBackground = map[string]string{"light": "rgb(244, 245, 247)", "dark": "rgb(14, 17, 22)"}

func (pc *pageChecker) check(b *tab, page string, screenshot bool) {
	b.t.Helper()
	pc.pages = append(pc.pages, page)
	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			b.t.Fatalf("emulate prefers-color-scheme: %s: %v", scheme, err)
		}
		var got struct {
			Header     bool   `json:"header"`
			Background string `json:"background"`
			Icon       int    `json:"icon"`
			Nowrap     bool   `json:"nowrap"`
		}
		raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](`({
			header: document.querySelector('header.site nav a[href="/counter"]') !== null &&
				document.querySelector('header.site nav a[href="/sessions"]') !== null &&
				document.querySelector('header.site #user') !== null,
			background: getComputedStyle(document.body).backgroundColor,
			icon: document.querySelector("header.site img").naturalWidth,
			nowrap: [...document.querySelectorAll("time")].every(e => getComputedStyle(e).whiteSpace === "nowrap"),
		})`))
		if err == nil {
			err = json.Unmarshal(raw, &got)
		}
		if err != nil {
			b.t.Fatalf("%s: read the page: %v", page, err)
		}
		if !got.Header || got.Background != bodyBackground[scheme] || got.Icon != 32 || !got.Nowrap {
			b.t.Errorf("%s (%s): header %v, body background %s (want %s), favicon width %d (want 32), times nowrap %v",
				page, scheme, got.Header, got.Background, bodyBackground[scheme], got.Icon, got.Nowrap)
		}
		if pc.axe != "" {
			// Only colours change with the scheme: dark mode needs only
			// the contrast rule.
			var rules []string
			if scheme == "dark" {
				rules = []string{"color-contrast", "link-in-text-block"}
			}
			pc.runAxe(b, page+" ("+scheme+")", rules)
		}
		if screenshot {
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				b.t.Fatalf("screenshot of %s: %v", page, err)
			}
			name := filepath.Join(pc.dir, fmt.Sprintf("%s-%s-%s.png", pc.store, page, scheme))
			if err := os.WriteFile(name, png, 0o644); err != nil {
				b.t.Fatal(err)
			}
		}
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		b.t.Fatalf("reset the emulated media: %v", err)
	}
}

// narrow takes a screenshot of the page in a phone-sized viewport (light
// mode) and checks that the page does not scroll sideways there.
func (pc *pageChecker) narrow(b *tab, page string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 800)); err != nil {
		b.t.Fatal(err)
	}
	defer func() {
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1200, 800)); err != nil {
			b.t.Fatal(err)
		}
	}()
	wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		b.t.Errorf("%s at 390 px: the page scrolls sideways (%v)", page, err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", page, err)
	}
	if err := os.WriteFile(filepath.Join(pc.dir, fmt.Sprintf("%s-%s-narrow.png", pc.store, page)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe injects axe-core into the page (once per page), runs its rules
// (all of them when rules is nil) and fails the test on each violation of
// impact serious or critical; the others are logged.
func (pc *pageChecker) runAxe(b *tab, page string, rules []string) {
	b.t.Helper()
	loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		b.t.Fatalf("%s: %v", page, err)
	}
	if !loaded {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](pc.axe)); err != nil {
			b.t.Fatalf("%s: inject axe-core: %v", page, err)
		}
	}
	opts := map[string]any{"resultTypes": []string{"violations"}}
	if rules != nil {
		opts["runOnly"] = map[string]any{"type": "rule", "values": rules}
	}
	optsJSON, err := json.Marshal(opts)
	if err != nil {
		b.t.Fatal(err)
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](`axe.run(document, `+string(optsJSON)+`).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe.run: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		b.t.Fatalf("%s: axe's answer: %v", page, err)
	}
	for _, v := range vs {
		msg := fmt.Sprintf("axe on %s (%s store): %s [%s] %s\n    %s", page, pc.store, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// TestBrowserDemoWalk walks every page of the demo in Chromium through its
// links and forms, for both stores: count visits, log in (three browsers
// as one user), list the sessions, revoke one (Redis), log out the other
// devices, log out; a stale form of an ended session gets the 403 page.
// Each page is checked in light and dark mode, with axe-core when
// installed; the home and sessions pages are screenshotted.
func TestBrowserDemoWalk(t *testing.T) {
	exe := chromiumPath(t)
	axe, haveAxe := axeScript(t)
	dir := screenshotDir(t)
	for _, store := range []string{"cookie", "redis"} {
		t.Run(store, func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			args := []string{"--store", store, "--redis-url", rs.URL()}
			if store == "cookie" {
				args = append(args, "--revocations")
			}
			srv := startDemo(t, args...)
			pc := &pageChecker{axe: axe, dir: dir, store: store}
			walkDemo(t, exe, srv, pc)
			t.Logf("%s store: checked %s", store, strings.Join(pc.pages, ", "))
		})
	}
	t.Logf("screenshots (home and sessions pages, light and dark, both stores): %s", dir)
	if !haveAxe {
		t.Skip("axe-core is not installed: the pages were walked without the accessibility checks (run ./scripts/bootstrap)")
	}
}

func walkDemo(t *testing.T, exe string, srv *demoServer, pc *pageChecker) {
	redis := pc.store == "redis"
	a := &tab{t: t, ctx: newBrowser(t, exe), name: "A", srv: srv}
	if err := chromedp.Do(a.ctx, chromedp.EmulateViewport(1200, 800)); err != nil {
		t.Fatal(err)
	}

	// Anonymous: the home page, the counter.
	a.open("/")
	a.want("#user", "Not signed in")
	a.want("#count", "0")
	if a.count("#reset") != 0 {
		t.Errorf("a reset button without a session")
	}
	pc.check(a, "home-anonymous", false)
	a.click(`header nav a[href="/counter"]`, "/counter", 200)
	a.want("#visit", "This is your 1 visit")
	pc.check(a, "counter", true)
	a.click("#count-again", "/counter", 200)
	a.want("#visit", "This is your 2 visit")
	a.click("header a.brand", "/", 200)
	a.want("#count", "2")

	// Log in; two more browsers log in as the same user.
	a.click(`header nav a[href="/login"]`, "/login", 200)
	pc.check(a, "login", true)
	a.click("header a.brand", "/", 200)
	a.logIn("ana")
	if redis && (a.count("#sessions tbody tr") != 1 || a.count("#logout-others") != 0) {
		t.Errorf("one session: %d rows, %d 'log out my other devices'", a.count("#sessions tbody tr"), a.count("#logout-others"))
	}
	b := newTab(t, a.ctx, "B", srv)
	b.open("/")
	b.logIn("ana")
	var c *tab
	if redis {
		c = newTab(t, a.ctx, "C", srv)
		c.open("/")
		c.logIn("ana")
	}

	// A lists them.
	a.click(`header nav a[href="/sessions"]`, "/sessions", 200)
	if redis {
		if n := a.count("#sessions tbody tr"); n != 3 {
			t.Fatalf("A lists %d sessions, want 3", n)
		}
		cur, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#sessions tbody tr")].map(r => getComputedStyle(r.cells[1]).backgroundColor)`))
		if err != nil || a.count("#sessions tr.current") != 1 || cur[0] == cur[1] {
			t.Errorf("this browser's row is not highlighted: backgrounds %v (%v)", cur, err)
		}
		a.want("#sessions tr.current", "This browser")
	} else {
		a.want("#unlisted", "cannot show your other sessions")
	}
	if a.count("#logout-others") != 1 {
		t.Fatalf("no 'log out my other devices' button")
	}
	pc.check(a, "sessions", true)
	pc.narrow(a, "sessions")

	// Revoke B by the button on its row (Redis); B's next page is
	// anonymous, and its stale log out form gets the 403 page.
	if redis {
		b.click(`header nav a[href="/sessions"]`, "/sessions", 200)
		handleB := b.text("#sessions tr.current code.handle")
		a.click(fmt.Sprintf(`form[action="/sessions/revoke"]:has(input[name="handle"][value=%q]) button`, handleB), "/sessions", 200)
		a.want("#notice", "is revoked")
		if n := a.count("#sessions tbody tr"); n != 2 {
			t.Errorf("after the revoke A lists %d sessions, want 2", n)
		}
		pc.check(a, "sessions-revoked", false)
		b.click("#logout", "/logout", 403)
		b.want("#problem", "security token does not match")
		pc.check(b, "403", false)
		b.click(`main a[href="/"]`, "/", 200)
		b.want("#user", "Not signed in")
	}

	// Log out the other devices: the last other one is anonymous.
	a.click("#logout-others", "/sessions", 200)
	a.want("#notice", "Your other devices are logged out")
	a.want("#user", "Signed in as ana")
	other := b
	if redis {
		other = c
		if a.count("#sessions tbody tr") != 1 || a.count("#logout-others") != 0 {
			t.Errorf("after logging out the others: %d rows, %d buttons", a.count("#sessions tbody tr"), a.count("#logout-others"))
		}
	}
	pc.check(a, "sessions-others-out", false)
	other.click(`header nav a[href="/sessions"]`, "/sessions", 200)
	other.want("#user", "Not signed in")
	other.want("#signed-out", "log in to see your sessions")

	// Home, signed in: the count came through the login; then log out.
	a.click("header a.brand", "/", 200)
	a.want("#count", "2")
	a.want("#user", "Signed in as ana")
	pc.check(a, "home", true)
	a.click("#logout", "/", 200)
	a.want("#user", "Not signed in")
	a.want("#count", "0")
	if !logged(srv, "POST", "/logout", 303) || !logged(srv, "POST", "/sessions/others", 303) {
		t.Errorf("the server did not log the POSTs:\n%s", srv.Stderr())
	}

	// The error pages are not linked: one typed URL shows the 405 page.
	if err := chromedp.Do(a.ctx, chromedp.Navigate(srv.URL+"/logout")); err != nil {
		t.Fatal(err)
	}
	a.loaded("/logout", 405)
	pc.check(a, "405", false)
}
