package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestBrowserRememberMe: through the demo's login form, a login without
// "remember me" leaves Chromium a browser-session cookie (no Max-Age or
// Expires: the browser drops it when it closes) and a login with it a
// persistent one; a later page keeps each as it is. Both stores.
func TestBrowserRememberMe(t *testing.T) {
	exe := chromiumPath(t)
	for _, store := range []string{"cookie", "redis"} {
		t.Run(store, func(t *testing.T) {
			args, name := []string{"--store", store}, session.DefaultCookieName
			if store == "redis" {
				rs := redistest.Start(t, redistest.Options{})
				args, name = append(args, "--redis-url", rs.URL()), session.DefaultIDCookieName
			}
			srv := startDemo(t, args...)
			forget := &tab{t: t, ctx: newBrowser(t, exe), name: "forget", srv: srv}
			remember := newTab(t, forget.ctx, "remember", srv)
			for _, b := range []*tab{forget, remember} {
				b.open("/")
				b.click(`header nav a[href="/login"]`, "/login", 200)
				if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#username"), "ana")); err != nil {
					t.Fatalf("%s: type the user name: %v", b.name, err)
				}
				if b == remember {
					if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#remember"))); err != nil {
						t.Fatalf("tick remember me: %v", err)
					}
					if ticked, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#remember").checked`)); err != nil || !ticked {
						t.Fatalf("remember me is not ticked after the click (%v)", err)
					}
				}
				b.click("#login-submit", "/sessions", 200)
				b.want("#user", "Signed in as ana")
			}
			for round, next := range []string{"", `header nav a[href="/counter"]`} {
				if next != "" { // a later page, which may set the cookie again
					forget.click(next, "/counter", 200)
					remember.click(next, "/counter", 200)
				}
				for _, b := range []*tab{forget, remember} {
					cks := tabCookies(t, b, name)
					if len(cks) != 1 {
						t.Fatalf("%s (round %d): %d %s cookies, want 1", b.name, round, len(cks), name)
					}
					ck := cks[0]
					if b == forget && (!ck.Session || ck.Expires > 0) {
						t.Fatalf("without remember me (round %d): session=%v expires=%v, want a browser-session cookie", round, ck.Session, ck.Expires)
					}
					if b == remember {
						exp := time.Unix(int64(ck.Expires), 0)
						if ck.Session || time.Until(exp) < 30*time.Minute {
							t.Fatalf("with remember me (round %d): session=%v expires=%v, want a persistent cookie", round, ck.Session, exp)
						}
					}
				}
			}
		})
	}
}

// tabCookies returns the cookies called name that the tab's page sees:
// those of its own browser context (Storage.getCookies without a context
// reads the default one's).
func tabCookies(t *testing.T, b *tab, name string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("%s: Network.getCookies: %v", b.name, err)
	}
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}
