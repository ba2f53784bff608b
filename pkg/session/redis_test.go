package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

func newRedisServer(t *testing.T, rdb redis.UniversalClient, opts session.RedisOptions) (*httptest.Server, *session.RedisManager) {
	t.Helper()
	m, err := session.NewRedisManager(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(counterMux()))
	t.Cleanup(srv.Close)
	return srv, m
}

func TestRedisCounter(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	srv, m := newRedisServer(t, rdb, session.RedisOptions{})
	c := newClient(t, srv)
	for i := 1; i <= 3; i++ {
		if got, want := c.mustGet("/counter"), fmt.Sprintf("This is your %d visit", i); got != want {
			t.Fatalf("visit %d: %q, want %q", i, got, want)
		}
	}
	id := c.cookie(session.DefaultIDCookieName)
	if !session.ValidID(id) {
		t.Fatalf("cookie %q is not a session id", id)
	}
	ctx := context.Background()
	key := m.Key(id)
	if want := "wppsess:" + session.HashID(id); key != want {
		t.Fatalf("Key = %q, want the hashed id %q", key, want)
	}
	ttl, err := rdb.TTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL of %s = %v, %v; want (0, 1h]", key, ttl, err)
	}
	v, _ := rdb.Get(ctx, key).Result()
	if ok, _ := regexp.MatchString(`^\{"_wsess_created":[0-9]+,"counter":3\}$`, v); !ok {
		t.Fatalf("stored value %q, want the counter and the creation time", v)
	}
}

// TestRedisSetCookieAttributes: the id cookie carries the options'
// attributes; it lives until the session's absolute deadline (24 h by
// default: the server ends an idle session sooner), or, without an
// absolute lifetime, as long as the session's TTL, as weppy's does.
func TestRedisSetCookieAttributes(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, tt := range []struct {
		absolute time.Duration
		maxAge   string
	}{
		{0, "Max-Age=86400"},
		{-1, "Max-Age=3600"},
		{2 * time.Hour, "Max-Age=7200"},
	} {
		srv, _ := newRedisServer(t, rs.Client(), session.RedisOptions{Options: session.Options{
			Secure: true, Domain: "example.com", AbsoluteTimeout: tt.absolute,
		}})
		resp, err := http.Get(srv.URL + "/counter")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header.Get("Set-Cookie")
		for _, w := range []string{"wsess_session_id=", "HttpOnly", "SameSite=Lax", "Secure", "Domain=example.com", tt.maxAge} {
			if !strings.Contains(h, w) {
				t.Errorf("AbsoluteTimeout %v: Set-Cookie %q lacks %q", tt.absolute, h, w)
			}
		}
	}
}

// commandStats reads INFO commandstats: calls per command.
func commandStats(t *testing.T, rdb *redis.Client) map[string]int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		stats[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return stats
}

// commandsDuring returns the commands (and counts) Redis ran during f,
// INFO itself excluded.
func commandsDuring(t *testing.T, rdb *redis.Client, f func()) map[string]int64 {
	t.Helper()
	before := commandStats(t, rdb)
	f()
	after := commandStats(t, rdb)
	diff := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 && k != "info" {
			diff[k] = d
		}
	}
	return diff
}

func TestRedisRoundTrips(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	admin := rs.Client()
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: 1})
	defer rdb.Close()
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{})
	c := newClient(t, srv)
	c.mustGet("/counter") // creates the session and warms the connection
	c.mustGet("/counter") // loads the CAS script

	same := func(got map[string]int64, want map[string]int64) bool {
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}
	tests := []struct {
		name string
		do   func()
		want map[string]int64
	}{
		{"unchanged session: one EVALSHA (GET + EXPIRE), no write", func() { c.mustGet("/read") },
			map[string]int64{"evalsha": 1, "get": 1, "expire": 1}},
		{"changed session: the load, then one SET through one EVALSHA", func() { c.mustGet("/counter") },
			map[string]int64{"evalsha": 2, "get": 2, "expire": 1, "set": 1}},
		{"new session that stays empty: nothing", func() { newClient(t, srv).mustGet("/nothing") },
			map[string]int64{}},
		{"new session with data: one SET", func() { newClient(t, srv).mustGet("/counter") },
			map[string]int64{"set": 1}},
		{"RenewID: the load, the SET of the new key, one EVALSHA that leaves the tombstone", func() { c.mustGet("/renew") },
			map[string]int64{"evalsha": 2, "get": 2, "expire": 1, "set": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandsDuring(t, admin, tt.do); !same(got, tt.want) {
				t.Fatalf("commands = %v, want %v", got, tt.want)
			}
		})
	}

	// Malformed or oversized ids never reach Redis.
	for _, id := range []string{"abc*", strings.Repeat("A", 10240), "../../etc", "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e1"} {
		t.Run(fmt.Sprintf("id %.12q", id), func(t *testing.T) {
			got := commandsDuring(t, admin, func() {
				req, _ := http.NewRequest("GET", srv.URL+"/read", nil)
				req.Header.Set("Cookie", session.DefaultIDCookieName+"="+id)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
			})
			if len(got) != 0 {
				t.Fatalf("a malformed id sent %v to Redis", got)
			}
		})
	}
}

func TestRedisDestroyAndRenew(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := context.Background()
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{})
	c := newClient(t, srv)
	c.mustGet("/counter")
	old := c.cookie(session.DefaultIDCookieName)
	c.mustGet("/renew")
	renewed := c.cookie(session.DefaultIDCookieName)
	if renewed == old || !session.ValidID(renewed) {
		t.Fatalf("RenewID: id %q -> %q", old, renewed)
	}
	// The old key holds only a short-lived tombstone, no session data.
	if v, err := rdb.Get(ctx, "wppsess:"+old).Result(); err == nil && (v == "" || v[0] != 0 || strings.Contains(v, "counter")) {
		t.Fatalf("RenewID left the old key holding %q", v)
	}
	if ttl, _ := rdb.TTL(ctx, "wppsess:"+old).Result(); ttl > 5*time.Minute {
		t.Fatalf("the old key's tombstone lives %v, want at most 5m", ttl)
	}
	if got := c.mustGet("/counter"); got != "This is your 2 visit" {
		t.Fatalf("after renew: %q", got)
	}
	c.mustGet("/destroy")
	if n, _ := rdb.Exists(ctx, "wppsess:"+renewed).Result(); n != 0 {
		t.Fatal("Destroy left the key")
	}
	if c.cookie(session.DefaultIDCookieName) != "" {
		t.Fatal("Destroy left the cookie")
	}
	if got := c.mustGet("/counter"); got != "This is your 1 visit" {
		t.Fatalf("after destroy: %q", got)
	}
}

func TestRedisForeignValueIsNotOverwritten(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := context.Background()
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{})
	id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	rdb.Set(ctx, "wppsess:"+id, "\x80\x04not json", 0)
	rdb.HSet(ctx, "wppsess:"+id+"x", "f", "v")
	for _, cookie := range []string{id} {
		c := newClient(t, srv)
		c.setCookie(session.DefaultIDCookieName, cookie)
		if got := c.mustGet("/counter"); got != "This is your 1 visit" {
			t.Fatalf("foreign value: %q", got)
		}
		if c.cookie(session.DefaultIDCookieName) == cookie {
			t.Fatal("the session kept the foreign key's id")
		}
	}
	if v, _ := rdb.Get(ctx, "wppsess:"+id).Result(); v != "\x80\x04not json" {
		t.Fatalf("foreign value overwritten: %q", v)
	}
}

func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{Persist: true})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1})
	defer rdb.Close()
	rec := &errorRecorder{}
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{Timeout: 500 * time.Millisecond, Options: session.Options{ErrorHandler: rec.handle}})
	c := newClient(t, srv)
	c.mustGet("/counter")
	c.mustGet("/counter")
	id := c.cookie(session.DefaultIDCookieName)

	rs.Stop()
	for _, path := range []string{"/counter", "/read", "/nothing"} {
		if code, _ := c.get(path); code != http.StatusServiceUnavailable {
			t.Fatalf("GET %s during the outage = %d, want 503", path, code)
		}
	}
	if c.cookie(session.DefaultIDCookieName) != id {
		t.Fatal("the outage changed the client's cookie")
	}
	for _, err := range rec.all() {
		if !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("error %v does not wrap ErrUnavailable", err)
		}
	}

	rs.Restart()
	if got := c.mustGet("/counter"); got != "This is your 3 visit" {
		t.Fatalf("after restart: %q (the session was lost or overwritten)", got)
	}
}
func TestRedisClearRemovesOnlyThePrefix(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := context.Background()
	pipe := rdb.Pipeline()
	for i := 0; i < 10000; i++ {
		pipe.Set(ctx, fmt.Sprintf("app1:%d", i), "{}", time.Hour)
		if i < 100 {
			pipe.Set(ctx, fmt.Sprintf("app2:%d", i), "{}", time.Hour)
		}
	}
	pipe.Set(ctx, "app1", "not under the prefix", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "app1:"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := m.DeleteAll(ctx)
	if err != nil || n != 10000 {
		t.Fatalf("Clear = %d, %v; want 10000", n, err)
	}
	if size, _ := rdb.DBSize(ctx).Result(); size != 101 {
		t.Fatalf("%d keys left, want the 101 outside the prefix", size)
	}
}

// TestRedisClearRemovesTheUserIndex: Clear takes the per-user index and the
// last-seen markers with the sessions, and nothing of another prefix's.
func TestRedisClearRemovesTheUserIndex(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := context.Background()
	login := func(prefix string) {
		m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: prefix, TouchInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) { session.From(r.Context()).Login("alice") })
		mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {})
		srv := httptest.NewServer(m.Middleware(mux))
		t.Cleanup(srv.Close)
		for range 3 { // three devices of one user
			c := newClient(t, srv)
			c.mustGet("/login")
			c.mustGet("/read") // sets the last-seen marker
		}
	}
	login("app1:")
	login("app2:")
	before := redistest.Keys(t, rdb)
	var ours, theirs []string
	for _, k := range before {
		if strings.HasPrefix(k, "app1:") || strings.HasPrefix(k, "{app1:") {
			ours = append(ours, k)
		} else {
			theirs = append(theirs, k)
		}
	}
	// 3 sessions, 3 markers, the user's sorted set and hash.
	if len(ours) != 8 || len(theirs) != 8 {
		t.Fatalf("before Clear: %q", before)
	}
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "app1:"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.DeleteAll(ctx); err != nil || n != 8 {
		t.Fatalf("Clear = %d, %v; want 8", n, err)
	}
	if after := redistest.Keys(t, rdb); !slices.Equal(after, theirs) {
		t.Fatalf("after Clear: %q, want %q", after, theirs)
	}
}

// TestRedisPerSessionExpiry: SetExpire sets this session's TTL and, for a
// cookie that slides with it (no absolute lifetime), the cookie's lifetime;
// requests that only read it keep that TTL (not the default).
func TestRedisPerSessionExpiry(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	srv, m := newRedisServer(t, rdb, session.RedisOptions{Options: session.Options{AbsoluteTimeout: -1}})
	c := newClient(t, srv)
	c.mustGet("/counter")
	resp, err := c.c.Get(srv.URL + "/short")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Set-Cookie"); !strings.Contains(h, "Max-Age=600") {
		t.Fatalf("Set-Cookie %q, want Max-Age=600", h)
	}
	key := m.Key(c.cookie(session.DefaultIDCookieName))
	for _, path := range []string{"/short", "/read", "/counter", "/read"} {
		c.mustGet(path)
		ttl, err := rdb.TTL(context.Background(), key).Result()
		if err != nil || ttl <= 0 || ttl > 10*time.Minute {
			t.Fatalf("after %s: TTL %v, %v; want (0, 10m]", path, ttl, err)
		}
	}
}

// TestRedisWithoutGETEX: on a server without GETEX (Redis before 6.2,
// simulated by renaming the command) an unchanged session costs one script
// call, which needs no GETEX; on one that runs no scripts either, loads fall
// back to one pipelined GET + EXPIRE.
func TestRedisWithoutGETEX(t *testing.T) {
	for _, tt := range []struct {
		name    string
		renamed []string
		want    map[string]int64
	}{
		{"no GETEX", []string{"GETEX"}, map[string]int64{"evalsha": 1, "get": 1, "expire": 1}},
		{"no GETEX, no scripts", []string{"GETEX", "EVAL", "EVALSHA"}, map[string]int64{"get": 1, "expire": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			for _, c := range tt.renamed {
				args = append(args, "--rename-command", c, c+"_UNAVAILABLE")
			}
			rs := redistest.Start(t, redistest.Options{Args: args})
			admin := rs.Client()
			rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: 1})
			defer rdb.Close()
			srv, m := newRedisServer(t, rdb, session.RedisOptions{})
			c := newClient(t, srv)
			id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
			if err := admin.Set(context.Background(), m.Key(id), `{"counter":2}`, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			c.setCookie(session.DefaultIDCookieName, id)
			c.mustGet("/read") // warms the connection (and learns what the server lacks)
			var body string
			got := commandsDuring(t, admin, func() { body = c.mustGet("/read") })
			if body != "2" {
				t.Fatalf("read %q, want 2", body)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("commands for an unchanged session = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("commands for an unchanged session = %v, want %v", got, tt.want)
				}
			}
			ttl, err := admin.TTL(context.Background(), m.Key(id)).Result()
			if err != nil || ttl <= time.Minute || ttl > time.Hour {
				t.Fatalf("TTL %v, %v; want slid to (1m, 1h]", ttl, err)
			}
			if len(tt.renamed) == 1 { // with scripts, changes are saved too
				if got := c.mustGet("/counter"); got != "This is your 3 visit" {
					t.Fatalf("counter %q", got)
				}
			}
		})
	}
}
