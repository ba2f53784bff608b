package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisReplayRecomputesExpiry: a commit that replays
// onto a value another request gave a 30-day SetExpire writes the key with
// that TTL and sends Max-Age=2592000, not the default hour.
func TestRedisReplayRecomputesExpiry(t *testing.T) {
	for _, processes := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d processes", processes), func(t *testing.T) {
			// No absolute lifetime: it would cut the 30 days to 24 hours.
			servers, admin, m, g := twoApps(t, processes, false, session.RedisOptions{Options: session.Options{AbsoluteTimeout: -1}})
			id := newSession(t, servers[0])
			finish := held(t, g, servers[0], id, "a", "incr")
			send(t, servers[len(servers)-1], id, "/op?do=expire30d")
			c, ok := sessionCookie(finish())
			if !ok || c.MaxAge != 2592000 {
				t.Fatalf("replayed commit sent cookie %v, want Max-Age=2592000", c)
			}
			if ttl := admin.TTL(context.Background(), m.Key(id)).Val(); ttl <= time.Hour {
				t.Fatalf("replayed commit left TTL %v, want 30 days", ttl)
			}
		})
	}
}

// TestRedisExpiryOverrideHolds: a session's SetExpire
// override is applied by the load itself: a request whose handler panics
// leaves the overridden TTL, and an unchanged overridden session costs one
// round trip, for both codecs.
func TestRedisExpiryOverrideHolds(t *testing.T) {
	for _, codec := range []session.Codec{session.JSONCodec{}, session.PickleCodec{}, session.PickleCodec{Protocol: 2}} {
		t.Run(fmt.Sprintf("%T%+v", codec, codec), func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			admin := rs.Client()
			rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: 1})
			defer rdb.Close()
			g := &gates{}
			m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{Codec: codec}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(opMux(g)))
			defer srv.Close()
			id := newSession(t, srv)
			send(t, srv, id, "/op?do=short")
			send(t, srv, id, "/op") // warm the load script
			ttlAtMost30s := func(when string) {
				t.Helper()
				if ttl := admin.TTL(context.Background(), m.Key(id)).Val(); ttl <= 0 || ttl > 30*time.Second {
					t.Fatalf("%s: TTL %v, want (0, 30s]", when, ttl)
				}
			}
			ttlAtMost30s("after SetExpire")
			got := commandsDuring(t, admin, func() {
				c, ok := sessionCookie(send(t, srv, id, "/op"))
				if _, pickle := codec.(session.PickleCodec); !pickle {
					// JSON sessions have an absolute lifetime: the cookie
					// ends at its deadline and an unchanged session does
					// not send it again.
					if ok {
						t.Errorf("unchanged session with an absolute lifetime sent its cookie again: %v", c)
					}
				} else if !ok || c.MaxAge != 30 {
					t.Errorf("unchanged overridden session sent cookie %v, want Max-Age=30", c)
				}
			})
			if len(got) != 3 || got["evalsha"] != 1 || got["get"] != 1 || got["expire"] != 1 {
				t.Fatalf("commands for an unchanged overridden session = %v, want one EVALSHA (get, expire)", got)
			}
			ttlAtMost30s("after an unchanged request")
			// The handler panics: the connection is dropped, nothing is committed.
			req, _ := http.NewRequest("GET", srv.URL+"/op?do=panic", nil)
			req.AddCookie(&http.Cookie{Name: session.DefaultIDCookieName, Value: id})
			if resp, err := srv.Client().Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("a panicking handler answered %d", resp.StatusCode)
			}
			ttlAtMost30s("after a panicking handler")
		})
	}
}

// opaqueJSON is a JSON codec that does not report its encoding: the load
// script cannot read its expiry override, so the commit corrects the TTL.
type opaqueJSON struct{ session.JSONCodec }

func (opaqueJSON) Encoding() session.Encoding { return session.EncodingOpaque }

// TestRedisCorrectedExpirySparesRenamedKey: the TTL a commit corrects
// (the load could not read the session's override) lands only on the value
// the request loaded. A RenewID between the load and the commit leaves a
// tombstone that keeps its five minutes, rather than the 30 days of the
// override, while an undisturbed read does get the 30 days.
func TestRedisCorrectedExpirySparesRenamedKey(t *testing.T) {
	servers, admin, m, g := twoApps(t, 1, false, session.RedisOptions{
		Options: session.Options{Codec: opaqueJSON{}, Compat: session.CompatWsess, AbsoluteTimeout: -1}})
	srv, ctx := servers[0], context.Background()

	id := newSession(t, srv)
	send(t, srv, id, "/op?do=expire30d")
	send(t, srv, id, "/op")
	if ttl := admin.TTL(ctx, m.Key(id)).Val(); ttl <= 24*time.Hour {
		t.Fatalf("an unchanged read left TTL %v, want the override's 30 days", ttl)
	}

	finish := held(t, g, srv, id, "read", "")
	renewed, ok := sessionCookie(send(t, srv, id, "/op?do=renew"))
	if !ok || renewed.Value == id {
		t.Fatalf("RenewID set cookie %v, want a new id", renewed)
	}
	if resp := finish(); resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the held read answered %v", resp)
	}
	if ttl := admin.TTL(ctx, m.Key(id)).Val(); ttl <= 0 || ttl > 5*time.Minute {
		t.Fatalf("the renamed key has TTL %v after the held read's commit, want its tombstone's (0, 5m]", ttl)
	}
	if ttl := admin.TTL(ctx, m.Key(renewed.Value)).Val(); ttl <= 24*time.Hour {
		t.Fatalf("the renamed session has TTL %v, want the override's 30 days", ttl)
	}
}

// TestRedisHiddenLifetimeEndsTheKey: with a codec that hides its encoding
// the load script cannot see a session's creation time and slides its TTL
// to the idle timeout; a session found past its absolute lifetime, at the
// load or during the request, still has its key ended at once (TTL at most
// a second), not left for an hour past its deadline.
func TestRedisHiddenLifetimeEndsTheKey(t *testing.T) {
	const absolute = 24 * time.Hour
	for _, tt := range []struct {
		name    string
		created time.Duration // before the clock's start
		path    string        // "/read" leaves it unchanged, "/incr" changes it
		jump    time.Duration // the clock's move during the request
	}{
		{"past at the load", absolute + time.Minute, "/read", 0},
		{"past during a read", absolute - time.Minute, "/read", 2 * time.Minute},
		{"past during a change", absolute - time.Minute, "/incr", 2 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			admin, ctx, clk := rs.Client(), context.Background(), newFakeClock()
			m, err := session.NewRedisManager(rs.Client(), session.RedisOptions{Options: session.Options{
				Codec: opaqueJSON{}, Compat: session.CompatWsess, Clock: clk.Now, AbsoluteTimeout: absolute}})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				clk.Advance(tt.jump)
				fmt.Fprint(w, s.Int("counter"))
			})
			mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				clk.Advance(tt.jump)
				s.Incr("counter", 1)
			})
			srv := httptest.NewServer(m.Middleware(mux))
			defer srv.Close()
			id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
			value := fmt.Sprintf(`{"counter":7,"_wsess_created":%d}`, clk.Now().Add(-tt.created).Unix())
			if err := admin.Set(ctx, m.Key(id), value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, srv)
			c.setCookie(session.DefaultIDCookieName, id)
			c.mustGet(tt.path)
			if ttl := admin.PTTL(ctx, m.Key(id)).Val(); ttl > time.Second || ttl == -1 {
				t.Fatalf("the key of the ended session has TTL %v, want at most 1s (or gone)", ttl)
			}
		})
	}
}
