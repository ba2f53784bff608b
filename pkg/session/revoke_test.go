package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// commandCalls returns how often Redis ran cmd (INFO commandstats).
func commandCalls(t testing.TB, rdb *redis.Client, cmd string) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n := 0
			for _, c := range rest {
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

type revocationSetup struct {
	m   *session.CookieManager
	srv *httptest.Server
	rdb *redis.Client
	rs  *redistest.Server
	clk *fakeClock
}

func newRevocationSetup(t *testing.T, absolute time.Duration) *revocationSetup {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	clk := newFakeClock()
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{
		Options:           session.Options{AbsoluteTimeout: absolute, Clock: clk.Now},
		Revocations:       rdb,
		RevocationTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	return &revocationSetup{m: m, srv: srv, rdb: rdb, rs: rs, clk: clk}
}

// TestCookieRevokeUser: RevokeUser refuses every earlier cookie of that
// user (each gets a new anonymous session and is told to drop the cookie),
// leaves other users alone, accepts a later login, and its key names no
// user id and expires with the cookies it guards.
func TestCookieRevokeUser(t *testing.T) {
	const absolute = 2 * time.Hour
	st := newRevocationSetup(t, absolute)
	ana1, ana2, bob := newClient(t, st.srv), newClient(t, st.srv), newClient(t, st.srv)
	for _, c := range []*client{ana1, ana2} {
		c.mustGet("/incr")
		c.mustGet("/login?user=ana")
	}
	bob.mustGet("/login?user=bob")
	stolen := ana2.cookie(session.DefaultCookieName)

	st.clk.Advance(time.Second)
	if err := st.m.RevokeUser(context.Background(), "ana"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*client{ana1, ana2} {
		body, ck, _ := c.getCookie("/whoami", session.DefaultCookieName)
		if !strings.HasPrefix(body, "user= auth= keys= counter=0") {
			t.Fatalf("ana's device %d after RevokeUser: %q, want a new anonymous session", i, body)
		}
		if ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("ana's device %d: Set-Cookie %v, want the cookie dropped", i, ck)
		}
	}
	replay := newClient(t, st.srv)
	replay.setCookie(session.DefaultCookieName, stolen)
	if got := replay.mustGet("/whoami"); !strings.HasPrefix(got, "user= ") {
		t.Fatalf("stolen cookie replayed after RevokeUser: %q", got)
	}
	if got := bob.mustGet("/whoami"); !strings.HasPrefix(got, "user=bob ") {
		t.Fatalf("bob after ana's revocation: %q", got)
	}

	st.clk.Advance(time.Second)
	ana1.mustGet("/login?user=ana")
	if got := ana1.mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
		t.Fatalf("login after the revocation: %q, want ana", got)
	}

	keys, err := st.rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != session.DefaultRevocationPrefix+session.HashID("ana") {
		t.Fatalf("keys %q, want one revocation key named by the user's hash", keys)
	}
	ttl, err := st.rdb.PTTL(context.Background(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= absolute-time.Minute || ttl > absolute+time.Second {
		t.Fatalf("revocation TTL %v, want the absolute lifetime (%v) plus at most a second", ttl, absolute)
	}
}

// TestCookieRevocationLookupCost: only requests whose session has a user
// pay the lookup, one GET each.
func TestCookieRevocationLookupCost(t *testing.T) {
	st := newRevocationSetup(t, 0)
	anon, ana := newClient(t, st.srv), newClient(t, st.srv)
	anon.mustGet("/incr")
	ana.mustGet("/login?user=ana")
	before := commandCalls(t, st.rdb, "get")
	for i := 0; i < 20; i++ {
		anon.mustGet("/read")
	}
	if got := commandCalls(t, st.rdb, "get") - before; got != 0 {
		t.Fatalf("anonymous requests made %d GETs, want 0", got)
	}
	for i := 0; i < 20; i++ {
		ana.mustGet("/read")
	}
	if got := commandCalls(t, st.rdb, "get") - before; got != 20 {
		t.Fatalf("20 logged-in requests made %d GETs, want 20", got)
	}
}

// TestCookieRevocationOutageFailsClosed: when the revocation lookup cannot
// be made, a logged-in request gets 503 (ErrUnavailable), never the session;
// anonymous requests, which need no lookup, are served.
func TestCookieRevocationOutageFailsClosed(t *testing.T) {
	st := newRevocationSetup(t, 0)
	var rec errorRecorder
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{
		Options:           session.Options{Clock: st.clk.Now, ErrorHandler: rec.handle},
		Revocations:       st.rdb,
		RevocationTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	anon, ana := newClient(t, srv), newClient(t, srv)
	anon.mustGet("/incr")
	ana.mustGet("/login?user=ana")
	st.rs.Stop()
	if code, body := ana.get("/whoami"); code != http.StatusServiceUnavailable || strings.Contains(body, "ana") {
		t.Fatalf("logged-in request during the outage: %d %q, want 503", code, body)
	}
	if errs := rec.all(); len(errs) != 1 || !errors.Is(errs[0], session.ErrUnavailable) {
		t.Fatalf("errors %v, want one ErrUnavailable", errs)
	}
	if got := anon.mustGet("/read"); got != "1" {
		t.Fatalf("anonymous request during the outage: %q, want 1", got)
	}
	if err := m.RevokeUser(context.Background(), "ana"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("RevokeUser during the outage: %v, want ErrUnavailable", err)
	}
}

func TestCookieRevocationOptions(t *testing.T) {
	rdb := newTestRedisClient(t)
	if _, err := session.NewCookieManager(testSecret, session.CookieOptions{
		Options: session.Options{AbsoluteTimeout: -1}, Revocations: rdb,
	}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Fatalf("Revocations without an absolute lifetime: %v, want ErrInvalidOptions", err)
	}
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeUser(context.Background(), "ana"); !errors.Is(err, session.ErrInvalidOptions) {
		t.Fatalf("RevokeUser without Revocations: %v, want ErrInvalidOptions", err)
	}
}

// TestCookieRevocationNeverMovesBack: a RevokeUser from a server whose
// clock lags does not re-admit cookies a later revocation refused.
func TestCookieRevocationNeverMovesBack(t *testing.T) {
	st := newRevocationSetup(t, 0)
	c := newClient(t, st.srv)
	c.mustGet("/login?user=ana")
	st.clk.Advance(time.Minute)
	if err := st.m.RevokeUser(context.Background(), "ana"); err != nil {
		t.Fatal(err)
	}
	st.clk.Advance(-2 * time.Minute) // a lagging server revokes again
	if err := st.m.RevokeUser(context.Background(), "ana"); err != nil {
		t.Fatal(err)
	}
	st.clk.Advance(2 * time.Minute)
	if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user= ") {
		t.Fatalf("after a lagging RevokeUser: %q, want the cookie still refused", got)
	}
}

// TestCookieLogOutOtherDevices: RevokeUser then Login in the same request
// ends the user's other cookies and keeps the current one, even within the
// same clock tick.
func TestCookieLogOutOtherDevices(t *testing.T) {
	st := newRevocationSetup(t, 0)
	mux := managementMux()
	mux.HandleFunc("/logout-others", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if err := st.m.RevokeUser(r.Context(), s.UserID()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Login(s.UserID())
	})
	srv := httptest.NewServer(st.m.Middleware(mux))
	t.Cleanup(srv.Close)
	here, other := newClient(t, srv), newClient(t, srv)
	here.mustGet("/login?user=ana")
	other.mustGet("/login?user=ana")
	st.clk.Advance(time.Millisecond)
	here.mustGet("/logout-others") // the fake clock stands still meanwhile
	if got := here.mustGet("/whoami"); !strings.HasPrefix(got, "user=ana ") {
		t.Fatalf("this device after logging out the others: %q, want ana", got)
	}
	if got := other.mustGet("/whoami"); !strings.HasPrefix(got, "user= ") {
		t.Fatalf("the other device: %q, want anonymous", got)
	}
}
