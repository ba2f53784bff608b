package manager_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/redistest"
)

// TestErrorKinds checks that manager failures come back as *manager.Error
// with the kind rediserr decides, and that only outages match
// ErrUnavailable.
func TestErrorKinds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A replica that holds the master's keys: deleting them is READONLY.
	master := redistest.Start(t, redistest.Options{})
	mc := master.Client()
	fill(t, mc, prefix, 10, 0)
	rs := redistest.Start(t, redistest.Options{})
	replica := rs.Client()
	if err := replica.SlaveOf(ctx, "127.0.0.1", strings.TrimPrefix(master.Addr, "127.0.0.1:")).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // wait (up to 10 s) for the first sync
		n, err := replica.DBSize(ctx).Result()
		if err == nil && n == 10 {
			break
		}
		if i == 200 {
			t.Fatalf("replica holds %d keys (%v) after 10 s, want 10", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A single-node client on a cluster node: keys of the other node are MOVED.
	cl := redistest.StartCluster(t, 2)
	node0 := redis.NewClient(&redis.Options{Addr: cl.Addrs()[0], MaxRetries: -1})
	t.Cleanup(func() { _ = node0.Close() })

	stopped := redistest.Start(t, redistest.Options{})
	down := redis.NewClient(&redis.Options{Addr: stopped.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = down.Close() })
	stopped.Stop()

	tests := []struct {
		name        string
		call        func() error
		op          string
		kind        rediserr.Kind
		unavailable bool
	}{
		{"delete on a replica", func() error {
			_, err := manager.New(replica).Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true})
			return err
		}, "expire: unlink", rediserr.Unavailable, true},
		{"ttl on a replica", func() error {
			_, err := manager.New(replica).Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: time.Hour})
			return err
		}, "expire", rediserr.Unavailable, true},
		{"get through a client that does not follow MOVED", func() error {
			_, _, err := manager.New(node0).Get(ctx, "a") // slot 15495: node 1
			return err
		}, "get", rediserr.Redirected, false},
		{"scan of a stopped server", func() error {
			return manager.New(down).Scan(ctx, manager.ScanOptions{Prefix: prefix}, func([]string) error { return nil })
		}, "scan", rediserr.Unavailable, true},
		{"canceled", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, _, err := manager.New(mc).Get(c, prefix+"1")
			return err
		}, "get", rediserr.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var me *manager.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T) is no *manager.Error", err, err)
			}
			if me.Op != tt.op || me.Kind != tt.kind {
				t.Errorf("got Op %q Kind %v, want %q %v (%v)", me.Op, me.Kind, tt.op, tt.kind, err)
			}
			if got := errors.Is(err, manager.ErrUnavailable); got != tt.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			if want := "manager: " + tt.op + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
		})
	}
	// The replica's keys are still there: nothing was deleted.
	if n, err := replica.DBSize(ctx).Result(); err != nil || n != 10 {
		t.Errorf("replica DBSIZE = %d, %v; want 10", n, err)
	}
}
