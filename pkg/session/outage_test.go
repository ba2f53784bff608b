package session_test

import (
	"bytes"
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
	"github.com/wsess/wsess/pkg/session"
)

// waitGoroutines waits (up to 10 s) for the goroutine count to fall to
// baseline and returns the last count seen.
func waitGoroutines(baseline int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); n > baseline && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// TestRedisOutageUnderLoad stops redis-server while clients keep sending
// requests: every answer during the outage is a 503 that arrives within the
// client's bound, nothing panics, sessions committed before the outage are
// intact after the restart (append-only file on), service resumes without
// restarting the app, and no goroutine is left behind.
func TestRedisOutageUnderLoad(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{Persist: true})
	baseline := runtime.NumGoroutine()

	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	serverLog := &testutil.SyncBuffer{}
	srv := httptest.NewUnstartedServer(m.Middleware(counterMux()))
	srv.Config.ErrorLog = log.New(serverLog, "", 0)
	srv.Start()
	// The client's timeout is the bound on every answer: 10x the store's.
	httpClient := &http.Client{Timeout: 3 * time.Second}

	const users = 8
	cookies := make([]*http.Cookie, users)
	for i := range cookies {
		c := newClient(t, srv)
		for v := 0; v < 3; v++ {
			c.mustGet("/incr")
		}
		cookies[i] = &http.Cookie{Name: session.DefaultIDCookieName, Value: c.cookie(session.DefaultIDCookieName)}
	}
	get := func(path string, ck *http.Cookie) (int, string, error) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(ck)
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String(), nil
	}

	// Load: each user reads its session in a loop (bounded in count and
	// time) while Redis goes away.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outage   bool
		during   = map[int]int{}
		failures []string
	)
	stop := make(chan struct{})
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func(ck *http.Cookie) {
			defer wg.Done()
			for n := 0; n < 2000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				down := outage
				mu.Unlock()
				code, _, err := get("/read", ck)
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else if down {
					during[code]++
				}
				mu.Unlock()
			}
		}(cookies[i])
	}
	time.Sleep(200 * time.Millisecond)
	rs.Stop() // returns once the port refuses connections
	mu.Lock()
	outage = true
	mu.Unlock()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	if len(failures) > 0 {
		t.Fatalf("%d requests got no answer within the client's bound, e.g. %s", len(failures), failures[0])
	}
	if during[http.StatusServiceUnavailable] == 0 || len(during) != 1 {
		t.Fatalf("answers during the outage: %v, want only 503s", during)
	}
	// Writes during the outage fail too, and write nothing.
	if code, _, err := get("/incr", cookies[0]); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("write during the outage: %d, %v", code, err)
	}

	rs.Restart()
	for i, ck := range cookies {
		var code int
		var body string
		for try := 0; try < 50; try++ { // the pool redials by itself
			if code, body, err = get("/read", ck); err == nil && code == 200 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code != 200 || body != "3" {
			t.Fatalf("user %d after the restart: %d %q, want 200 \"3\"", i, code, body)
		}
	}
	if code, body, _ := get("/incr", cookies[0]); code != 200 || body != "4" {
		t.Fatalf("write after the restart: %d %q", code, body)
	}
	if l := serverLog.String(); strings.Contains(l, "panic") {
		t.Fatalf("the server panicked:\n%s", l)
	}

	srv.Close()
	httpClient.CloseIdleConnections()
	rdb.Close()
	if n := waitGoroutines(baseline); n > baseline {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before the test:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// TestRedisSlowServer: a Redis that stalls (DEBUG SLEEP) answers within the
// timeout with 503, and the same session works once it is back.
func TestRedisSlowServer(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{Args: []string{"--enable-debug-command", "yes"}})
	// go-redis applies a context's deadline to socket reads only with
	// ContextTimeoutEnabled; otherwise its ReadTimeout (3 s) is the bound.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{Timeout: 200 * time.Millisecond})
	c := newClient(t, srv)
	c.mustGet("/incr")
	c.c.Timeout = 3 * time.Second

	admin := redis.NewClient(&redis.Options{Addr: rs.Addr, ReadTimeout: 5 * time.Second})
	defer admin.Close()
	slept := make(chan error, 1)
	go func() { slept <- admin.Do(context.Background(), "DEBUG", "SLEEP", "1.5").Err() }()
	time.Sleep(100 * time.Millisecond) // let the sleep start
	if code, _ := c.get("/incr"); code != http.StatusServiceUnavailable {
		t.Fatalf("during the stall: %d, want 503", code)
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
	// The timed-out request may have reached Redis after the stall: the
	// count is 1 or 2, never reset.
	got := c.mustGet("/incr")
	if got != "2" && got != "3" {
		t.Fatalf("after the stall: %q, want 2 or 3", got)
	}
}

// TestRedisClusterMasterGone: with one of three masters stopped, sessions in
// its slots get 503 within the timeout, the others keep working.
func TestRedisClusterMasterGone(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), MaxRedirects: 1})
	defer rdb.Close()
	srv, m := newRedisServer(t, rdb, session.RedisOptions{Timeout: 500 * time.Millisecond})

	type user struct {
		c    *client
		node string
	}
	ctx := context.Background()
	var users []user
	for i := 0; i < 30; i++ {
		c := newClient(t, srv)
		c.mustGet("/incr")
		id := c.cookie(session.DefaultIDCookieName)
		node, err := rdb.MasterForKey(ctx, m.Key(id))
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, user{c: c, node: node.Options().Addr})
	}
	gone := cl.Addrs()[0]
	cl.StopMaster(0)
	var down, up int
	for _, u := range users {
		u.c.c.Timeout = 5 * time.Second
		code, body := u.c.get("/incr")
		switch {
		case u.node == gone:
			down++
			if code != http.StatusServiceUnavailable {
				t.Errorf("session on the stopped master: %d %q, want 503", code, body)
			}
		default:
			up++
			if code != 200 || body != "2" {
				t.Errorf("session on a live master: %d %q, want 200 \"2\"", code, body)
			}
		}
	}
	if down == 0 || up == 0 {
		t.Fatalf("sessions on the stopped master: %d, elsewhere: %d; want some of each", down, up)
	}
}
