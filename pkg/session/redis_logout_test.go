package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisLogoutSticks: a request that loaded a
// session before a concurrent logout never brings it back, neither under
// the old id (a changed session) nor under a new one (RenewID), and a
// logout that loaded the session before a concurrent RenewID committed
// ends the renamed session too. RenewID is a compare-and-set: an increment
// committed while it was in flight is kept. Each case runs in one process
// and across two managers sharing one Redis.
func TestRedisLogoutSticks(t *testing.T) {
	for _, setup := range []struct {
		name      string
		processes int
		cluster   bool
	}{{"1 process", 1, false}, {"2 processes", 2, false}, {"2 processes, cluster", 2, true}} {
		for _, tt := range []struct {
			name  string
			check func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates)
		}{
			{"changed request commits after the logout", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0])
				finish := held(t, g, srv[0], id, "r", "set")
				send(t, srv[1], id, "/op?do=destroy")
				resp := finish()
				if c, ok := sessionCookie(resp); ok && c.MaxAge >= 0 {
					t.Fatalf("the late request re-sent cookie %v", c)
				}
				if n := admin.Exists(context.Background(), m.Key(id)).Val(); n != 0 {
					t.Fatalf("the destroyed key %s was written again: %q", id, admin.Get(context.Background(), m.Key(id)).Val())
				}
			}},
			{"RenewID commits after the logout", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0])
				finish := held(t, g, srv[0], id, "r", "renew")
				send(t, srv[1], id, "/op?do=destroy")
				resp := finish()
				if c, ok := sessionCookie(resp); ok && c.MaxAge >= 0 {
					t.Fatalf("the late RenewID sent cookie %v", c)
				}
				if keys := keysHoldingSecret(t, admin); len(keys) != 0 {
					t.Fatalf("the logged-out session lives on under %v", keys)
				}
			}},
			{"logout commits after RenewID", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0])
				finish := held(t, g, srv[1], id, "l", "destroy")
				renewed, ok := sessionCookie(send(t, srv[0], id, "/op?do=renew"))
				if !ok || renewed.Value == id {
					t.Fatalf("RenewID gave no new cookie: %v", renewed)
				}
				finish()
				if keys := keysHoldingSecret(t, admin); len(keys) != 0 {
					t.Fatalf("the logged-out session lives on under %v", keys)
				}
				if n := admin.Exists(context.Background(), m.Key(id), m.Key(renewed.Value)).Val(); n != 0 {
					t.Fatalf("%d keys of the destroyed ids left", n)
				}
			}},
			{"logout with the old cookie after RenewID", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0])
				renewed, ok := sessionCookie(send(t, srv[0], id, "/op?do=renew"))
				if !ok || renewed.Value == id {
					t.Fatalf("RenewID gave no new cookie: %v", renewed)
				}
				send(t, srv[1], id, "/op?do=destroy")
				if keys := keysHoldingSecret(t, admin); len(keys) != 0 {
					t.Fatalf("the logged-out session lives on under %v", keys)
				}
			}},
			{"RenewID keeps an increment committed meanwhile", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0]) // n = 5
				finish := held(t, g, srv[0], id, "r", "renew")
				send(t, srv[1], id, "/op?do=incr") // n = 10
				renewed, ok := sessionCookie(finish())
				if !ok || renewed.Value == id || renewed.MaxAge <= 0 {
					t.Fatalf("RenewID gave cookie %v", renewed)
				}
				raw, err := admin.Get(context.Background(), m.Key(renewed.Value)).Result()
				if err != nil || !strings.Contains(raw, `"n":10`) {
					t.Fatalf("renewed session holds %q, %v; want n = 10", raw, err)
				}
				if old, _ := admin.Get(context.Background(), m.Key(id)).Result(); strings.Contains(old, "before-logout") {
					t.Fatalf("the old id still holds the session: %q", old)
				}
			}},
			{"request commits after RenewID: dropped, no cookie", func(t *testing.T, srv []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
				id := newSession(t, srv[0])
				finish := held(t, g, srv[1], id, "i", "set")
				renewed, _ := sessionCookie(send(t, srv[0], id, "/op?do=renew"))
				if c, ok := sessionCookie(finish()); ok {
					t.Fatalf("a request on the renamed id got cookie %v", c)
				}
				raw, _ := admin.Get(context.Background(), m.Key(renewed.Value)).Result()
				if strings.Contains(raw, "other") {
					t.Fatalf("a write through the old id reached the renamed session: %q", raw)
				}
			}},
		} {
			t.Run(tt.name+"/"+setup.name, func(t *testing.T) {
				servers, admin, m, g := twoApps(t, setup.processes, setup.cluster, session.RedisOptions{})
				if len(servers) == 1 {
					servers = append(servers, servers[0])
				}
				tt.check(t, servers, admin, m, g)
			})
		}
	}
}

// TestRedisLogoutRace: 200 concurrent requests on
// one session (20 in flight), of which 4 call Destroy, 19 RenewID and the
// rest Incr, in one process and across two managers sharing one Redis.
// "After the logout" means requests that started after the first Destroy's
// response arrived: none of them sees the data from before the logout.
// And once all have answered, no key in Redis holds that data, and no key
// of the destroyed id, nor of any id a RenewID handed out, exists.
func TestRedisLogoutRace(t *testing.T) {
	for _, processes := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d processes", processes), func(t *testing.T) {
			servers, admin, m, _ := twoApps(t, processes, false, session.RedisOptions{})
			id := newSession(t, servers[0])
			const n, par = 200, 20
			var (
				mu         sync.Mutex
				loggedOut  bool     // a Destroy's response has arrived
				seenAfter  []string // bodies of requests started after that
				handedOut  []string // ids set by RenewID responses
				failed     []string
				sem        = make(chan struct{}, par)
				wg         sync.WaitGroup
				client     = &http.Client{Timeout: 10 * time.Second}
				startedAft int
			)
			for i := range n {
				op := "incr"
				switch {
				case i%50 == 49:
					op = "destroy"
				case i%10 == 5:
					op = "renew"
				}
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					req, _ := http.NewRequest("GET", servers[i%len(servers)].URL+"/op?do="+op, nil)
					req.AddCookie(&http.Cookie{Name: session.DefaultIDCookieName, Value: id})
					mu.Lock()
					after := loggedOut
					mu.Unlock()
					resp, err := client.Do(req)
					if err != nil {
						mu.Lock()
						failed = append(failed, err.Error())
						mu.Unlock()
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					mu.Lock()
					defer mu.Unlock()
					if resp.StatusCode != http.StatusOK {
						failed = append(failed, fmt.Sprintf("%s: %d %s", op, resp.StatusCode, body))
						return
					}
					if after {
						startedAft++
						seenAfter = append(seenAfter, string(body))
					}
					if c, ok := sessionCookie(resp); ok && op == "renew" && c.MaxAge > 0 {
						handedOut = append(handedOut, c.Value)
					}
					if op == "destroy" {
						loggedOut = true
					}
				}()
			}
			wg.Wait()
			if len(failed) != 0 {
				t.Fatalf("%d requests failed: %q", len(failed), failed)
			}
			if startedAft == 0 {
				t.Fatal("no request started after the logout: the test proves nothing")
			}
			for _, b := range seenAfter {
				if strings.Contains(b, "before-logout") {
					t.Fatalf("a request started after the logout saw %q", b)
				}
			}
			if keys := keysHoldingSecret(t, admin); len(keys) != 0 {
				t.Fatalf("the logged-out session lives on under %v", keys)
			}
			ctx := context.Background()
			for _, gone := range append([]string{id}, handedOut...) {
				if admin.Exists(ctx, m.Key(gone)).Val() != 0 {
					t.Fatalf("a key of destroyed id %s exists: %q", gone, admin.Get(ctx, m.Key(gone)).Val())
				}
			}
			t.Logf("%d requests started after the logout; %d RenewID cookies handed out before it", startedAft, len(handedOut))
		})
	}
}
