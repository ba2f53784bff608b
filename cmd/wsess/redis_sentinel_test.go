package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
	"github.com/wsess/wsess/pkg/session"
)

// TestSentinel: with a Sentinel URL (go-redis's failover form), serve demo
// --store redis and the redis commands (ls, sessions, show, revoke) work
// against a real master, replica and three redis-sentinel processes, and
// keep working after SENTINEL FAILOVER promotes the replica: the sessions
// written before are there, new ones are written to the new master.
func TestSentinel(t *testing.T) {
	ss := redistest.StartSentinel(t, 3)
	d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: ss.URL()}, "--store", "redis")
	a, jarA := testutil.JarClient(t)
	b, jarB := testutil.JarClient(t)
	loginAs(t, a, d.URL, "ana")
	loginAs(t, b, d.URL, "ana")
	handleA, handleB := sessionHandle(t, jarA, d.URL), sessionHandle(t, jarB, d.URL)

	cli := func(args ...string) cliResult {
		t.Helper()
		return runRedis(t, false, "", append([]string{"--redis-url", ss.URL(), "redis"}, args...)...)
	}
	sessions := func() []string {
		t.Helper()
		r := cli("sessions", "--user", "ana", "-o", "json")
		var rows []struct {
			Handle string `json:"handle"`
		}
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &rows) != nil {
			t.Fatalf("sessions: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
		}
		var hs []string
		for _, x := range rows {
			hs = append(hs, x.Handle)
		}
		slices.Sort(hs)
		return hs
	}
	both := []string{handleA, handleB}
	slices.Sort(both)
	check := func(when string) {
		t.Helper()
		if got := sessions(); !slices.Equal(got, both) {
			t.Fatalf("%s: sessions --user ana = %q, want %q", when, got, both)
		}
		if r := cli("ls", "--prefix", session.DefaultPrefix, "--keys-only"); r.Code != 0 ||
			!strings.Contains(r.Stdout, session.DefaultPrefix+handleA) || !strings.Contains(r.Stdout, session.DefaultPrefix+handleB) {
			t.Fatalf("%s: ls: exit %d, %q %q", when, r.Code, r.Stdout, r.Stderr)
		}
		if r := cli("show", session.DefaultPrefix+handleA, "-o", "json"); r.Code != 0 || !strings.Contains(r.Stdout, `"user": "ana"`) {
			t.Fatalf("%s: show: exit %d, %q %q", when, r.Code, r.Stdout, r.Stderr)
		}
	}
	check("before the failover")
	before := ss.Master()

	ss.Failover()
	if ss.Master() == before {
		t.Fatal("the failover did not move the master")
	}
	check("after the failover")
	// The demo follows the new master: both browsers are still signed in,
	// and a visit is counted there.
	for _, c := range []*http.Client{a, b} {
		if code, body := get(t, c, d.URL.JoinPath("sessions").String()); code != http.StatusOK || !strings.Contains(body, "Signed in as <strong>ana</strong>") {
			t.Fatalf("after the failover: /sessions %d\n%s", code, body)
		}
	}
	if r := cli("revoke", "--user", "ana", "--keep", handleA, "--yes"); r.Code != 0 || r.Stdout != "Revoked 1 session\n" {
		t.Fatalf("revoke after the failover: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if _, body := get(t, b, d.URL.JoinPath("sessions").String()); strings.Contains(body, "Signed in as") && !strings.Contains(body, "Not signed in") {
		t.Fatalf("the revoked browser is still signed in:\n%s", body)
	}
	if got := sessions(); !slices.Equal(got, []string{handleA}) {
		t.Fatalf("after the revoke: %q, want only %s", got, handleA)
	}
}

// TestSentinelURLErrors: a Sentinel that does not answer fails within
// seconds, naming it; a master name the Sentinels do not know says so;
// a Sentinel URL with --cluster is a usage error. No password is shown.
func TestSentinelURLErrors(t *testing.T) {
	ss := redistest.StartSentinel(t, 1)
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := "127.0.0.1:" + strconv.Itoa(port)
	tests := []struct {
		url, cluster string
		code         int
		stderr       string
	}{
		{"redis://:Pa55-never-shown@" + dead + "/0?master_name=m", "", 1,
			"wsess: cannot reach Redis Sentinel at " + dead + ": connection refused; check --redis-url / WSESS_REDIS_URL and that redis-sentinel is running\n"},
		{"redis://" + ss.Sentinels[0].Addr + "/0?master_name=nosuch&password=Pa55-never-shown", "", 1,
			"wsess: the Redis Sentinel at " + ss.Sentinels[0].Addr + " knows no master named \"nosuch\"; check master_name= in --redis-url / WSESS_REDIS_URL (redis-cli -p PORT SENTINEL MASTERS lists them)\n"},
		{"redis://" + ss.Sentinels[0].Addr + "/0?master_name=", "", 2,
			"wsess: invalid Redis URL: master_name is empty (the URL is not shown: it may hold a password); " + sentinelHint + "\n"},
		{"redis://" + ss.Sentinels[0].Addr + "/0?master_name=m&bogus=Pa55-never-shown", "", 2,
			"wsess: invalid Redis URL: a Sentinel URL option is invalid (the URL is not shown: it may hold a password); " + sentinelHint + "\n"},
		{ss.URL(), "127.0.0.1:7000", 2,
			"wsess: --cluster and a Sentinel URL (master_name=) cannot be used together; use one of them\n"},
	}
	for _, tt := range tests {
		args := []string{"--redis-url", tt.url, "redis", "ls"}
		if tt.cluster != "" {
			args = append([]string{"--cluster", tt.cluster}, args...)
		}
		r := runRedis(t, false, "", args...)
		if r.Code != tt.code || r.Stderr != tt.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tt.url, r.Code, r.Stderr, tt.code, tt.stderr)
		}
	}
}
