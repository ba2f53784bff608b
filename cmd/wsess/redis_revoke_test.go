package main

import (
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisRevokePromptCounts: the confirmation names how many sessions
// would end (looked up before asking), and a handle that names no session
// is refused, with nothing revoked.
func TestRedisRevokePromptCounts(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	srv := newLibraryApp(t, s.Client(), loginByQuery)
	ids := loginSessions(t, srv, "ana", 3)
	h0, h1 := session.HashID(ids[0]), session.HashID(ids[1])
	unknown := strings.Repeat("A", 43)

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{"user, declined", []string{"--user", "ana"}, "n\n", 1, "",
			"? End 3 sessions of user ana? [y/N] wsess: aborted: nothing was revoked\n"},
		{"user keeping one, declined", []string{"--user", "ana", "--keep", h0}, "n\n", 1, "",
			"? End 2 sessions of user ana, keeping 1? [y/N] wsess: aborted: nothing was revoked\n"},
		{"handles, declined", []string{"--", h0, h1}, "no\n", 1, "",
			"? End 2 sessions? [y/N] wsess: aborted: nothing was revoked\n"},
		{"unknown handle", []string{"--", h0, unknown}, "y\n", 1, "",
			"wsess: no session has handle " + unknown + " (under prefix wppsess:): nothing was revoked; list them with wsess redis sessions --user ID\n"},
		{"unknown handles, --yes", []string{"--yes", unknown, "B" + unknown[1:]}, "", 1, "",
			"wsess: no session has handles " + unknown + ", B" + unknown[1:] + " (under prefix wppsess:): nothing was revoked; list them with wsess redis sessions --user ID\n"},
		{"one handle, accepted", []string{"--", h1}, "y\n", 0, "Revoked 1 session\n",
			"? End 1 session? [y/N] "},
		{"user, accepted", []string{"--user", "ana"}, "yes\n", 0, "Revoked 2 sessions\n",
			"? End 2 sessions of user ana? [y/N] "},
		{"user without sessions: no question", []string{"--user", "ana"}, "", 0, "Revoked 0 sessions\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, true, tt.stdin, append([]string{"--redis-url", s.URL(), "redis", "revoke"}, tt.args...)...)
			if r.Code != tt.code || r.Stdout != tt.stdout || r.Stderr != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
