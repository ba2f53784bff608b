package main

import (
	"strings"
	"testing"
	"time"
)

const testSecret = "golden-test-secret-0123456789"

// sealForTest makes a cookie with the fixed clock.
func sealForTest(t *testing.T, json string, extra ...string) string {
	t.Helper()
	args := append([]string{"encode", "--expire", "2h"}, extra...)
	r := runCLI(t, testEnv{envKey: testSecret}, false, "", append(args, json)...)
	if r.Code != 0 {
		t.Fatalf("encode: %d %s", r.Code, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

// TestDecodeGolden checks decode's exact output on a terminal, to a pipe
// and as JSON.
func TestDecodeGolden(t *testing.T) {
	cookie := sealForTest(t, `{"counter": 3, "user": {"id": 42, "name": "Ana"}, "flags": [true, null], "big": 123456789012345678901234567890}`)
	env := testEnv{envKey: testSecret}
	tests := []struct {
		name string
		tty  bool
		args []string
	}{
		{"decode_tty.golden", true, []string{"decode", cookie}},
		{"decode_pipe.golden", false, []string{"decode", cookie}},
		{"decode_json.golden", false, []string{"decode", "-o", "json", "wsess_session_data=" + cookie}},
		{"decode_json_tty.golden", true, []string{"decode", "-o", "json", "wsess_session_data=" + cookie}},
		{"decode_empty_tty.golden", true, []string{"decode", sealForTest(t, `{}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, tt.tty, "", tt.args...)
			if r.Code != 0 || r.Stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
			}
			golden(t, tt.name, []byte(r.Stdout))
		})
	}
}

const wrongKeyLine = "wsess: cannot open the cookie: wrong key, or the cookie was tampered with; check the secret (--key-file, WSESS_KEY) and, for a wsess cookie, its name (name=value or --name)\n"

func TestDecodeFailures(t *testing.T) {
	cookie := sealForTest(t, `{"a": 1}`)
	other := sealForTest(t, `{"a": 1}`, "--name", "other")
	tests := []struct {
		name   string
		env    testEnv
		args   []string
		code   int
		stderr string
	}{
		{"wrong key", testEnv{envKey: "another-secret-0123456789"}, []string{"decode", cookie}, 1,
			wrongKeyLine},
		{"tampered", testEnv{envKey: testSecret}, []string{"decode", cookie[:len(cookie)-2] + "AA"}, 1,
			wrongKeyLine},
		{"other name", testEnv{envKey: testSecret}, []string{"decode", "wsess_session_data=" + other}, 1,
			wrongKeyLine},
		{"no key", nil, []string{"decode", cookie}, 1,
			"wsess: no secret key given; set WSESS_KEY, or pass --key-file FILE (one secret a line)\n"},
		{"empty input", testEnv{envKey: testSecret}, []string{"decode", "  "}, 2,
			"wsess: no cookie in the input; give the cookie value, name=value or a Cookie header\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, false, "", tt.args...)
			if r.Code != tt.code || r.Stderr != tt.stderr || r.Stdout != "" {
				t.Errorf("got exit %d stdout %q stderr %q\nwant exit %d stderr %q", r.Code, r.Stdout, r.Stderr, tt.code, tt.stderr)
			}
			if strings.Contains(r.Stderr, testSecret) {
				t.Error("stderr shows the secret")
			}
		})
	}
}

// Expired cookies and well-known secrets are shown, with a warning on
// stderr; the exit code stays 0.
func TestDecodeWarnings(t *testing.T) {
	cookie := sealForTest(t, `{"a": 1}`) // sealed for 2h at fixedNow
	r := runCLIAt(t, fixedNow.Add(3*time.Hour), testEnv{envKey: testSecret}, false, "", "decode", cookie)
	want := "wsess: warning: the cookie expired at 2025-05-17T15:45:30Z; the app no longer accepts it\n"
	if r.Code != 0 || r.Stderr != want || !strings.Contains(r.Stdout, "data.a\t1\n") {
		t.Errorf("expired: exit %d stdout %q stderr %q, want exit 0 stderr %q", r.Code, r.Stdout, r.Stderr, want)
	}

	weak := runCLI(t, testEnv{envKey: "myverysecretkey"}, false, "", "encode", `{"a": 1}`)
	if weak.Code != 0 {
		t.Fatalf("encode: %+v", weak)
	}
	r = runCLI(t, testEnv{envKey: "myverysecretkey"}, false, "", "decode", strings.TrimSpace(weak.Stdout))
	if r.Code != 0 || !strings.HasPrefix(r.Stderr, "wsess: warning: the cookie opened with a well-known example secret") ||
		strings.Count(r.Stderr, "\n") != 1 || strings.Contains(r.Stdout, "warning") || strings.Contains(r.Stderr, "myverysecretkey") {
		t.Errorf("weak secret: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
