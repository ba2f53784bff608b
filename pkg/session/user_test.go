package session_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisLogin: Login on a Redis session renews the id (the old key is
// gone), keeps the data, and binds the user and the authentication time;
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
	if n, err := rdb.Exists(context.Background(), "wppsess:"+old).Result(); err != nil || n != 0 {
		t.Fatalf("Login left the pre-login key (%d, %v)", n, err)
	}
	want := fmt.Sprintf("user=ana auth=%d keys=counter counter=1 handle=%q", clk.Now().Unix(), session.HashID(id))
	if got := c.mustGet("/whoami"); got != want {
		t.Fatalf("after login: %q, want %q", got, want)
	}
}
