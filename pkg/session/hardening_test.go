package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// gates let a test hold a request after its session was loaded and before
// it changes it, so that other requests can commit in between.
type gates struct {
	mu sync.Mutex
	m  map[string]*gate
}

type gate struct {
	loaded, release chan struct{}
}

func (g *gates) get(name string) *gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*gate{}
	}
	if g.m[name] == nil {
		g.m[name] = &gate{loaded: make(chan struct{}), release: make(chan struct{})}
	}
	return g.m[name]
}

// opMux serves /op?do=a,b,...[&gate=NAME]: with a gate, the handler reports
// that its session is loaded and waits to be released (at most 10 s); then
// it applies the operations in order and answers with the secret it loaded
// and the counter n.
func opMux(g *gates) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		secret := s.String("secret")
		if name := r.URL.Query().Get("gate"); name != "" {
			gt := g.get(name)
			close(gt.loaded)
			select {
			case <-gt.release:
			case <-time.After(10 * time.Second):
				http.Error(w, "gate never released", http.StatusGatewayTimeout)
				return
			}
		}
		for _, op := range strings.Split(r.URL.Query().Get("do"), ",") {
			switch op {
			case "secret":
				s.Set("secret", "before-logout")
			case "set":
				s.Set("other", "x")
			case "incr":
				s.Incr("n", 5)
			case "renew":
				s.RenewID()
			case "destroy":
				s.Destroy()
			case "expire30d":
				s.SetExpire(30 * 24 * time.Hour)
			case "short":
				s.SetExpire(30 * time.Second)
			case "panic":
				panic(http.ErrAbortHandler)
			}
		}
		fmt.Fprintf(w, "secret=%s n=%d", secret, s.Int64("n"))
	})
}

// send GETs path on srv with the session cookie id ("" for none).
func send(t *testing.T, srv *httptest.Server, id, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	if id != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultIDCookieName, Value: id})
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return nil
	}
	resp.Body.Close()
	return resp
}

// sessionCookie returns the session cookie a response sets, if any.
func sessionCookie(resp *http.Response) (*http.Cookie, bool) {
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultIDCookieName {
			return c, true
		}
	}
	return nil, false
}

// held starts a gated request and returns when its session is loaded; the
// returned function releases it and waits for its response.
func held(t *testing.T, g *gates, srv *httptest.Server, id, name, ops string) func() *http.Response {
	t.Helper()
	done := make(chan *http.Response, 1)
	go func() { done <- send(t, srv, id, "/op?gate="+name+"&do="+ops) }()
	gt := g.get(name)
	select {
	case <-gt.loaded:
	case <-time.After(10 * time.Second):
		t.Fatalf("request %s never loaded its session", name)
	}
	return func() *http.Response {
		close(gt.release)
		return <-done
	}
}

// twoApps starts one or two app servers (each with its own client and
// manager, as two processes would have) on one redis-server, or on a
// three-master cluster.
func twoApps(t *testing.T, processes int, cluster bool, opts session.RedisOptions) (servers []*httptest.Server, admin redis.UniversalClient, m *session.RedisManager, g *gates) {
	t.Helper()
	var client func() redis.UniversalClient
	if cluster {
		cl := redistest.StartCluster(t, 3)
		client = func() redis.UniversalClient {
			c := cl.Client()
			t.Cleanup(func() { c.Close() })
			return c
		}
	} else {
		rs := redistest.Start(t, redistest.Options{})
		client = func() redis.UniversalClient { return rs.Client() }
	}
	g = &gates{}
	for range processes {
		var err error
		if m, err = session.NewRedisManager(client(), opts); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(m.Middleware(opMux(g)))
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
	}
	return servers, client(), m, g
}

// newSession creates a session holding the secret and returns its id.
func newSession(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp := send(t, srv, "", "/op?do=secret,incr")
	c, ok := sessionCookie(resp)
	if !ok {
		t.Fatal("no session cookie")
	}
	return c.Value
}

// keysHoldingSecret returns the keys (under any prefix, on every master)
// whose value holds the pre-logout secret.
func keysHoldingSecret(t *testing.T, admin redis.UniversalClient) []string {
	t.Helper()
	ctx := context.Background()
	var found []string
	redistest.EachNode(t, admin, func(c *redis.Client) error {
		iter := c.Scan(ctx, 0, "*", 100).Iterator()
		for iter.Next(ctx) {
			v, err := c.Get(ctx, iter.Val()).Result()
			if err == nil && strings.Contains(v, "before-logout") {
				found = append(found, iter.Val())
			}
		}
		return iter.Err()
	})
	return found
}

// TestRedisLogoutSticks (issue 9 findings 2 and 4): a request that loaded a
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

// TestRedisReplayRecomputesExpiry (issue 9 finding 3): a commit that replays
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

// TestRedisLoadLeavesForeignValuesAlone (issue 9 finding 5): loading a value
// the codec then rejects (another app's persistent key, a value of the
// other codec, a RenewID tombstone) does not change its TTL.
func TestRedisLoadLeavesForeignValuesAlone(t *testing.T) {
	pickled, err := session.PickleCodec{}.Marshal(map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		codec session.Codec
		value string
	}{
		{"text under the JSON codec", nil, "not a session"},
		{"pickle under the JSON codec", nil, string(pickled)},
		{"JSON under the pickle codec", session.PickleCodec{}, `{"a":1}`},
		{"text under the pickle codec", session.PickleCodec{}, "not a session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			admin := rs.Client()
			srv, m := newRedisServer(t, rs.Client(), session.RedisOptions{Options: session.Options{Codec: tt.codec}})
			id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
			ctx := context.Background()
			admin.Set(ctx, m.Key(id), tt.value, 0)
			c := newClient(t, srv)
			c.setCookie(session.DefaultIDCookieName, id)
			c.mustGet("/read")
			if ttl := admin.TTL(ctx, m.Key(id)).Val(); ttl != -1 {
				t.Fatalf("a rejected persistent value got TTL %v", ttl)
			}
			if v := admin.Get(ctx, m.Key(id)).Val(); v != tt.value {
				t.Fatalf("value changed to %q", v)
			}
		})
	}
}

// TestRedisExpiryOverrideHolds (issue 9 finding 5): a session's SetExpire
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

// TestRedisOptionsValidation: a negative MaxRetries is refused; zero means
// the default.
func TestRedisOptionsValidation(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, tt := range []struct {
		opts session.RedisOptions
		ok   bool
	}{
		{session.RedisOptions{MaxRetries: -1}, false},
		{session.RedisOptions{Timeout: -time.Second}, false},
		{session.RedisOptions{MaxRetries: 0}, true},
		{session.RedisOptions{MaxRetries: 1}, true},
	} {
		_, err := session.NewRedisManager(rs.Client(), tt.opts)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, session.ErrInvalidOptions) {
			t.Errorf("NewRedisManager(%+v) = %v, want ok %v", tt.opts, err, tt.ok)
		}
	}
}

// TestRedisLogoutRace (issue 9, done-when 2): 200 concurrent requests on
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
