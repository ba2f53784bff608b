package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/pkg/session"
)

// sessionRows are two sessions of one user, one with a hostile user agent.
func sessionRows() []session.Info {
	return []session.Info{
		{
			Handle:  "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
			Created: fixedNow.Add(-3 * time.Hour), LastSeen: fixedNow.Add(-2 * time.Minute),
			AuthTime: fixedNow.Add(-3 * time.Hour), Expires: fixedNow.Add(63 * time.Minute),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", IP: "192.0.2.0/24",
		},
		{
			Handle:  "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ",
			Created: fixedNow.Add(-10 * time.Minute), LastSeen: fixedNow.Add(-10 * time.Minute),
			AuthTime: fixedNow.Add(-10 * time.Minute), Expires: fixedNow.Add(55 * time.Minute),
			UserAgent: "curl/8.5\x1b[31m\tred",
		},
	}
}

func TestRedisSessionsRender(t *testing.T) {
	for _, tt := range []struct {
		golden string
		tty    bool
		output string
	}{
		{"redis_sessions_tty.golden", true, "table"},
		{"redis_sessions_pipe.golden", false, "table"},
		{"redis_sessions_json.golden", false, "json"},
		{"redis_sessions_jsonl.golden", false, "jsonl"},
		{"redis_sessions_none_tty.golden", true, "table"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			rows := sessionRows()
			if strings.Contains(tt.golden, "none") {
				rows = nil
			}
			if err := writeSessions(ios, tt.output, rows, fixedNow); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, out.Bytes())
		})
	}
}

func TestRedisRevokeFlags(t *testing.T) {
	h := session.HashID("x")
	for _, tt := range []struct {
		name string
		tty  bool
		args []string
		want string // in stderr
	}{
		{"nothing", true, nil, "nothing to revoke"},
		{"user and handles", true, []string{"--user", "ana", h}, "cannot be combined"},
		{"keep without user", true, []string{"--keep", h, h}, "--keep needs --user"},
		{"bad handle", true, []string{"not-a-handle"}, "is not a session handle"},
		{"bad keep", true, []string{"--user", "ana", "--keep", "x"}, "is not a session handle"},
		{"no --yes off a terminal", false, []string{"--user", "ana"}, "pass --yes"},
		{"no --yes off a terminal, handles", false, []string{h}, "pass --yes"},
		{"no --yes off a terminal, a handle starting with -", false, []string{"--", "-jWZzIYvPP_Ar0m7biVIyEITBQZsE7Td9tsNNa0RJro"}, "pass --yes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, tt.tty, "", append([]string{"--redis-url", "redis://127.0.0.1:1/0", "redis", "revoke"}, tt.args...)...)
			if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 with %q", r.Code, r.Stdout, r.Stderr, tt.want)
			}
		})
	}
	r := runRedis(t, false, "", "--redis-url", "redis://127.0.0.1:1/0", "redis", "sessions")
	if r.Code != 2 || !strings.Contains(r.Stderr, "--user is required") {
		t.Fatalf("sessions without --user: exit %d, %q", r.Code, r.Stderr)
	}
}

// loginSessions logs n clients in as user through an app using m and

// newLibraryApp serves handler behind pkg/session's Redis manager on rdb,
// with the default options: the sessions an app built on the library
// writes, for the CLI to read.
func newLibraryApp(t *testing.T, rdb redis.UniversalClient, handler func(s *session.Session, r *http.Request)) *httptest.Server {
	t.Helper()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(session.From(r.Context()), r)
	})))
	t.Cleanup(srv.Close)
	return srv
}

// loginByQuery logs the session in as the request's ?user=, if any.
func loginByQuery(s *session.Session, r *http.Request) {
	if u := r.URL.Query().Get("user"); u != "" {
		s.Login(u)
	}
}

// counter41 adds 41 to the session's counter.
func counter41(s *session.Session, _ *http.Request) { s.Incr("counter", 41) }

// returns their cookie jars' session ids.
func loginSessions(t *testing.T, srv *httptest.Server, user string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Get(srv.URL + "/login?user=" + user)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == session.DefaultIDCookieName {
				ids = append(ids, ck.Value)
			}
		}
	}
	if len(ids) != n {
		t.Fatalf("%d logins gave %d cookies", n, len(ids))
	}
	return ids
}

// TestRedisSessionsRevokeCommands: wsess redis sessions lists what an app's
// logins put in the index, and wsess redis revoke ends them, by user (with
// --keep) and by handle, on a single node and on a cluster.
func TestRedisSessionsRevokeCommands(t *testing.T) {
	for _, backend := range redisBackends() {
		t.Run(backend.name, func(t *testing.T) {
			rdb, conn := backend.start(t)
			srv := newLibraryApp(t, rdb, loginByQuery)
			ids := loginSessions(t, srv, "ana", 5)
			loginSessions(t, srv, "bob", 1)
			var want []string
			for _, id := range ids {
				want = append(want, session.HashID(id))
			}
			slices.Sort(want)
			cli := func(args ...string) cliResult {
				return runRedis(t, false, "", append(append([]string{}, conn...), append([]string{"redis"}, args...)...)...)
			}
			listed := func(user string) []string {
				t.Helper()
				r := cli("sessions", "--user", user, "-o", "json")
				if r.Code != 0 {
					t.Fatalf("sessions: exit %d, %q", r.Code, r.Stderr)
				}
				var rows []struct {
					Handle string `json:"handle"`
				}
				if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
					t.Fatalf("%v: %q", err, r.Stdout)
				}
				var hs []string
				for _, x := range rows {
					hs = append(hs, x.Handle)
				}
				slices.Sort(hs)
				return hs
			}
			if got := listed("ana"); !slices.Equal(got, want) {
				t.Fatalf("sessions --user ana = %q, want %q", got, want)
			}
			r := cli("revoke", "--user", "ana", "--keep", want[0], "--yes")
			if r.Code != 0 || r.Stdout != "Revoked 4 sessions\n" {
				t.Fatalf("revoke --user: exit %d, %q, %q", r.Code, r.Stdout, r.Stderr)
			}
			if got := listed("ana"); !slices.Equal(got, want[:1]) {
				t.Fatalf("after revoke --user --keep: %q, want %q", got, want[:1])
			}
			r = cli("revoke", "--yes", "--", want[0]) // a handle may start with "-"
			if r.Code != 0 || r.Stdout != "Revoked 1 session\n" {
				t.Fatalf("revoke HANDLE: exit %d, %q, %q", r.Code, r.Stdout, r.Stderr)
			}
			if got := listed("ana"); len(got) != 0 {
				t.Fatalf("after revoke HANDLE: %q, want none", got)
			}
			if got := listed("bob"); len(got) != 1 {
				t.Fatalf("bob's sessions: %q, want his one", got)
			}
			for _, id := range ids {
				if n := rdb.Exists(context.Background(), "wppsess:"+session.HashID(id)).Val(); n != 0 {
					t.Fatalf("a revoked session's key still exists")
				}
			}
		})
	}
}
