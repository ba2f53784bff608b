package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
			a := newBrowser(t, exe)
			b, cancel := chromedp.NewContext(a, chromedp.WithNewBrowserContext())
			t.Cleanup(cancel)

			if got := pageText(t, a, srv.URL+"/login?user=ana"); !strings.Contains(got, "Signed in as ana") {
				t.Fatalf("first browser after login: %q", got)
			}
			if got := pageText(t, b, srv.URL+"/login?user=ana"); !strings.Contains(got, "Signed in as ana") {
				t.Fatalf("second browser after login: %q", got)
			}
			page := pageText(t, a, srv.URL+"/sessions")
			if store == "redis" && !strings.Contains(page, "(this one)") {
				t.Fatalf("first browser's /sessions: %q", page)
			}
			if store == "redis" {
				rows, err := chromedp.Run(a, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tr").length - 1`))
				if err != nil || rows != 2 {
					t.Fatalf("/sessions lists %d sessions (%v), want 2", rows, err)
				}
			}
			if err := chromedp.Do(a, chromedp.Click(chromedp.CSS("#logout-others"), chromedp.NodeVisible)); err != nil {
				t.Fatalf("click 'log out my other devices': %v", err)
			}
			if err := waitFor(a, 20*time.Second, `location.search === "?others=out" && document.getElementById("others-out") !== null && document.getElementById("user").textContent.includes("Signed in as ana")`); err != nil {
				t.Fatalf("after the click the first browser never showed its session again: %v", err)
			}
			if got := pageText(t, b, srv.URL+"/sessions"); !strings.Contains(got, "Not signed in") {
				t.Fatalf("the logged-out browser's next visit: %q, want anonymous", got)
			}
			if got := pageText(t, a, srv.URL+"/sessions"); !strings.Contains(got, "Signed in as ana") {
				t.Fatalf("the first browser after logging out the other: %q", got)
			}
		})
	}
}
