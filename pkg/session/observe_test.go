package session_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// eventRecorder is an Observer that keeps every event.
type eventRecorder struct {
	mu     sync.Mutex
	events []session.Event
}

func (r *eventRecorder) observe(e session.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events so far and forgets them.
func (r *eventRecorder) take() []session.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// kinds lists the events' kinds, with counts and errors, for messages
// and comparisons: "load commit", "conflict:1 retry:2", "load!".
func kinds(ev []session.Event) string {
	s := ""
	for i, e := range ev {
		if i > 0 {
			s += " "
		}
		s += e.Kind.String()
		if e.Count != 0 {
			s += ":" + strconv.Itoa(e.Count)
		}
		if e.Err != nil {
			s += "!"
		}
	}
	return s
}

// TestObserverLoadCommit: each request reports its load and its commit,
// named by store, with no error; a request that fails to load reports the
// load's error and a store error, and nothing more.
func TestObserverLoadCommit(t *testing.T) {
	rec := &eventRecorder{}
	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Observer: rec.observe}})
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t, redistest.Options{})
	rm, err := session.NewRedisManager(redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1}), session.RedisOptions{Options: session.Options{Observer: rec.observe}})
	if err != nil {
		t.Fatal(err)
	}
	for store, h := range map[string]http.Handler{"cookie": cm.Middleware(counterMux()), "redis": rm.Middleware(counterMux())} {
		srv := httptest.NewServer(h)
		c := newClient(t, srv)
		rec.take()
		c.mustGet("/incr")
		c.mustGet("/read")
		ev := rec.take()
		if got := kinds(ev); got != "load commit load commit" {
			t.Fatalf("%s: events %q, want two loads and commits", store, got)
		}
		for _, e := range ev {
			if e.Store != store || e.Duration < 0 {
				t.Fatalf("%s: event %+v", store, e)
			}
		}
		srv.Close()
	}

	// Redis down: the load fails; its event carries the error, then a
	// store error follows.
	srv := httptest.NewServer(rm.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	c.mustGet("/incr")
	rec.take()
	rs.Stop()
	if code, _ := c.get("/read"); code != http.StatusServiceUnavailable {
		t.Fatalf("read with Redis down: %d, want 503", code)
	}
	ev := rec.take()
	if got := kinds(ev); got != "load! store_error!" {
		t.Fatalf("events %q, want a failed load and a store error", got)
	}
	if !errors.Is(ev[1].Err, session.ErrUnavailable) || ev[0].Err != ev[1].Err {
		t.Fatalf("store error %v, want the load's ErrUnavailable", ev[1].Err)
	}
}

// TestObserverConflictRetry: a write by another process between a
// request's load and its commit is a conflict, then a retry, then the
// commit succeeds; the change counts on top of the other writer's.
func TestObserverConflictRetry(t *testing.T) {
	rec := &eventRecorder{}
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{Observer: rec.observe}})
	if err != nil {
		t.Fatal(err)
	}
	mux := counterMux()
	mux.HandleFunc("/raced", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		// Another process writes the session meanwhile.
		key := session.DefaultPrefix + session.HashID(s.ID())
		if err := rdb.Set(r.Context(), key, `{"counter":100}`, 0).Err(); err != nil {
			t.Error(err)
		}
		s.Incr("counter", 1)
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	c := newClient(t, srv)
	c.mustGet("/incr")
	rec.take()
	c.mustGet("/raced")
	if got := kinds(rec.take()); got != "load conflict:1 retry:2 commit" {
		t.Fatalf("events %q, want a conflict, a retry and the commit", got)
	}
	if got := c.mustGet("/read"); got != "101" {
		t.Fatalf("counter %s, want 101 (the other writer's 100, plus one)", got)
	}
}

// TestObserverCombined: concurrent commits of one session in this process
// report combined commits that wrote for several requests, and together
// wrote for no more requests than there were.
func TestObserverCombined(t *testing.T) {
	const n = 10
	rec := &eventRecorder{}
	app := newGatedCounterWith(t, n, session.RedisOptions{Options: session.Options{Observer: rec.observe}},
		func(s *session.Session, _ *http.Request) { s.Incr("counter", 1) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, failed := hammer(t, []*httptest.Server{app.srv}, app.cookie, n, n, func(int) string { return "/gated" }); failed != 0 {
			t.Errorf("%d requests failed", failed)
		}
	}()
	app.waitLoaded(t, n)
	rec.take()
	app.releaseWithWritesHeld(t)
	<-done
	combined, wrote := 0, 0
	for _, e := range rec.take() {
		if e.Kind == session.EventCombined {
			combined++
			wrote += e.Count
			if e.Count < 2 || e.Store != "redis" {
				t.Fatalf("combined event %+v, want a count of 2 or more", e)
			}
		}
	}
	if combined == 0 || wrote > n {
		t.Fatalf("%d combined commits writing for %d requests; want at least one, for at most %d", combined, wrote, n)
	}
	if got := app.c.mustGet("/read"); got != strconv.Itoa(n+1) {
		t.Fatalf("counter %s, want %d", got, n+1)
	}
}

// TestObserverRevoke: RevokeUser and Revoke report what they ended, for
// both stores; a revoke Redis cannot serve reports its error and a store
// error.
func TestObserverRevoke(t *testing.T) {
	rec := &eventRecorder{}
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1})
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{Observer: rec.observe}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	defer srv.Close()
	for range 3 {
		newClient(t, srv).mustGet("/login?user=ana")
	}
	ctx := context.Background()
	rec.take()
	if n, err := m.RevokeUser(ctx, "ana"); n != 3 || err != nil {
		t.Fatalf("RevokeUser: %d, %v", n, err)
	}
	if got := kinds(rec.take()); got != "revoke:3" {
		t.Fatalf("events %q, want one revoke of 3", got)
	}
	if _, err := m.Revoke(ctx, session.HashID("nobody")); err != nil {
		t.Fatal(err)
	}
	if got := kinds(rec.take()); got != "revoke" {
		t.Fatalf("events %q, want one revoke of none", got)
	}

	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Observer: rec.observe}, Revocations: rdb})
	if err != nil {
		t.Fatal(err)
	}
	if err := cm.RevokeUser(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if ev := rec.take(); kinds(ev) != "revoke" || ev[0].Store != "cookie" {
		t.Fatalf("cookie RevokeUser events %q, want one cookie revoke", kinds(ev))
	}

	rs.Stop()
	if _, err := m.RevokeUser(ctx, "ana"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("RevokeUser with Redis down: %v", err)
	}
	if got := kinds(rec.take()); got != "revoke! store_error!" {
		t.Fatalf("events %q, want a failed revoke and a store error", got)
	}
}

// TestObserverUnsetCostsNothing: a request through the middleware makes
// exactly as many allocations with no Observer as with a no-op one, which
// itself allocates nothing: the hook costs no allocation when unset
// (BenchmarkObserver shows the same with -benchmem). Under the race
// detector, whose sync.Pool drops Puts at random, the means over many
// requests may differ by the pool's noise only: less than 0.2.
func TestObserverUnsetCostsNothing(t *testing.T) {
	const runs = 4000
	allocs := func(o session.Observer) float64 {
		m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Observer: o}})
		if err != nil {
			t.Fatal(err)
		}
		h, req := observedRequest(t, m)
		serve := func() { h.ServeHTTP(httptest.NewRecorder(), req) }
		serve() // warm the pools
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range runs {
			serve()
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / runs
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no GC emptying the pools mid-count
	unset, noop := allocs(nil), allocs(func(session.Event) {})
	if !raceEnabled && math.Round(unset) != math.Round(noop) || math.Abs(unset-noop) >= 0.2 {
		t.Fatalf("%.2f allocations per request without an observer, %.2f with a no-op one: want the same", unset, noop)
	}
}

// observedRequest returns the middleware over a read-only handler and a
// request carrying a stored session's cookie.
func observedRequest(t testing.TB, m *session.CookieManager) (http.Handler, *http.Request) {
	v, err := m.Seal(map[string]any{"counter": 41}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, session.From(r.Context()).Int("counter"))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: v})
	return h, req
}

// BenchmarkObserver: a cookie read with and without an Observer
// (-benchmem: the same allocations).
func BenchmarkObserver(b *testing.B) {
	for _, tt := range []struct {
		name string
		o    session.Observer
	}{{"unset", nil}, {"noop", func(session.Event) {}}} {
		b.Run(tt.name, func(b *testing.B) {
			m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Observer: tt.o}})
			if err != nil {
				b.Fatal(err)
			}
			h, req := observedRequest(b, m)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// ExampleObserver counts a manager's events by store and kind, as a
// metrics adapter would.
func ExampleObserver() {
	var mu sync.Mutex
	counts := map[string]int{}
	m, err := session.NewCookieManager("example-secret-0123456789abcdef", session.CookieOptions{
		Options: session.Options{Observer: func(e session.Event) {
			mu.Lock()
			defer mu.Unlock()
			counts[e.Store+" "+e.Kind.String()]++
		}},
	})
	if err != nil {
		panic(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Incr("visits", 1)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	fmt.Println(counts["cookie load"], counts["cookie commit"])
	// Output: 1 1
}
