package session_test

import (
	"context"
	"fmt"
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
