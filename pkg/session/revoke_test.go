package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	m    *session.CookieManager
	srv  *httptest.Server
	rdb  *redis.Client
	rs   *redistest.Server
	clk  *fakeClock
	errs *errorRecorder // what reached the error handler
}

func newRevocationSetup(t *testing.T, absolute time.Duration) *revocationSetup {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	clk, errs := newFakeClock(), &errorRecorder{}
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{
		Options:           session.Options{AbsoluteTimeout: absolute, Clock: clk.Now, ErrorHandler: errs.handle},
		Revocations:       rdb,
		RevocationTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	return &revocationSetup{m: m, srv: srv, rdb: rdb, rs: rs, clk: clk, errs: errs}
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
// pay the lookup, one GET each; a Login pays one more, at commit.
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
	before = commandCalls(t, st.rdb, "get")
	anon.mustGet("/login?user=bob")
	if got := commandCalls(t, st.rdb, "get") - before; got != 1 {
		t.Fatalf("a login made %d GETs, want 1 (the generation, at commit)", got)
	}
	before = commandCalls(t, st.rdb, "get")
	ana.mustGet("/login?user=ana")
	if got := commandCalls(t, st.rdb, "get") - before; got != 2 {
		t.Fatalf("a logged-in request's login made %d GETs, want 2 (the lookup, and the generation at commit)", got)
	}
}

// TestCookieRevocationOutageFailsClosed: when the revocation lookup cannot
// be made, a logged-in request gets 503 (ErrUnavailable), never the session;
// anonymous requests, which need no lookup, are served.
func TestCookieRevocationOutageFailsClosed(t *testing.T) {
	st := newRevocationSetup(t, 0)
	srv, m, rec := st.srv, st.m, st.errs
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

// newRevocationServer serves managementMux, plus /revoke (RevokeUser of the
// session's user) and /logout-others (RevokeUser, then Login again: "log
// out my other devices"), on a cookie manager with revocations in rdb and
// its own clock: one app server of several that share the secret and Redis.
func newRevocationServer(t *testing.T, rdb *redis.Client, clock func() time.Time) (*session.CookieManager, *httptest.Server) {
	t.Helper()
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{
		Options:           session.Options{Clock: clock},
		Revocations:       rdb,
		RevocationTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := managementMux()
	mux.HandleFunc("/revoke", func(w http.ResponseWriter, r *http.Request) {
		if err := m.RevokeUser(r.Context(), session.From(r.Context()).UserID()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/logout-others", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if err := m.RevokeUser(r.Context(), s.UserID()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Login(s.UserID())
	})
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)
	return m, srv
}

// on returns c (its cookie jar: the browser) talking to srv, another app
// server on the same host: the jar sends it the same cookies.
func on(c *client, srv *httptest.Server) *client { return &client{t: c.t, srv: srv, c: c.c} }

// wantUser fails t unless c's next request runs as user ("" = anonymous).
func wantUser(t *testing.T, c *client, user, what string) {
	t.Helper()
	if got := c.mustGet("/whoami"); !strings.HasPrefix(got, "user="+user+" ") {
		t.Fatalf("%s: %q, want user=%q", what, got, user)
	}
}

// TestCookieRevokeSameMillisecond: with a clock that stands still, a device
// that logged in in the same millisecond as the revocation, before it, is
// refused; the device that revoked and logged in again in that request,
// and one that logs in after it (same millisecond still), are accepted.
// The cookie carries the generation, which Keys hides.
func TestCookieRevokeSameMillisecond(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	clk := newFakeClock() // never advanced
	m, srv := newRevocationServer(t, rdb, clk.Now)
	here, other, later := newClient(t, srv), newClient(t, srv), newClient(t, srv)
	here.mustGet("/login?user=ana")
	other.mustGet("/login?user=ana")
	here.mustGet("/logout-others")
	later.mustGet("/login?user=ana")

	wantUser(t, other, "", "the device that logged in before the revocation, same millisecond")
	wantUser(t, here, "ana", "the device that logged out the others")
	wantUser(t, later, "ana", "a device that logged in after the revocation, same millisecond")
	if got := here.mustGet("/whoami"); !strings.Contains(got, " keys= ") {
		t.Fatalf("whoami %q: Keys shows a reserved key", got)
	}
	gen, err := rdb.Get(context.Background(), session.DefaultRevocationPrefix+session.HashID("ana")).Int64()
	if err != nil {
		t.Fatal(err)
	}
	values, _, err := m.Open(here.cookie(session.DefaultCookieName))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := values["_wsess_gen"].(json.Number); got.String() != strconv.FormatInt(gen, 10) {
		t.Fatalf("sealed generation %v, want the user's current one, %d", values["_wsess_gen"], gen)
	}
}

// TestCookieRevokeClockSkew: two app servers share Redis, one's clock 2 s
// behind the other's. Whichever revokes, a device that logged in (on the
// other server) before the revocation is refused, and the revoking device,
// logging in again after it (on the other server), is accepted.
func TestCookieRevokeClockSkew(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	for _, tt := range []struct {
		name         string
		revokeOnLead bool
	}{
		{"login on the lagging server, revoke on the leading one", true},
		{"login on the leading server, revoke on the lagging one", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() { rdb.FlushAll(context.Background()) })
			lead := newFakeClock()
			lag := &fakeClock{now: lead.Now().Add(-2 * time.Second)}
			_, leadSrv := newRevocationServer(t, rdb, lead.Now)
			_, lagSrv := newRevocationServer(t, rdb, lag.Now)
			loginSrv, revokeSrv := lagSrv, leadSrv
			if !tt.revokeOnLead {
				loginSrv, revokeSrv = leadSrv, lagSrv
			}
			device, revoker := newClient(t, loginSrv), newClient(t, loginSrv)
			device.mustGet("/login?user=ana")
			revoker.mustGet("/login?user=ana")
			on(revoker, revokeSrv).mustGet("/revoke")
			wantUser(t, revoker, "", "the revoking device, right after")
			revoker.mustGet("/login?user=ana")

			wantUser(t, device, "", "the device that logged in before the revocation")
			wantUser(t, on(device, revokeSrv), "", "the same device on the revoking server")
			wantUser(t, revoker, "ana", "the revoking device, logged in again after the revocation")
			wantUser(t, on(revoker, revokeSrv), "ana", "the same device on the revoking server")
		})
	}
}

// TestCookieLogOutOtherDevicesClockSkew: "log out my other devices" on the
// lagging server of two keeps the device that asked, even when the leading
// server revoked the user a moment earlier (a password reset, say), and
// ends the device that logged in before.
func TestCookieLogOutOtherDevicesClockSkew(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	lead := newFakeClock()
	lag := &fakeClock{now: lead.Now().Add(-2 * time.Second)}
	leadM, leadSrv := newRevocationServer(t, rdb, lead.Now)
	_, lagSrv := newRevocationServer(t, rdb, lag.Now)
	other, here := newClient(t, lagSrv), newClient(t, leadSrv)
	other.mustGet("/login?user=ana")
	if err := leadM.RevokeUser(context.Background(), "ana"); err != nil {
		t.Fatal(err)
	}
	other.mustGet("/login?user=ana") // after the reset: logged in again
	here.mustGet("/login?user=ana")
	on(here, lagSrv).mustGet("/logout-others")

	wantUser(t, here, "ana", "the device that logged out the others")
	wantUser(t, on(here, lagSrv), "ana", "the same device on the lagging server")
	wantUser(t, other, "", "the other device")
}

// TestCookieRevocationLegacyCookie: a cookie sealed before generations
// (a user and a Login millisecond, no "_wsess_gen") is judged by its login
// time: refused when it is before the revocation, accepted when after.
func TestCookieRevocationLegacyCookie(t *testing.T) {
	st := newRevocationSetup(t, 0)
	now := time.Now()
	seal := func(auth time.Time) string {
		v, err := st.m.Seal(map[string]any{"_wsess_user": "ana", "_wsess_auth": auth.UnixMilli()}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before, after := seal(now.Add(-time.Hour)), seal(now.Add(time.Hour))
	if err := st.m.RevokeUser(context.Background(), "ana"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, cookie, want string
	}{
		{"login before the revocation", before, ""},
		{"login after the revocation", after, "ana"},
	} {
		c := newClient(t, st.srv)
		c.setCookie(session.DefaultCookieName, tt.cookie)
		wantUser(t, c, tt.want, tt.name)
	}
}

// TestCookieRevocationLoginOutage: when the generation cannot be read at a
// Login's commit, the request fails closed (ErrUnavailable, 503) and
// issues no cookie.
func TestCookieRevocationLoginOutage(t *testing.T) {
	st := newRevocationSetup(t, 0)
	srv, rec := st.srv, st.errs
	st.rs.Stop()
	c := newClient(t, srv)
	if code, _ := c.get("/login?user=ana"); code != http.StatusServiceUnavailable {
		t.Fatalf("login during the outage: %d, want 503", code)
	}
	if got := c.cookie(session.DefaultCookieName); got != "" {
		t.Fatalf("login during the outage set a cookie")
	}
	if errs := rec.all(); len(errs) != 1 || !errors.Is(errs[0], session.ErrUnavailable) {
		t.Fatalf("errors %v, want one ErrUnavailable", errs)
	}
}

// TestCookieRevocationGeneration: RevokeUser sets the generation to the
// Redis server's time in ms, or one past the last one when that is later
// (so it never repeats nor moves back), with the absolute lifetime (plus a
// second) as its TTL.
func TestCookieRevocationGeneration(t *testing.T) {
	const absolute = time.Hour
	st := newRevocationSetup(t, absolute)
	ctx := context.Background()
	key := session.DefaultRevocationPrefix + session.HashID("ana")
	gen := func() int64 {
		t.Helper()
		v, err := st.rdb.Get(ctx, key).Int64()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	redisNow := func() int64 {
		t.Helper()
		tm, err := st.rdb.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	revoke := func() {
		t.Helper()
		if err := st.m.RevokeUser(ctx, "ana"); err != nil {
			t.Fatal(err)
		}
	}

	t0 := redisNow()
	revoke()
	g1, t1 := gen(), redisNow()
	if g1 < t0 || g1 > t1 {
		t.Fatalf("first generation %d, want Redis's time in ms, in [%d, %d]", g1, t0, t1)
	}
	revoke()
	if g2 := gen(); g2 <= g1 {
		t.Fatalf("second generation %d, want more than %d", g2, g1)
	}
	ahead := t1 + 10*time.Hour.Milliseconds()
	if err := st.rdb.Set(ctx, key, ahead, 0).Err(); err != nil {
		t.Fatal(err)
	}
	revoke()
	if g := gen(); g != ahead+1 {
		t.Fatalf("generation after %d: %d, want %d", ahead, g, ahead+1)
	}
	if err := st.rdb.Set(ctx, key, "5", 0).Err(); err != nil { // far behind, as from another deployment
		t.Fatal(err)
	}
	revoke()
	if g := gen(); g < t1 {
		t.Fatalf("generation after 5: %d, want Redis's time in ms (at least %d)", g, t1)
	}
	ttl, err := st.rdb.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= absolute-time.Minute || ttl > absolute+time.Second {
		t.Fatalf("TTL %v, want the absolute lifetime (%v) plus at most a second", ttl, absolute)
	}
}

// TestCookieLogoutEndsCopies: with Revocations, Destroy (the logout) ends
// that login in Redis: a copy of the cookie taken before the logout, and a
// copy renewed (RenewID) from it, are refused afterwards, while the same
// user's other logins stay. The key names only a hash of the login's id,
// expires with the cookies it guards, and a logout Redis cannot record
// fails closed (503, the cookie kept, nothing claimed).
func TestCookieLogoutEndsCopies(t *testing.T) {
	const absolute = 2 * time.Hour
	st := newRevocationSetup(t, absolute)
	ana, other := newClient(t, st.srv), newClient(t, st.srv)
	ana.mustGet("/login?user=ana")
	other.mustGet("/login?user=ana")
	stolen := ana.cookie(session.DefaultCookieName)
	ana.mustGet("/renew")
	renewed := ana.cookie(session.DefaultCookieName)
	if renewed == stolen {
		t.Fatal("RenewID kept the same cookie value")
	}

	if code, _ := ana.get("/destroy"); code != http.StatusOK {
		t.Fatalf("logout: %d", code)
	}
	for name, v := range map[string]string{"copy taken before the logout": stolen, "copy renewed before the logout": renewed} {
		replay := newClient(t, st.srv)
		replay.setCookie(session.DefaultCookieName, v)
		body, ck, _ := replay.getCookie("/whoami", session.DefaultCookieName)
		if !strings.HasPrefix(body, "user= ") {
			t.Fatalf("%s replayed after the logout: %q, want a new anonymous session", name, body)
		}
		if ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("%s: Set-Cookie %v, want the cookie dropped", name, ck)
		}
	}
	wantUser(t, other, "ana", "the same user's other login after one logout")

	keys, err := st.rdb.Keys(context.Background(), session.DefaultRevocationPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], session.DefaultRevocationPrefix+"l:") || len(keys[0]) != len(session.DefaultRevocationPrefix)+2+43 {
		t.Fatalf("keys %q, want one ended-login key named by a 43-character hash", keys)
	}
	ttl, err := st.rdb.PTTL(context.Background(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= absolute-time.Minute || ttl > absolute+time.Second {
		t.Fatalf("ended-login TTL %v, want the absolute lifetime (%v) plus at most a second", ttl, absolute)
	}

	// A logout while Redis is down: 503, the session stays (nothing is
	// claimed that a copy of the cookie would survive).
	other.mustGet("/incr")
	st.rs.Stop()
	if code, _ := other.get("/destroy"); code != http.StatusServiceUnavailable {
		t.Fatalf("logout during an outage: %d, want 503", code)
	}
	if errs := st.errs.all(); len(errs) != 1 || !errors.Is(errs[0], session.ErrUnavailable) {
		t.Fatalf("errors %v, want one ErrUnavailable", errs)
	}
}

// TestCookieLogoutWithoutLoginID: a cookie sealed before logins had ids
// (a user, a generation, no "_wsess_lid") still logs out (the browser drops
// the cookie) and costs no write; an anonymous session's Destroy costs
// nothing in Redis either.
func TestCookieLogoutWithoutLoginID(t *testing.T) {
	st := newRevocationSetup(t, 0)
	legacy := newClient(t, st.srv)
	v, err := st.m.Seal(map[string]any{"_wsess_user": "ana", "_wsess_auth": st.clk.Now().UnixMilli(), "_wsess_gen": 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	legacy.setCookie(session.DefaultCookieName, v)
	wantUser(t, legacy, "ana", "a cookie without a login id")
	anon := newClient(t, st.srv)
	anon.mustGet("/incr")
	before := commandCalls(t, st.rdb, "set")
	for _, c := range []*client{legacy, anon} {
		if _, ck, _ := c.getCookie("/destroy", session.DefaultCookieName); ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("logout: Set-Cookie %v, want the cookie dropped", ck)
		}
	}
	if got := commandCalls(t, st.rdb, "set") - before; got != 0 {
		t.Fatalf("logouts without a login id made %d SETs, want 0", got)
	}
}

// TestCookieLogoutBeatsAConcurrentRequest: a request that loaded the
// session before a logout and commits after it (re-sealing the cookie with
// a change) hands its browser a cookie that is refused from then on: the
// login it carries has ended. Both orders of the commit and the logout.
func TestCookieLogoutBeatsAConcurrentRequest(t *testing.T) {
	for _, logoutFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "logout commits first", false: "slow request commits first"}[logoutFirst], func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1})
			t.Cleanup(func() { rdb.Close() })
			m, err := session.NewCookieManager(testSecret, session.CookieOptions{Revocations: rdb})
			if err != nil {
				t.Fatal(err)
			}
			loaded, release := make(chan struct{}), make(chan struct{})
			mux := managementMux()
			mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				close(loaded)
				<-release
				s.Incr("counter", 1) // a change: the cookie is sealed again
			})
			srv := httptest.NewServer(m.Middleware(mux))
			t.Cleanup(srv.Close)
			browser := newClient(t, srv)
			browser.mustGet("/login?user=ana")
			slow := newClient(t, srv) // a second tab with the same cookie
			slow.setCookie(session.DefaultCookieName, browser.cookie(session.DefaultCookieName))

			done := make(chan string)
			go func() {
				_, ck, _ := slow.getCookie("/slow", session.DefaultCookieName)
				v := ""
				if ck != nil {
					v = ck.Value
				}
				done <- v
			}()
			<-loaded
			var resealed string
			if logoutFirst {
				browser.mustGet("/destroy")
				close(release)
				resealed = <-done
			} else {
				close(release)
				resealed = <-done
				browser.mustGet("/destroy")
			}
			if resealed == "" {
				t.Fatal("the slow request set no cookie")
			}
			replay := newClient(t, srv)
			replay.setCookie(session.DefaultCookieName, resealed)
			wantUser(t, replay, "", "the cookie the slow request sealed, after the logout")
		})
	}
}
