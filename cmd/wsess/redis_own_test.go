package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// ownApp is an app on pkg/session's Redis manager: / counts, /login logs
// the user "ana" in, /renew renews the id. Each step leaves what the
// library keeps besides sessions: a tombstone under the old key, the
// user's index, last-seen markers.
type ownApp struct {
	srv *httptest.Server
	c   *http.Client
	u   *url.URL
}

func newOwnApp(t *testing.T, rdb redis.UniversalClient) *ownApp {
	t.Helper()
	srv := newLibraryApp(t, rdb, func(s *session.Session, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			s.Login("ana")
		case "/renew":
			s.RenewID()
		default:
			s.Incr("counter", 1)
		}
	})
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	return &ownApp{srv: srv, c: &http.Client{Jar: jar}, u: u}
}

// get requests path and returns the session id the cookie jar then holds.
func (a *ownApp) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := a.c.Get(a.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", path, resp.Status)
	}
	for _, ck := range a.c.Jar.Cookies(a.u) {
		if ck.Name == session.DefaultIDCookieName && session.ValidID(ck.Value) {
			return ck.Value
		}
	}
	t.Fatalf("%s: no session cookie", path)
	return ""
}

// lsRow is a row of redis ls --decode -o json.
type lsRow struct {
	Key         string         `json:"key"`
	Error       string         `json:"error"`
	Data        map[string]any `json:"data"`
	Bookkeeping string         `json:"bookkeeping"`
	Target      string         `json:"target"`
}

// ownStats is what these tests read of redis stats -o json.
type ownStats struct {
	Keys        int64 `json:"keys"`
	Undecodable int64 `json:"undecodable"`
	Bookkeeping struct {
		Tombstones  int64 `json:"tombstones"`
		IndexKeys   int64 `json:"index_keys"`
		Markers     int64 `json:"markers"`
		Revocations int64 `json:"revocations"`
	} `json:"bookkeeping"`
	Prefixes []struct {
		Name string `json:"name"`
	} `json:"prefixes"`
}

// TestRedisOwnKeys: the keys pkg/session keeps besides sessions (the
// tombstones RenewID and Login leave under an old key, a user's index and
// its metadata, last-seen markers, the cookie store's revocations), made
// by the library through a real app, are wsess's bookkeeping for every
// command: ls --decode says what each is (never "cannot decode"), --where
// neither selects nor counts them as undecodable, stats counts them apart
// from the sessions, show says what each is, and a show that finds nothing
// never suggests --prefix '{wppsess:' (nor 'wsess:'). Before, each was an
// undecodable session, a key stats counted as a session, or an error, and
// show suggested those prefixes.
func TestRedisOwnKeys(t *testing.T) {
	for _, backend := range redisBackends() {
		t.Run(backend.name, func(t *testing.T) {
			rdb, conn := backend.start(t)
			ctx := context.Background()
			app := newOwnApp(t, rdb)
			first := app.get(t, "/")        // a session
			logged := app.get(t, "/login")  // renamed: a tombstone under first's key; the index; a marker
			current := app.get(t, "/renew") // renamed again: a tombstone under logged's key
			if first == logged || logged == current {
				t.Fatalf("the ids did not change: %q %q %q", first, logged, current)
			}
			cm, err := session.NewCookieManager("a secret of at least 16 bytes", session.CookieOptions{Revocations: rdb})
			if err != nil {
				t.Fatal(err)
			}
			if err := cm.RevokeUser(ctx, "ana"); err != nil {
				t.Fatal(err)
			}

			key := func(id string) string { return session.DefaultPrefix + session.HashID(id) }
			index := "{" + session.DefaultPrefix + "u:" + session.HashID("ana") + "}"
			revocation := "wsess:revoked:" + session.HashID("ana")
			marker := "{" + key(current) + "}:seen:" + key(current)
			for _, k := range []string{key(first), key(logged), key(current), index, index + ":m", marker, revocation} {
				if n, err := rdb.Exists(ctx, k).Result(); err != nil || n != 1 {
					t.Fatalf("the library did not leave %q (%d, %v)", k, n, err)
				}
			}
			// Every marker the library left: the test's own count, by name.
			markers := countKeys(t, rdb, "*:seen:*")
			wsess := func(stdin string, args ...string) cliResult {
				t.Helper()
				return runRedis(t, false, stdin, append(slices.Clone(conn), args...)...)
			}
			want := map[string]lsRow{
				key(first):   {Bookkeeping: "tombstone", Target: key(logged)},
				key(logged):  {Bookkeeping: "tombstone", Target: key(current)},
				index:        {Bookkeeping: "index"},
				index + ":m": {Bookkeeping: "index_meta", Target: index},
				marker:       {Bookkeeping: "marker", Target: key(current)},
				revocation:   {Bookkeeping: "revocation"},
			}

			t.Run("ls --decode", func(t *testing.T) {
				for _, prefix := range []string{session.DefaultPrefix, ""} {
					r := wsess("", "redis", "ls", "--decode", "--prefix", prefix, "-o", "json")
					var rows []lsRow
					if err := json.Unmarshal([]byte(r.Stdout), &rows); r.Code != 0 || err != nil {
						t.Fatalf("--prefix %q: exit %d, %v, stderr %q", prefix, r.Code, err, r.Stderr)
					}
					seen := 0
					for _, row := range rows {
						if row.Error != "" {
							t.Errorf("--prefix %q: %q shown as %q", prefix, row.Key, row.Error)
						}
						if row.Key == key(current) {
							if row.Bookkeeping != "" || row.Data["counter"] != 1.0 {
								t.Errorf("the session: %+v", row)
							}
							continue
						}
						w, ok := want[row.Key]
						if !ok && strings.HasSuffix(row.Key, ":seen:"+row.Target) {
							w, ok = lsRow{Bookkeeping: "marker", Target: row.Target}, true // another marker the library left
						}
						if !ok || row.Bookkeeping != w.Bookkeeping || row.Target != w.Target || row.Data != nil {
							t.Errorf("--prefix %q: %+v; want %+v", prefix, row, w)
						}
						seen++
					}
					if wantSeen := map[string]int{session.DefaultPrefix: 2, "": 5 + int(markers)}[prefix]; seen != wantSeen {
						t.Errorf("--prefix %q: %d bookkeeping rows, want %d:\n%s", prefix, seen, wantSeen, r.Stdout)
					}
				}
			})

			t.Run("ls --where", func(t *testing.T) {
				for _, prefix := range []string{session.DefaultPrefix, ""} {
					r := wsess("", "redis", "ls", "--prefix", prefix, "--where", ".counter == 1", "-o", "jsonl")
					if r.Code != 0 || strings.TrimSpace(r.Stdout) == "" || strings.Count(r.Stdout, "\n") != 1 ||
						!strings.Contains(r.Stdout, key(current)) || dropIdleNote(r.Stderr) != "" {
						t.Errorf("--prefix %q: exit %d, stdout %q, stderr %q; want the session alone and no note", prefix, r.Code, r.Stdout, r.Stderr)
					}
				}
			})

			t.Run("stats", func(t *testing.T) {
				for _, tt := range []struct {
					args               []string
					tombstones, others int64
				}{
					{[]string{"--prefix", session.DefaultPrefix}, 2, 0},
					{[]string{"--prefix", session.DefaultPrefix, "--where", "true"}, 2, 0},
					{[]string{"--prefix", ""}, 2, 1},
					{[]string{"--prefix", "", "--where", ".counter == 1"}, 2, 1},
				} {
					r := wsess("", append([]string{"redis", "stats", "-o", "json"}, tt.args...)...)
					var st ownStats
					if err := json.Unmarshal([]byte(r.Stdout), &st); r.Code != 0 || err != nil {
						t.Fatalf("%v: exit %d, %v, stderr %q", tt.args, r.Code, err, r.Stderr)
					}
					b := st.Bookkeeping
					if st.Keys != 1 || st.Undecodable != 0 || b.Tombstones != tt.tombstones || b.IndexKeys != 2*tt.others ||
						b.Markers != markers*tt.others || b.Revocations != tt.others {
						t.Errorf("%v: %+v; want 1 key, %d tombstones, %d index keys, %d markers, %d revocations", tt.args, st,
							tt.tombstones, 2*tt.others, markers*tt.others, tt.others)
					}
					for _, p := range st.Prefixes {
						if p.Name != session.DefaultPrefix {
							t.Errorf("%v: prefix %q counted", tt.args, p.Name)
						}
					}
				}
				r := wsess("", "redis", "stats", "--prefix", "")
				if r.Code != 0 || !strings.Contains(r.Stdout, "bookkeeping.tombstones\t2\nbookkeeping.index_keys\t2\n") {
					t.Errorf("stats to a pipe: exit %d, %q", r.Code, r.Stdout)
				}
			})

			t.Run("show", func(t *testing.T) {
				for _, tt := range []struct {
					name  string
					args  []string
					stdin string
					want  map[string]any
				}{
					{"old cookie value", []string{"--", first}, "", map[string]any{"key": key(first), "bookkeeping": "tombstone", "target": key(logged)}},
					{"old cookie value on stdin", []string{"-"}, logged, map[string]any{"key": key(logged), "bookkeeping": "tombstone", "target": key(current)}},
					{"index", []string{index}, "", map[string]any{"key": index, "bookkeeping": "index", "user": session.HashID("ana"), "sessions": 1.0}},
					{"index metadata", []string{index + ":m"}, "", map[string]any{"key": index + ":m", "bookkeeping": "index_meta", "target": index, "user": session.HashID("ana"), "sessions": 1.0}},
					{"marker", []string{marker}, "", map[string]any{"key": marker, "bookkeeping": "marker", "target": key(current)}},
					{"revocation", []string{revocation}, "", map[string]any{"key": revocation, "bookkeeping": "revocation", "user": session.HashID("ana")}},
				} {
					t.Run(tt.name, func(t *testing.T) {
						r := wsess(tt.stdin, append([]string{"redis", "show", "-o", "json"}, tt.args...)...)
						var got map[string]any
						if err := json.Unmarshal([]byte(r.Stdout), &got); r.Code != 0 || err != nil {
							t.Fatalf("exit %d, %v, stdout %q, stderr %q", r.Code, err, r.Stdout, r.Stderr)
						}
						for k, v := range tt.want {
							if got[k] != v {
								t.Errorf("%s = %v, want %v (%v)", k, got[k], v, got)
							}
						}
						if _, ok := got["data"]; ok {
							t.Errorf("shown as a session: %v", got)
						}
					})
				}
				r := wsess("", "redis", "show", "--", first)
				if wantLine := "renamed\t" + key(logged) + "\n"; r.Code != 0 || !strings.Contains(r.Stdout, wantLine) || !strings.Contains(r.Stdout, "kind\ttombstone\n") {
					t.Errorf("show a tombstone to a pipe: exit %d, %q; want %q", r.Code, r.Stdout, wantLine)
				}
				r = runRedis(t, true, "", append(slices.Clone(conn), "redis", "show", index)...)
				if r.Code != 0 || !strings.Contains(r.Stdout, "1 live session") || !strings.Contains(r.Stdout, "kind     index of a user's sessions") {
					t.Errorf("show an index on a terminal: exit %d, %q", r.Code, r.Stdout)
				}
			})

			t.Run("show finds nothing", func(t *testing.T) {
				r := wsess("", "redis", "show", "nope")
				want := `wsess: no session with that id under prefix "wppsess:"; check the id and --prefix (wsess redis ls lists the keys)` + "\n"
				if r.Code != 1 || r.Stderr != want {
					t.Errorf("exit %d, stderr %q; want %q (no bookkeeping prefix suggested)", r.Code, r.Stderr, want)
				}
			})
		})
	}
}

// countKeys counts the keys that match pattern on every master (KEYS: the
// tests' databases are small).
func countKeys(t *testing.T, rdb redis.UniversalClient, pattern string) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	count := func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, pattern).Result()
		n += int64(len(keys))
		return err
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		var mu sync.Mutex
		err = c.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return count(ctx, c)
		})
	case *redis.Client:
		err = count(ctx, c)
	default:
		t.Fatalf("countKeys: %T", rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ownGoldenKeys plants one key of each kind of wsess's bookkeeping, with
// fixed names and values, for the golden files of redis show.
func ownGoldenKeys(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ctx := context.Background()
	const old, renamed, user = "Xh5hXjZ0cBKDU3Xn2Ek3ZyVbYQ1gq8U9m7wV2c4t6Ko", "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
	index := "{wppsess:u:" + user + "}"
	pipe := c.Pipeline()
	pipe.Set(ctx, "wppsess:"+old, "\x00wsess:renamed:"+renamed, 0)
	pipe.ZAdd(ctx, index,
		redis.Z{Score: float64(fixedNow.Add(time.Hour).UnixMilli()), Member: renamed},
		redis.Z{Score: float64(fixedNow.Add(-time.Hour).UnixMilli()), Member: old}) // expired: not counted
	pipe.HSet(ctx, index+":m", renamed, `{"c":1747489530}`)
	pipe.Set(ctx, "{wppsess:"+renamed+"}:seen:wppsess:"+renamed, "1", 0)
	pipe.Set(ctx, "wsess:revoked:"+user, fmt.Sprint(fixedNow.Add(-time.Minute).UnixMilli()), 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return []string{"wppsess:" + old, index, index + ":m", "{wppsess:" + renamed + "}:seen:wppsess:" + renamed, "wsess:revoked:" + user}
}

// redis show of each kind of wsess's bookkeeping, on a terminal, to a pipe
// and as JSON, against golden files.
func TestRedisShowOwnGolden(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	keys := ownGoldenKeys(t, s.Client())
	for _, mode := range []struct {
		golden string
		tty    bool
		args   []string
	}{
		{"redis_show_own_tty.golden", true, nil},
		{"redis_show_own_pipe.golden", false, nil},
		{"redis_show_own_json.golden", false, []string{"-o", "json"}},
	} {
		t.Run(mode.golden, func(t *testing.T) {
			var out strings.Builder
			for _, k := range keys {
				r := runRedis(t, mode.tty, "", append([]string{"--redis-url", s.URL(), "redis", "show", k}, mode.args...)...)
				if r.Code != 0 || dropIdleNote(r.Stderr) != "" {
					t.Fatalf("show %q: exit %d, stderr %q", k, r.Code, r.Stderr)
				}
				fmt.Fprintf(&out, "$ wsess redis show %s\n%s", k, r.Stdout)
			}
			golden(t, mode.golden, []byte(out.String()))
		})
	}
}
