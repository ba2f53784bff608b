package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// waitGone polls (at most 100 times, 50 ms apart) until cond holds; it
// fails the test otherwise.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("still waiting for %s after 5 s", what)
}

func newManagedServer(t *testing.T, rdb redis.UniversalClient, opts session.RedisOptions) (*httptest.Server, *session.RedisManager) {
	t.Helper()
	m, err := session.NewRedisManager(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	return srv, m
}

// TestRedisAbsoluteLifetime: a session used
// every minute, by reads and by writes, ends at its absolute limit: its
// key's TTL never runs past created + AbsoluteTimeout, the request at the
// limit gets a new anonymous session, and the old cookie never brings the
// old one back.
func TestRedisAbsoluteLifetime(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	clk := newFakeClock()
	srv, m := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{
		Expire: time.Hour, AbsoluteTimeout: 10 * time.Minute, Clock: clk.Now,
	}})
	c := newClient(t, srv)
	c.mustGet("/login?user=ana")
	id := c.cookie(session.DefaultIDCookieName)
	end := clk.Now().Add(10 * time.Minute)
	for minute := 1; minute < 10; minute++ {
		clk.Advance(time.Minute)
		path := "/whoami"
		if minute%2 == 0 {
			path = "/incr"
		}
		c.mustGet(path)
		if got := c.cookie(session.DefaultIDCookieName); got != id {
			t.Fatalf("minute %d: the session changed id (%q -> %q) before its absolute limit", minute, id, got)
		}
		ttl := rdb.PTTL(context.Background(), m.Key(id)).Val()
		if left := end.Sub(clk.Now()); ttl <= 0 || ttl > left+time.Second {
			t.Fatalf("minute %d: TTL %v, want at most the %v left of the absolute lifetime", minute, ttl, left)
		}
	}
	if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
		t.Fatalf("before the limit: %q, want ana's session", got)
	}
	clk.Advance(time.Minute)
	if got, want := c.mustGet("/whoami"), `user= auth= keys= counter=0 handle=""`; got != want {
		t.Fatalf("at the absolute limit: %q, want %q", got, want)
	}
	for range 2 {
		again := newClient(t, srv)
		again.setCookie(session.DefaultIDCookieName, id)
		if got := again.mustGet("/incr"); got != "1" {
			t.Fatalf("incr: %q", got)
		}
		if got := again.mustGet("/whoami"); !strings.HasPrefix(got, "user= auth= keys=counter counter=1 ") {
			t.Fatalf("the ended session's cookie: %q, want a new anonymous session", got)
		}
	}
}

// TestRedisIdleTimeout: an idle session ends
// at its idle limit (the key's TTL) and does not come back.
func TestRedisIdleTimeout(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	srv, m := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{Expire: time.Second}})
	c := newClient(t, srv)
	c.mustGet("/login?user=ana")
	c.mustGet("/incr")
	id := c.cookie(session.DefaultIDCookieName)
	if ttl := rdb.PTTL(context.Background(), m.Key(id)).Val(); ttl <= 0 || ttl > time.Second {
		t.Fatalf("TTL %v, want the idle timeout (1 s) at most", ttl)
	}
	waitUntil(t, "the idle session to expire", func() bool { return rdb.Exists(context.Background(), m.Key(id)).Val() == 0 })
	stale := newClient(t, srv)
	stale.setCookie(session.DefaultIDCookieName, id)
	if got, want := stale.mustGet("/whoami"), `user= auth= keys= counter=0 handle=""`; got != want {
		t.Fatalf("after the idle limit: %q, want %q", got, want)
	}
}

// TestRedisUserSessionsRevoke: 50 sessions of one
// user, on a single node and across the slots of a 3-master cluster, are
// listed exactly; RevokeUser ends all but the kept one, each revoked cookie
// then gets a new anonymous session, another user's session is untouched,
// and Revoke ends the kept one by its handle.
func TestRedisUserSessionsRevoke(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		srv, m := newManagedServer(t, rdb, session.RedisOptions{})
		const n = 50
		clients := make([]*client, n)
		var want []string
		for i := range clients {
			clients[i] = newClient(t, srv)
			clients[i].mustGet("/login?user=ana")
			want = append(want, session.HashID(clients[i].cookie(session.DefaultIDCookieName)))
		}
		bob := newClient(t, srv)
		bob.mustGet("/login?user=bob")
		slices.Sort(want)
		infos, err := m.UserSessions(ctx, "ana")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range infos {
			got = append(got, in.Handle)
			if in.Created.IsZero() || in.AuthTime.IsZero() || in.LastSeen.IsZero() || !in.Expires.After(in.LastSeen) || in.UserAgent == "" || in.IP != "" {
				t.Fatalf("info %+v: want created, auth time, last seen, a later expiry, the user agent and no IP", in)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("UserSessions listed %d sessions, want exactly the %d logged in", len(got), len(want))
		}
		if rdb, ok := rdb.(*redis.ClusterClient); ok {
			slots := map[int64]bool{}
			for _, h := range want {
				slots[rdb.ClusterKeySlot(ctx, m.Key("x")[:len("wppsess:")]+h).Val()] = true
			}
			if len(slots) < 10 {
				t.Fatalf("the sessions share %d slots, want them spread", len(slots))
			}
		}
		keep := session.HashID(clients[0].cookie(session.DefaultIDCookieName))
		revoked, err := m.RevokeUser(ctx, "ana", keep)
		if err != nil || revoked != n-1 {
			t.Fatalf("RevokeUser = %d, %v; want %d", revoked, err, n-1)
		}
		infos, err = m.UserSessions(ctx, "ana")
		if err != nil || len(infos) != 1 || infos[0].Handle != keep {
			t.Fatalf("after RevokeUser: %v, %v; want only the kept session", infos, err)
		}
		for i, c := range clients[1:] {
			if got := c.mustGet("/whoami"); got != `user= auth= keys= counter=0 handle=""` {
				t.Fatalf("revoked client %d: %q, want a new anonymous session", i+1, got)
			}
		}
		if got := clients[0].mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
			t.Fatalf("the kept session: %q", got)
		}
		if got := bob.mustGet("/whoami"); !strings.HasPrefix(got, "user=bob ") {
			t.Fatalf("another user's session: %q", got)
		}
		if n, err := m.Revoke(ctx, keep); err != nil || n != 1 {
			t.Fatalf("Revoke = %d, %v; want 1", n, err)
		}
		if infos, err := m.UserSessions(ctx, "ana"); err != nil || len(infos) != 0 {
			t.Fatalf("after Revoke: %v, %v; want none", infos, err)
		}
		if got := clients[0].mustGet("/whoami"); got != `user= auth= keys= counter=0 handle=""` {
			t.Fatalf("the session revoked by handle: %q, want a new anonymous session", got)
		}
	})
}

// TestRedisIndexNeverOutlivesSessions: with short
// TTLs, once the sessions expired no index key (nor any other key) is left.
func TestRedisIndexNeverOutlivesSessions(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		srv, _ := newManagedServer(t, rdb, session.RedisOptions{
			Options:       session.Options{Expire: time.Second},
			TouchInterval: time.Second,
		})
		for _, user := range []string{"ana", "ana", "bob"} {
			c := newClient(t, srv)
			c.mustGet("/login?user=" + user)
			c.mustGet("/whoami")
		}
		if keys := redistest.Keys(t, rdb); !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "{wppsess:u:") }) {
			t.Fatalf("keys %q: want the users' index", keys)
		}
		waitUntil(t, "every key to expire", func() bool { return len(redistest.Keys(t, rdb)) == 0 })
	})
}

// TestRedisLoggedInReadCost: 100 read-only requests
// of a logged-in session cost exactly 100 runs of the load script (its
// GET and sliding EXPIRE) and no write; once the touch interval has passed
// (its marker gone), 100 requests record last-seen once.
func TestRedisLoggedInReadCost(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := context.Background()
	clk := newFakeClock()
	srv, m := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{Clock: clk.Now}})
	c := newClient(t, srv)
	c.mustGet("/login?user=ana")
	writes := []string{"set", "setnx", "setex", "psetex", "zadd", "hset", "del", "unlink", "pexpireat", "zrem", "hdel"}
	// count returns the scripts run (EVALSHA, or EVAL after the
	// NOSCRIPT of a script's first use) and the write commands called.
	count := func() (scripts int, wrote map[string]int) {
		wrote = map[string]int{}
		for _, cmd := range writes {
			if n := commandCalls(t, rdb, cmd); n != 0 {
				wrote[cmd] = n
			}
		}
		return commandCalls(t, rdb, "evalsha") - commandFailures(t, rdb, "evalsha") + commandCalls(t, rdb, "eval"), wrote
	}
	c.mustGet("/whoami") // the load script's first run
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		c.mustGet("/whoami")
	}
	loads, wrote := count()
	if loads != 100 || len(wrote) != 0 || commandCalls(t, rdb, "get") != 100 || commandCalls(t, rdb, "expire") != 100 {
		t.Fatalf("100 read-only requests: %d script runs, get %d, expire %d, writes %v; want 100, 100, 100, none",
			loads, commandCalls(t, rdb, "get"), commandCalls(t, rdb, "expire"), wrote)
	}

	// The touch interval passes: its marker expires.
	clk.Advance(6 * time.Minute)
	for _, k := range redistest.Keys(t, rdb) {
		if strings.Contains(k, "}:seen:") {
			rdb.Del(ctx, k)
		}
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		c.mustGet("/whoami")
	}
	loads, wrote = count()
	if loads != 101 || wrote["zadd"] != 1 || wrote["hset"] != 1 || wrote["set"] != 1 {
		t.Fatalf("100 requests after the touch interval: %d script runs, writes %v; want 100 loads + 1 touch (zadd 1, hset 1, the marker's set 1)", loads, wrote)
	}
	infos, err := m.UserSessions(ctx, "ana")
	if err != nil || len(infos) != 1 || !infos[0].LastSeen.Equal(clk.Now()) {
		t.Fatalf("UserSessions = %+v, %v; want last seen at %v", infos, err, clk.Now())
	}
}

// TestRedisIDsHashedAtRest: with hashed ids (the
// default), no key and no value in Redis (every type, read whole and
// dumped) contains any id the client's cookie ever held; with HashIDs off
// the same search finds it, so the search works.
func TestRedisIDsHashedAtRest(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hashed *bool
		found  bool
	}{
		{"hashed (default)", nil, false},
		{"raw ids", new(false), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rdb := redistest.Start(t, redistest.Options{}).Client()
			srv, _ := newManagedServer(t, rdb, session.RedisOptions{HashIDs: tt.hashed})
			c := newClient(t, srv)
			c.mustGet("/incr")
			first := c.cookie(session.DefaultIDCookieName)
			c.mustGet("/login?user=ana")
			second := c.cookie(session.DefaultIDCookieName)
			c.mustGet("/whoami")
			if first == second || first == "" {
				t.Fatalf("ids %q, %q: want a login to renew the id", first, second)
			}
			var found []string
			for _, key := range redistest.Keys(t, rdb) {
				blobs := [][]byte{[]byte(key), []byte(rdb.Dump(context.Background(), key).Val())}
				switch rdb.Type(context.Background(), key).Val() {
				case "string":
					blobs = append(blobs, []byte(rdb.Get(context.Background(), key).Val()))
				case "hash":
					for k, v := range rdb.HGetAll(context.Background(), key).Val() {
						blobs = append(blobs, []byte(k), []byte(v))
					}
				case "zset":
					for _, z := range rdb.ZRangeWithScores(context.Background(), key, 0, -1).Val() {
						blobs = append(blobs, []byte(fmt.Sprint(z.Member)))
					}
				default:
					t.Fatalf("key %q of an unexpected type", key)
				}
				for _, b := range blobs {
					for _, id := range []string{first, second} {
						if bytes.Contains(b, []byte(id)) {
							found = append(found, key)
						}
					}
				}
			}
			if (len(found) > 0) != tt.found {
				t.Fatalf("keys holding a cookie's id: %q; want found=%v", found, tt.found)
			}
		})
	}
}

// TestRedisHashIDsDefaults: ids are hashed by default, not for PickleCodec
// (Python apps look sessions up by the raw id), and an explicit choice wins.
func TestRedisHashIDsDefaults(t *testing.T) {
	rdb := newTestRedisClient(t)
	for _, tt := range []struct {
		name string
		opts session.RedisOptions
		want string
	}{
		{"json default", session.RedisOptions{}, "wppsess:" + session.HashID(testID)},
		{"pickle default", session.RedisOptions{Options: session.Options{Codec: session.PickleCodec{}}}, "wppsess:" + testID},
		{"pickle hashed", session.RedisOptions{Options: session.Options{Codec: session.PickleCodec{}}, HashIDs: new(true)}, "wppsess:" + session.HashID(testID)},
		{"json raw", session.RedisOptions{HashIDs: new(false)}, "wppsess:" + testID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := session.NewRedisManager(rdb, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Key(testID); got != tt.want {
				t.Fatalf("Key = %q, want %q", got, tt.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err = m.UserSessions(ctx, "ana")
			if raw := tt.want == "wppsess:"+testID; raw != errors.Is(err, session.ErrNoIndex) {
				t.Fatalf("UserSessions error %v, want ErrNoIndex only without hashed ids", err)
			}
		})
	}
}

// commandFailures returns how many calls of cmd failed (INFO
// commandstats' failed_calls: a NOSCRIPT answer to EVALSHA, say).
func commandFailures(t testing.TB, rdb *redis.Client, cmd string) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":"); ok {
			_, f, ok := strings.Cut(rest, "failed_calls=")
			if !ok {
				return 0
			}
			n := 0
			for _, c := range f {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}

// testID is a well-formed session id.
const testID = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// TestRedisIndexMetadata: the index keeps the user agent, the IP only as
// RecordIP asks, and a logout (Destroy) takes the session off the index.
func TestRedisIndexMetadata(t *testing.T) {
	for _, tt := range []struct {
		name   string
		record session.IPRecording
		wantIP string
	}{
		{"no IP by default", session.IPNone, ""},
		{"truncated", session.IPTruncated, "127.0.0.0/24"},
		{"full", session.IPFull, "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rdb := redistest.Start(t, redistest.Options{}).Client()
			srv, m := newManagedServer(t, rdb, session.RedisOptions{RecordIP: tt.record})
			c := newClient(t, srv)
			c.mustGet("/login?user=ana")
			infos, err := m.UserSessions(context.Background(), "ana")
			if err != nil || len(infos) != 1 {
				t.Fatalf("UserSessions = %v, %v", infos, err)
			}
			if infos[0].IP != tt.wantIP || !strings.HasPrefix(infos[0].UserAgent, "Go-http-client/") {
				t.Fatalf("IP %q, user agent %q; want %q and Go's user agent", infos[0].IP, infos[0].UserAgent, tt.wantIP)
			}
			c.mustGet("/destroy")
			if keys := redistest.Keys(t, rdb); slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "{wppsess:u:") }) {
				t.Fatalf("after the logout the index is left: %q", keys)
			}
		})
	}
}

// TestRedisCappedTTLNeedsNoCorrection: in a session's last idle window
// (its TTL cut at the absolute lifetime), a read-only request at a clock
// with a fraction of a second still costs the load script alone: the Go
// side computes the same whole-second TTL and sends no correcting EXPIRE.
func TestRedisCappedTTLNeedsNoCorrection(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	clk := &fakeClock{now: time.Now().Truncate(time.Second).Add(700 * time.Millisecond)}
	srv, _ := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{
		Expire: time.Hour, AbsoluteTimeout: 30 * time.Minute, Clock: clk.Now,
	}})
	c := newClient(t, srv)
	c.mustGet("/login?user=ana")
	c.mustGet("/whoami")
	if err := rdb.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		clk.Advance(1500 * time.Millisecond)
		c.mustGet("/whoami")
	}
	if n := commandCalls(t, rdb, "expire"); n != 10 {
		t.Fatalf("10 read-only requests sent %d EXPIREs, want the load script's 10", n)
	}
}
