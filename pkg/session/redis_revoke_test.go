package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// afterFirst is a go-redis hook that runs f once, right after the client's
// first command or pipeline has its reply: a deterministic "between the
// first and the second round trip" for an operation of two. A new
// connection's handshake (HELLO, CLIENT SETINFO), which a single-node
// client sends through its hooks, does not count.
type afterFirst struct {
	once sync.Once
	f    func()
}

func (a *afterFirst) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a *afterFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if !handshake(cmd) {
			a.once.Do(a.f)
		}
		return err
	}
}

func (a *afterFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if len(cmds) > 0 && !handshake(cmds[0]) {
			a.once.Do(a.f)
		}
		return err
	}
}

// handshake reports a command go-redis sends when it opens a connection.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select", "readonly":
		return true
	}
	return false
}

// hookedClient is a client of its own on the node or cluster rdb talks to,
// with hook installed.
func hookedClient(t *testing.T, rdb redis.UniversalClient, hook redis.Hook) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		c = redis.NewClusterClient(r.Options())
	case *redis.Client:
		c = redis.NewClient(r.Options())
	default:
		t.Fatalf("client %T", rdb)
	}
	c.AddHook(hook)
	t.Cleanup(func() { c.Close() })
	return c
}

// whoami reads the user a cookie's session is logged in as ("" for none).
func whoami(t *testing.T, srv *httptest.Server, id string) string {
	t.Helper()
	c := newClient(t, srv)
	c.setCookie(session.DefaultIDCookieName, id)
	body := c.mustGet("/whoami")
	user, _, _ := strings.Cut(strings.TrimPrefix(body, "user="), " ")
	return user
}

// login logs a new device in as user and returns its session id.
func login(t *testing.T, srv *httptest.Server, user string) string {
	t.Helper()
	c := newClient(t, srv)
	c.mustGet("/login?user=" + user)
	return c.cookie(session.DefaultIDCookieName)
}

// renew sends /renew with the cookie id and returns the id the response
// sets.
func renew(t *testing.T, srv *httptest.Server, id string) string {
	t.Helper()
	c := newClient(t, srv)
	c.setCookie(session.DefaultIDCookieName, id)
	c.mustGet("/renew")
	next := c.cookie(session.DefaultIDCookieName)
	if next == id || !session.ValidID(next) {
		t.Fatalf("RenewID kept id %q or set %q", id, next)
	}
	return next
}

// TestRedisRevokeUserFollowsRenames: a victim renamed (RenewID) between
// RevokeUser's read of the index and its deletes is ended all the same,
// when the revoke comes from another RedisManager built with only the
// prefix (an admin tool, as the CLI builds it): the renamed session must
// neither survive nor stay listed.
func TestRedisRevokeUserFollowsRenames(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		srv, m := newManagedServer(t, rdb, session.RedisOptions{})
		victim := login(t, srv, "ana")
		keep := login(t, srv, "ana")
		var renamed string
		admin := hookedClient(t, rdb, &afterFirst{f: func() { renamed = renew(t, srv, victim) }})
		am, err := session.NewRedisManager(admin, session.RedisOptions{Prefix: session.DefaultPrefix})
		if err != nil {
			t.Fatal(err)
		}
		n, err := am.RevokeUser(ctx, "ana", session.HashID(keep))
		if err != nil || n != 1 {
			t.Fatalf("RevokeUser = %d, %v; want 1 session ended", n, err)
		}
		if renamed == "" {
			t.Fatal("the rename never ran between the revoke's round trips")
		}
		if u := whoami(t, srv, renamed); u != "" {
			t.Fatalf("the victim renamed during the revoke is still logged in as %q", u)
		}
		if u := whoami(t, srv, keep); u != "ana" {
			t.Fatalf("the kept device is logged in as %q, want ana", u)
		}
		infos, err := m.UserSessions(ctx, "ana")
		if err != nil || len(infos) != 1 || infos[0].Handle != session.HashID(keep) {
			t.Fatalf("UserSessions = %v, %v; want only the kept session", infos, err)
		}
	})
}

// TestRedisRevokeHandleFollowsRename: Revoke with a handle read before the
// session was renamed ends the renamed session.
func TestRedisRevokeHandleFollowsRename(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		srv, m := newManagedServer(t, rdb, session.RedisOptions{})
		id := login(t, srv, "ana")
		handle := session.HashID(id)
		renamed := renew(t, srv, id)
		if n, err := m.Revoke(ctx, handle); err != nil || n != 1 {
			t.Fatalf("Revoke = %d, %v; want 1 (the renamed session)", n, err)
		}
		if u := whoami(t, srv, renamed); u != "" {
			t.Fatalf("Revoke of the handle before the rename left the renamed session logged in as %q", u)
		}
		if n, err := m.Revoke(ctx, session.HashID(login(t, srv, "bob"))); err != nil || n != 1 {
			t.Fatalf("Revoke of a live session = %d, %v; want 1", n, err)
		}
	})
}

// TestRedisSetExpireStaysListed: a session whose TTL was raised after login
// (SetExpire, "remember me") stays in its user's index while it lives, with
// its real expiry: its entry must not be pruned at the old expiry, where
// no listing or revoke could reach it.
func TestRedisSetExpireStaysListed(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		clk := newFakeClock()
		srv, m := newManagedServer(t, rdb, session.RedisOptions{
			Options:       session.Options{Expire: 2 * time.Second, Clock: clk.Now},
			TouchInterval: time.Second,
		})
		mux := http.NewServeMux()
		mux.HandleFunc("/remember", func(w http.ResponseWriter, r *http.Request) {
			session.From(r.Context()).SetExpire(time.Hour)
		})
		remember := httptest.NewServer(m.Middleware(mux))
		defer remember.Close()
		id := login(t, srv, "ana")
		c := newClient(t, remember)
		c.setCookie(session.DefaultIDCookieName, id)
		c.mustGet("/remember")
		clk.Advance(10 * time.Second) // past the 2 s idle timeout and the 1 s touch interval
		infos, err := m.UserSessions(ctx, "ana")
		if err != nil || len(infos) != 1 {
			t.Fatalf("UserSessions = %v, %v; want the remembered session", infos, err)
		}
		ttl := rdb.PTTL(ctx, m.Key(id)).Val()
		if d := infos[0].Expires.Sub(clk.Now().Add(ttl)); d < -time.Second || d > time.Second {
			t.Fatalf("listed expiry %v, want the real one %v (TTL %v)", infos[0].Expires, clk.Now().Add(ttl), ttl)
		}
		if n, err := m.RevokeUser(ctx, "ana"); err != nil || n != 1 {
			t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
		}
		if u := whoami(t, srv, id); u != "" {
			t.Fatalf("still logged in as %q after RevokeUser", u)
		}
	})
}

// TestRedisListedExpiryIsReal: the expiry UserSessions shows is the
// session's own (now + its TTL), not the index's bookkeeping, which is a
// touch interval later.
func TestRedisListedExpiryIsReal(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	ctx := context.Background()
	srv, m := newManagedServer(t, rdb, session.RedisOptions{})
	id := login(t, srv, "ana")
	infos, err := m.UserSessions(ctx, "ana")
	if err != nil || len(infos) != 1 {
		t.Fatalf("UserSessions = %v, %v", infos, err)
	}
	real := time.Now().Add(rdb.PTTL(ctx, m.Key(id)).Val())
	if d := infos[0].Expires.Sub(real); d < -time.Second || d > time.Second {
		t.Fatalf("listed expiry %v is %v from the session's real expiry %v", infos[0].Expires, d, real)
	}
}

// afterNthEval runs f once, right after the client's nth EVALSHA or EVAL
// (counted from when armed) has its reply.
type afterNthEval struct {
	armed atomic.Bool
	n     atomic.Int32
	nth   int32
	once  sync.Once
	f     func()
}

func (a *afterNthEval) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a *afterNthEval) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if a.armed.Load() && (cmd.Name() == "evalsha" || cmd.Name() == "eval") && a.n.Add(1) == a.nth {
			a.once.Do(a.f)
		}
		return err
	}
}

func (a *afterNthEval) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRedisRevokeBetweenLoginRetries: a Login of a stored anonymous
// session whose first compare-and-set conflicts (another app server wrote
// the session meanwhile) has listed its new key for the user; a RevokeUser
// that runs whole between that attempt and the retry ends the new key, and
// the retry must not write it back (found by an outside review: the retry
// re-created the key with a plain SET and the session stayed logged in,
// out of the index).
func TestRedisRevokeBetweenLoginRetries(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		srvB, mB := newManagedServer(t, rdb, session.RedisOptions{})
		login(t, srvB, "warm") // the scripts are cached from here on
		if _, err := mB.RevokeUser(ctx, "warm"); err != nil {
			t.Fatal(err)
		}
		hook := &afterNthEval{nth: 2} // the index add, then the compare-and-set
		mA, err := session.NewRedisManager(hookedClient(t, rdb, hook), session.RedisOptions{})
		if err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		mux := managementMux()
		mux.HandleFunc("/slowlogin", func(w http.ResponseWriter, r *http.Request) {
			<-gate
			hook.armed.Store(true)
			session.From(r.Context()).Login("ana")
		})
		srvA := httptest.NewServer(mA.Middleware(mux))
		defer srvA.Close()

		c := newClient(t, srvB)
		c.mustGet("/incr") // a stored anonymous session
		anon := c.cookie(session.DefaultIDCookieName)
		var revoked int
		hook.f = func() {
			n, err := mB.RevokeUser(ctx, "ana")
			if err != nil {
				t.Error(err)
			}
			revoked = n
		}
		a := newClient(t, srvA)
		a.setCookie(session.DefaultIDCookieName, anon)
		done := make(chan string)
		go func() {
			a.mustGet("/slowlogin")
			done <- a.cookie(session.DefaultIDCookieName)
		}()
		c.mustGet("/incr") // server B writes the session: A's first compare-and-set conflicts
		close(gate)
		after := <-done
		if revoked != 1 {
			t.Fatalf("RevokeUser between the attempts ended %d sessions, want the listed new key", revoked)
		}
		if after != "" && after != anon {
			if u := whoami(t, srvB, after); u != "" {
				t.Fatalf("the login's new session is logged in as %q after the revoke that ended it", u)
			}
		}
		for _, k := range redistest.Keys(t, rdb) {
			if v := rdb.Get(ctx, k).Val(); strings.Contains(v, `"_wsess_user":"ana"`) {
				t.Fatalf("key %s still holds ana's session after the revoke: %s", k, v)
			}
		}
	})
}

// TestRedisRevokeUserKeepsRenamedKeep: "log out my other devices" names
// the current session by its handle; when other requests of the same
// device renamed it meanwhile, once or more (K, then K1, then K2: the index
// lists K2 with origin K1 only), the renamed session is kept, by the
// renames' tombstones, and the other device is ended (twice renamed was
// found by an outside review: the kept device was logged out, 20/20).
func TestRedisRevokeUserKeepsRenamedKeep(t *testing.T) {
	for _, renames := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("renamed %d times", renames), func(t *testing.T) {
			redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
				ctx := context.Background()
				srv, m := newManagedServer(t, rdb, session.RedisOptions{})
				current := login(t, srv, "ana")
				other := login(t, srv, "ana")
				renamed := current
				for range renames {
					renamed = renew(t, srv, renamed)
				}
				n, err := m.RevokeUser(ctx, "ana", session.HashID(current))
				if err != nil || n != 1 {
					t.Fatalf("RevokeUser = %d, %v; want 1 (the other device)", n, err)
				}
				if u := whoami(t, srv, renamed); u != "ana" {
					t.Fatalf("the kept device, renamed %d times, is logged in as %q, want ana", renames, u)
				}
				if u := whoami(t, srv, other); u != "" {
					t.Fatalf("the other device is still logged in as %q", u)
				}
			})
		})
	}
}
