package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
)

// visitConcurrently sends n GETs of /counter carrying cookie, par at a
// time, and returns how many were not answered 200.
func visitConcurrently(t *testing.T, url string, cookie *http.Cookie, n, par int) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest("GET", url+"/counter", nil)
			req.AddCookie(cookie)
			resp, err := client.Do(req)
			ok := err == nil && resp.StatusCode == http.StatusOK
			if resp != nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if !ok {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// visitCount GETs /counter with the jar and returns N of "This is your N
// visit".
func visitCount(t *testing.T, client *http.Client, url string) int {
	t.Helper()
	resp, err := client.Get(url + "/counter")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n int
	if _, err := fmt.Sscanf(string(b), "This is your %d visit", &n); err != nil {
		t.Fatalf("GET /counter = %d %q", resp.StatusCode, b)
	}
	return n
}

// TestDemoConcurrentVisits sends 200 visits to the demo's /counter sharing
// one session cookie, 20 at a time (the first alone, to create the
// session). With the Redis store the next visit reports 201: concurrent
// increments are merged, none is lost. With the cookie store the client
// holds the state, so concurrent responses overwrite each other
// (last-writer-wins): the test asserts only that every request succeeds
// and the count moved forward.
func TestDemoConcurrentVisits(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, store := range []string{"redis", "cookie"} {
		t.Run(store, func(t *testing.T) {
			args := []string{"--store", store}
			if store == "redis" {
				args = append(args, "--redis-url", rs.URL(), "--prefix", "concurrent:")
			}
			srv := startDemo(t, args...)
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
			if n := visitCount(t, client, srv.URL); n != 1 {
				t.Fatalf("first visit: %d", n)
			}
			var cookie *http.Cookie
			for _, c := range jar.Cookies(mustURL(t, srv.URL)) {
				if strings.HasPrefix(c.Name, "wsess_") {
					cookie = c
				}
			}
			if cookie == nil {
				t.Fatal("no session cookie after the first visit")
			}
			if failed := visitConcurrently(t, srv.URL, cookie, 199, 20); failed != 0 {
				t.Fatalf("%d of 199 concurrent visits failed", failed)
			}
			next := visitCount(t, client, srv.URL)
			switch store {
			case "redis":
				if next != 201 {
					t.Fatalf("after 200 visits the next reports %d, want 201", next)
				}
			case "cookie":
				if next < 2 {
					t.Fatalf("after 200 visits the next reports %d", next)
				}
				t.Logf("cookie store, last-writer-wins: the visit after 200 reports %d", next)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
