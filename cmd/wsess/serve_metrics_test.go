package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
)

// metricsLine matches one sample of the demo's /metrics.
var metricsLine = regexp.MustCompile(`^wsess_session_(events|event_seconds|event_count)_total\{store="(cookie|redis)",kind="([a-z_]+)"\} ([0-9.e+-]+)$`)

// TestServeDemoMetrics: with --metrics, /metrics serves the session
// events in the Prometheus text format, counting what the requests did
// (three loads and commits for three counter visits, a revoke); a scrape
// starts no session; without --metrics there is no /metrics.
func TestServeDemoMetrics(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, store := range []string{"cookie", "redis"} {
		t.Run(store, func(t *testing.T) {
			d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: rs.URL()}, "--store", store, "--metrics")
			c, jar := testutil.JarClient(t)
			countThree(t, c, d.URL) // three /counter, two /
			resp, err := c.Get(d.URL.JoinPath("metrics").String())
			code, body := testutil.ReadResponse(t, resp, err)
			if code != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
				t.Fatalf("GET /metrics: %d %q", code, resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Fatal("a scrape set a session cookie")
			}
			values := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
				if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
					continue
				}
				m := metricsLine.FindStringSubmatch(line)
				if m == nil || m[2] != store {
					t.Fatalf("not a sample of this store: %q", line)
				}
				values[m[1]+"/"+m[3]] = m[4]
			}
			for k, want := range map[string]string{"events/load": "5", "events/commit": "5", "events/store_error": "0", "events/revoke": "0"} {
				if values[k] != want {
					t.Errorf("%s = %q, want %s\n%s", k, values[k], want, body)
				}
			}
			if len(jar.Cookies(d.URL)) != 1 {
				t.Fatalf("cookies %v", jar.Cookies(d.URL))
			}
		})
	}
	d := startDemo(t, []string{demoKey}, nil)
	if code, _ := get(t, http.DefaultClient, d.URL.JoinPath("metrics").String()); code != http.StatusNotFound {
		t.Fatalf("/metrics without --metrics: %d, want 404", code)
	}
}
