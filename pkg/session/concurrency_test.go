package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// hammer sends n GETs of path(i) with cookie, at most par at a time,
// spread round-robin over servers, and returns the bodies of the 200
// responses and the count of the others.
func hammer(t *testing.T, servers []*httptest.Server, cookie *http.Cookie, n, par int, path func(i int) string) (bodies []string, failed int) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest("GET", servers[i%len(servers)].URL+path(i), nil)
			req.AddCookie(cookie)
			resp, err := client.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || resp.StatusCode != http.StatusOK {
				failed++
				if resp != nil {
					resp.Body.Close()
				}
				return
			}
			var b [64]byte
			k, _ := resp.Body.Read(b[:])
			resp.Body.Close()
			bodies = append(bodies, string(b[:k]))
		}(i)
	}
	wg.Wait()
	return bodies, failed
}

// TestRedisConcurrentIncrementsAllCount: 200 increments of one session, 20
// in flight at a time, all count (lost-update-free commits), whether the
// requests reach one app process or alternate between two that share the
// Redis (where commits really conflict and replay).
func TestRedisConcurrentIncrementsAllCount(t *testing.T) {
	for _, tt := range []struct {
		processes int
		filler    int // bytes of other data: past 512 the commit compares digests
	}{{1, 0}, {2, 0}, {2, 2000}} {
		t.Run(fmt.Sprintf("%d processes, %d more bytes", tt.processes, tt.filler), func(t *testing.T) {
			testConcurrentIncrements(t, tt.processes, tt.filler)
		})
	}
}

func testConcurrentIncrements(t *testing.T, processes, filler int) {
	rs := redistest.Start(t, redistest.Options{})
	rec := &errorRecorder{}
	var servers []*httptest.Server
	for i := 0; i < processes; i++ {
		rdb := rs.Client() // each "process" has its own client and manager
		srv, _ := newRedisServer(t, rdb, session.RedisOptions{Options: session.Options{ErrorHandler: rec.handle}})
		servers = append(servers, srv)
	}
	c := newClient(t, servers[0])
	if filler > 0 {
		c.mustGet("/set?filler=" + strings.Repeat("x", filler))
	}
	c.mustGet("/incr") // the first of the 200 creates the session
	cookie := &http.Cookie{Name: session.DefaultIDCookieName, Value: c.cookie(session.DefaultIDCookieName)}
	// A body shows the count its handler computed before the commit merged
	// concurrent increments, so bodies may repeat; the stored count may not
	// lose any.
	_, failed := hammer(t, servers, cookie, 199, 20, func(int) string { return "/incr" })
	if failed != 0 {
		t.Fatalf("%d of 199 requests failed; errors: %v", failed, rec.all())
	}
	if got := c.mustGet("/incr"); got != "201" {
		t.Fatalf("after 200 increments the next one reports %s, want 201", got)
	}
}

// TestRedisConcurrentWritesToDifferentKeysMerge: concurrent requests that
// set different keys of one session all keep their key.
func TestRedisConcurrentWritesToDifferentKeysMerge(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	srv, _ := newRedisServer(t, rdb, session.RedisOptions{})
	c := newClient(t, srv)
	c.mustGet("/set?start=1")
	id := c.cookie(session.DefaultIDCookieName)
	const n = 60
	_, failed := hammer(t, []*httptest.Server{srv}, &http.Cookie{Name: session.DefaultIDCookieName, Value: id}, n, 20,
		func(i int) string { return "/set?k" + strconv.Itoa(i) + "=" + strconv.Itoa(i) })
	if failed != 0 {
		t.Fatalf("%d requests failed", failed)
	}
	m, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rdb.Get(context.Background(), m.Key(id)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	values, err := session.JSONCodec{}.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if values["k"+strconv.Itoa(i)] != strconv.Itoa(i) {
			t.Fatalf("key k%d lost: stored %v", i, values)
		}
	}
	if values["start"] != "1" {
		t.Fatalf("the key set before the burst was lost")
	}
}

// TestCookieConcurrentIsLastWriterWins documents the cookie store's limit:
// the client holds the state, so concurrent requests carrying the same
// cookie each count from the same starting value and the browser keeps
// whichever response it processes last. The test asserts only that every
// request succeeds and the final count is one the requests produced.
func TestCookieConcurrentIsLastWriterWins(t *testing.T) {
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{})
	c := newClient(t, srv)
	c.mustGet("/incr")
	value := c.cookie(session.DefaultCookieName)
	bodies, failed := hammer(t, []*httptest.Server{srv}, &http.Cookie{Name: session.DefaultCookieName, Value: value}, 40, 20, func(int) string { return "/incr" })
	if failed != 0 {
		t.Fatalf("%d requests failed", failed)
	}
	for _, b := range bodies {
		if b != "2" {
			t.Fatalf("a request carrying the count-1 cookie reported %s", b)
		}
	}
}

// TestRedisConcurrentCommitsCombine: the commits of one session that wait on
// each other in a process are combined into one compare-and-set. Twenty
// requests of one session load it, then commit at once while Redis holds
// the first compare-and-set (CLIENT PAUSE WRITE): the first request writes
// alone or with those already queued, the next one writes for all the rest,
// so Redis sees one or two writes instead of twenty, and every increment
// counts.
func TestRedisConcurrentCommitsCombine(t *testing.T) {
	const n = 20
	app := newGatedCounter(t, n, func(s *session.Session, _ *http.Request) { s.Incr("counter", 1) })
	ctx := context.Background()
	done := make(chan []string)
	go func() {
		bodies, failed := hammer(t, []*httptest.Server{app.srv}, app.cookie, n, n, func(int) string { return "/gated" })
		if failed != 0 {
			t.Errorf("%d requests failed", failed)
		}
		done <- bodies
	}()
	app.waitLoaded(t, n)
	if err := app.admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	app.releaseWithWritesHeld(t)
	<-done
	if got := app.c.mustGet("/read"); got != strconv.Itoa(n+1) {
		t.Fatalf("counter %s after %d increments, want %d", got, n+1, n+1)
	}
	stats, err := app.admin.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, line := range strings.Split(stats, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_set:calls="); ok {
			writes, _ = strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		}
	}
	if writes < 1 || writes > 2 {
		t.Fatalf("%d compare-and-set writes for %d waiting commits of one session, want 1 or 2", writes, n)
	}
}

// gatedCounter is an app of one stored session (counter 1, cookie) on its
// own redis-server whose /gated requests wait, after loading the session,
// until the test releases them all at once.
type gatedCounter struct {
	srv    *httptest.Server
	admin  *redis.Client
	c      *client      // the session's browser
	cookie *http.Cookie // the session's id cookie
	loaded chan struct{}
	gate   chan struct{}
}

// newGatedCounter serves /incr, /read (the counter) and /gated, which runs
// gated once released; up to n /gated requests may wait at once.
func newGatedCounter(t *testing.T, n int, gated func(s *session.Session, r *http.Request)) *gatedCounter {
	t.Helper()
	return newGatedCounterWith(t, n, session.RedisOptions{}, gated)
}

// newGatedCounterWith is newGatedCounter with the manager's options.
func newGatedCounterWith(t *testing.T, n int, opts session.RedisOptions, gated func(s *session.Session, r *http.Request)) *gatedCounter {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	m, err := session.NewRedisManager(rs.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	app := &gatedCounter{admin: rs.Client(), loaded: make(chan struct{}, n), gate: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Incr("counter", 1)
	})
	mux.HandleFunc("/gated", func(w http.ResponseWriter, r *http.Request) {
		app.loaded <- struct{}{}
		<-app.gate
		gated(session.From(r.Context()), r)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r.Context()).Int("counter"))
	})
	app.srv = httptest.NewServer(m.Middleware(mux))
	t.Cleanup(app.srv.Close)
	app.c = newClient(t, app.srv)
	app.c.mustGet("/incr")
	app.cookie = &http.Cookie{Name: session.DefaultIDCookieName, Value: app.c.cookie(session.DefaultIDCookieName)}
	return app
}

// waitLoaded returns once n /gated requests have loaded the session.
func (app *gatedCounter) waitLoaded(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-app.loaded:
		case <-time.After(10 * time.Second):
			t.Fatal("the gated requests never loaded the session")
		}
	}
}

// releaseWithWritesHeld holds Redis's writes for 300 ms (CLIENT PAUSE
// WRITE) and releases the gated requests, so that their commits queue
// and combine.
func (app *gatedCounter) releaseWithWritesHeld(t *testing.T) {
	t.Helper()
	if err := app.admin.Do(context.Background(), "CLIENT", "PAUSE", 300, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	close(app.gate)
}
