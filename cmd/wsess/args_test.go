package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// dashLedSecret seals the dash-led cookies of these tests.
const dashLedSecret = "dash-led-test-secret-0123456789abcdef"

// sealDashLed seals Emmett cookies with pkg/session until n of them start
// with "-" (about 1 in 64 does), each holding {"counter": i} for its index
// i. The number of tries is bounded.
func sealDashLed(t *testing.T, n int) []string {
	t.Helper()
	m, err := session.NewCookieManager(dashLedSecret, session.CookieOptions{
		Format:  session.FormatEmmett,
		Options: session.Options{CookieName: "emt_session_data_app"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for try := 0; try < 5000 && len(out) < n; try++ {
		c, err := m.Seal(map[string]any{"counter": len(out)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "-") {
			out = append(out, c)
		}
	}
	if len(out) < n {
		t.Fatalf("only %d of %d dash-led cookies in 5000 seals", len(out), n)
	}
	return out
}

// counterOf reads data.counter from decode's output: -o json or tsv.
func counterOf(t *testing.T, stdout string) string {
	t.Helper()
	if strings.HasPrefix(stdout, "{") {
		var doc struct {
			Format string         `json:"format"`
			Data   map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("decode -o json: %v: %q", err, stdout)
		}
		if doc.Format != "emmett" {
			t.Errorf("format %q, want emmett", doc.Format)
		}
		b, _ := json.Marshal(doc.Data["counter"])
		return string(b)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "data.counter\t"); ok {
			return v
		}
	}
	t.Fatalf("no data.counter in %q", stdout)
	return ""
}

// TestDecodeDashLedCookieRootFlags is the regression test of the
// hand-kept list of decode's value flags: a flag of the root (--redis-url,
// persistent) before the subcommand hid "decode" from it, so a dash-led
// value was parsed as shorthand flags (exit 2, "unknown shorthand flag").
// It is a cookie: one that is no valid cookie is refused as a cookie, with
// the format's reason (exit 1).
func TestDecodeDashLedCookieRootFlags(t *testing.T) {
	notCookie := "-" + strings.Repeat("A", 43) + ":" + strings.Repeat("B", 44) + ":AAAA"
	r := runCLI(t, nil, false, "", "--redis-url", "redis://127.0.0.1:1/0", "decode", "--key", "K", notCookie)
	want := "wsess: not a session cookie in a known format; give a wsess, weppy or Emmett cookie value\n"
	if r.Code != 1 || r.Stderr != want || r.Stdout != "" {
		t.Errorf("got exit %d stdout %q stderr %q\nwant exit 1 stderr %q", r.Code, r.Stdout, r.Stderr, want)
	}
}

// TestDecodeDashLedCookiePositions: a real dash-led cookie sealed by
// pkg/session opens wherever it stands among the flags of decode and of
// the root, in every form a flag's value can take.
func TestDecodeDashLedCookiePositions(t *testing.T) {
	cookies := sealDashLed(t, 2)
	const url = "redis://127.0.0.1:1/0"
	key := dashLedSecret
	for i, c := range cookies {
		tests := []struct {
			name string
			args []string
		}{
			{"alone", []string{"decode", "--key", key, c}},
			{"before the flags", []string{"decode", c, "--key", key, "-o", "json"}},
			{"between flags", []string{"decode", "--key", key, c, "--format", "emmett"}},
			{"--flag=value", []string{"decode", "--key=" + key, "--format=emmett", c}},
			{"-o json", []string{"decode", "-o", "json", c, "--key", key}},
			{"-ojson", []string{"decode", "-ojson", "--key", key, c}},
			{"root flag before the subcommand", []string{"--redis-url", url, "decode", "--key", key, c}},
			{"root flag=value before the subcommand", []string{"--redis-url=" + url, "decode", c, "--key=" + key}},
			{"root flag after the subcommand", []string{"decode", "--redis-url", url, c, "--key", key}},
			{"root slice flag", []string{"--cluster", "127.0.0.1:1,127.0.0.1:2", "decode", "--key", key, "-o", "json", c}},
			{"subcommand flag before the subcommand", []string{"--key", key, "decode", c}},
			{"-- already there", []string{"decode", "--key", key, "--", c}},
			{"-- after the cookie", []string{"decode", "--key", key, c, "--"}},
			{"-- with root flags", []string{"--redis-url", url, "decode", "-o", "json", "--key", key, "--", c}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := runCLI(t, nil, false, "", tt.args...)
				if r.Code != 0 {
					t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
				}
				if got, want := counterOf(t, r.Stdout), string(rune('0'+i)); got != want {
					t.Errorf("data.counter = %s, want %s", got, want)
				}
			})
		}
	}
}

// TestRedisShowDashLedID: a session id that starts with "-" (1 in 64 of
// pkg/session's) is shown, not parsed as shorthand flags.
func TestRedisShowDashLedID(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	id := "-" + strings.Repeat("x", 41) + "A" // 43 base64url characters: session.ValidID
	if !session.ValidID(id) {
		t.Fatalf("%q is no valid session id", id)
	}
	if err := s.Client().Set(context.Background(), session.DefaultPrefix+session.HashID(id), `{"counter": 5}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"redis", "show", id},
		{"redis", "show", id, "--prefix", session.DefaultPrefix},
		{"--redis-url", s.URL(), "redis", "show", "-o", "tsv", id},
	} {
		if args[0] != "--redis-url" {
			args = append([]string{"--redis-url", s.URL()}, args...)
		}
		r := runRedis(t, false, "", args...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "data.counter\t5\n") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.Code, r.Stdout, r.Stderr)
		}
	}
}
