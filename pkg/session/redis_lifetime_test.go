package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisCommitAcrossDeadline: a request whose session reaches its
// absolute lifetime between its load and its commit ends it, as if it had
// expired: 200, the cookie cleared, its changes dropped, and no key left
// without a TTL, after a RenewID neither the new key nor its marker (and
// no SET ... EX 0, which Redis refuses, turned into a 500).
func TestRedisCommitAcrossDeadline(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		for _, op := range []string{"incr", "renew", "read"} {
			t.Run(op, func(t *testing.T) {
				ctx := context.Background()
				clk := newFakeClock()
				m, err := session.NewRedisManager(rdb, session.RedisOptions{
					Prefix:  "cross-" + op + ":",
					Options: session.Options{Expire: time.Hour, AbsoluteTimeout: 10 * time.Minute, Clock: clk.Now},
				})
				if err != nil {
					t.Fatal(err)
				}
				mux := managementMux()
				mux.HandleFunc("/cross", func(w http.ResponseWriter, r *http.Request) {
					s := session.From(r.Context())
					clk.Advance(10 * time.Minute) // the deadline passes while the request runs
					switch op {
					case "incr":
						s.Incr("counter", 1)
					case "renew":
						s.RenewID()
					}
				})
				srv := httptest.NewServer(m.Middleware(mux))
				defer srv.Close()
				c := newClient(t, srv)
				c.mustGet("/login?user=ana")
				c.mustGet("/incr")
				id := c.cookie(session.DefaultIDCookieName)
				clk.Advance(time.Minute)
				_, cookie, _ := c.getCookie("/cross", session.DefaultIDCookieName)
				if cookie == nil || cookie.MaxAge >= 0 {
					t.Fatalf("Set-Cookie %v, want the cookie cleared", cookie)
				}
				for _, k := range redistest.Keys(t, rdb) {
					if ttl := rdb.PTTL(ctx, k).Val(); ttl == -1 {
						t.Errorf("key %q has no TTL", k)
					}
				}
				c.setCookie(session.DefaultIDCookieName, id)
				if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user= ") || !strings.Contains(got, "counter=0") {
					t.Fatalf("after the deadline: %q, want a new anonymous session", got)
				}
				if n, err := m.RevokeUser(ctx, "ana"); err != nil || n != 0 {
					t.Fatalf("RevokeUser = %d, %v; want nothing left to revoke", n, err)
				}
			})
		}
	})
}

// TestRedisAbsoluteLifetimeWithoutCreationTime: a session stored without a
// creation time (by an earlier release, or another writer) still ends at
// the absolute lifetime, counted from its first read, even when it is only
// read (each read must not slide it forever).
func TestRedisAbsoluteLifetimeWithoutCreationTime(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	ctx := context.Background()
	clk := newFakeClock()
	srv, m := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{
		Expire: 2 * time.Hour, AbsoluteTimeout: time.Hour, Clock: clk.Now,
	}})
	id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	if err := rdb.Set(ctx, m.Key(id), `{"counter":7}`, 2*time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	c.setCookie(session.DefaultIDCookieName, id)
	for i := range 2 {
		if got := c.mustGet("/read"); got != "7" {
			t.Fatalf("read %d, %v after the first: %q, want 7", i, time.Duration(i)*50*time.Minute, got)
		}
		clk.Advance(50 * time.Minute)
	}
	if got := c.mustGet("/read"); got != "0" {
		t.Fatalf("100 minutes after its first read: %q, want a new session (counter 0)", got)
	}
}

// TestRedisCombinedCommitBadValue: when the commits of one session are
// combined, one request's value that cannot be encoded fails that request
// only; the other 11 of the 12 keep their updates.
func TestRedisCombinedCommitBadValue(t *testing.T) {
	const n = 12
	app := newGatedCounter(t, n, func(s *session.Session, r *http.Request) {
		if r.URL.Query().Has("bad") {
			s.Set("bad", func() {}) // no JSON encoding
			return
		}
		s.Incr("counter", 1)
	})
	status := make(chan int, n)
	for i := range n {
		path := "/gated"
		if i == n/2 {
			path += "?bad"
		}
		go func() {
			req, _ := http.NewRequest("GET", app.srv.URL+path, nil)
			req.AddCookie(app.cookie)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
	}
	app.waitLoaded(t, n)
	app.releaseWithWritesHeld(t)
	failed := 0
	for range n {
		if code := <-status; code != http.StatusOK {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d of %d requests failed, want only the one with the bad value", failed, n)
	}
	if got := app.c.mustGet("/read"); got != fmt.Sprint(n) {
		t.Fatalf("counter %s, want %d (1 + %d increments)", got, n, n-1)
	}
}

// TestRedisReadOnlyResponseSetsNoCookie: with an absolute lifetime the id
// cookie lives until the deadline, so a response that changes nothing does
// not send it again; without one (weppy's format) it slides and is sent on
// every response, as weppy does.
func TestRedisReadOnlyResponseSetsNoCookie(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	for _, tt := range []struct {
		absolute time.Duration
		resent   bool
	}{{0, false}, {-1, true}} {
		srv, _ := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{AbsoluteTimeout: tt.absolute}})
		c := newClient(t, srv)
		c.mustGet("/incr")
		_, cookie, _ := c.getCookie("/read", session.DefaultIDCookieName)
		if (cookie != nil) != tt.resent {
			t.Errorf("AbsoluteTimeout %v: read-only response set %v, want a cookie: %v", tt.absolute, cookie, tt.resent)
		}
	}
}

// TestRedisClusterPrefixWithBraces: on a Cluster, prefixes holding "}" or
// "{}" work: the last-seen marker lands in its session key's slot (before
// the fix every load of a logged-in session failed with CROSSSLOT).
func TestRedisClusterPrefixWithBraces(t *testing.T) {
	rdb := redistest.StartCluster(t, 3).Client()
	for _, prefix := range []string{"a}b:", "{}x:", "}{:", "app{}{t}:", "x{y"} {
		t.Run(prefix, func(t *testing.T) {
			srv, m := newManagedServer(t, rdb, session.RedisOptions{Prefix: prefix})
			c := newClient(t, srv)
			c.mustGet("/login?user=ana")
			for range 2 {
				if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
					t.Fatalf("whoami = %q", got)
				}
				c.mustGet("/incr")
			}
			if n, err := m.RevokeUser(context.Background(), "ana"); err != nil || n != 1 {
				t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
			}
		})
	}
}
