package e2e

import (
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

// TestBrowserLogoutOtherDevices: two browser
// contexts (separate cookie jars) log in to the demo as the same user; one
// uses /sessions to log out the other, whose next visit is anonymous. Both
// stores: Redis (the per-user index) and cookie (revocations in Redis).
func TestBrowserLogoutOtherDevices(t *testing.T) {
	exe := chromiumPath(t)
	for _, store := range []string{"redis", "cookie"} {
		t.Run(store, func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			args := []string{"--store", store, "--redis-url", rs.URL()}
			if store == "cookie" {
				args = append(args, "--revocations")
			}
			srv := startDemo(t, args...)
			a := &tab{t: t, ctx: newBrowser(t, exe), name: "A", srv: srv}
			b := newTab(t, a.ctx, "B", srv)
			for _, x := range []*tab{a, b} {
				x.open("/")
				x.logIn("ana")
			}
			a.click(`header nav a[href="/sessions"]`, "/sessions", 200)
			if store == "redis" {
				if rows := a.count("#sessions tbody tr"); rows != 2 {
					t.Fatalf("/sessions lists %d sessions, want 2", rows)
				}
				a.want("#sessions tr.current", "This browser")
			}
			a.click("#logout-others", "/sessions", 200)
			a.want("#notice", "Your other devices are logged out")
			a.want("#user", "Signed in as ana")
			b.click(`header nav a[href="/sessions"]`, "/sessions", 200)
			b.want("#user", "Not signed in")
			a.click(`header nav a[href="/sessions"]`, "/sessions", 200)
			a.want("#user", "Signed in as ana")
		})
	}
}
