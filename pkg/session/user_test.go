package session_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisLogin: Login on a Redis session renews the id (the old key holds
// no session data any more, only RenewID's short-lived tombstone, and the
// old cookie gets a new anonymous session), keeps the data, and binds the user and the authentication time;
// the handle is HashID of the new id.
func TestRedisLogin(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	clk := newFakeClock()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{Clock: clk.Now}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(managementMux()))
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	c.mustGet("/incr")
	old := c.cookie(session.DefaultIDCookieName)
	c.mustGet("/login?user=ana")
	id := c.cookie(session.DefaultIDCookieName)
	if id == old || !session.ValidID(id) {
		t.Fatalf("Login: id %q -> %q, want a new id", old, id)
	}
	if v, err := rdb.Get(context.Background(), m.Key(old)).Result(); err != nil || !strings.HasPrefix(v, "\x00wsess:renamed:") {
		t.Fatalf("Login left the pre-login key holding %q (%v), want RenewID's tombstone", v, err)
	}
	stale := newClient(t, srv)
	stale.setCookie(session.DefaultIDCookieName, old)
	if got := stale.mustGet("/whoami"); got != `user= auth= keys= counter=0 handle=""` {
		t.Fatalf("the pre-login cookie after login: %q, want a new anonymous session", got)
	}
	want := fmt.Sprintf("user=ana auth=%d keys=counter counter=1 handle=%q", clk.Now().Unix(), session.HashID(id))
	if got := c.mustGet("/whoami"); got != want {
		t.Fatalf("after login: %q, want %q", got, want)
	}
}
