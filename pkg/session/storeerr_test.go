package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/redistest"
)

// TestStoreErr checks which failures the library calls an outage (503 by
// default) and which a store error (500), where the library and the
// manager must agree on: READONLY, BUSY, MOVED, ASK and "ERR LOADING".
func TestStoreErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"LOADING", redistest.Reply("LOADING Redis is loading the dataset in memory"), ErrUnavailable},
		{"ERR LOADING (KVRocks)", redistest.Reply("ERR LOADING restoring the db"), ErrUnavailable},
		{"READONLY", redistest.Reply("READONLY You can't write against a read only replica."), ErrUnavailable},
		{"BUSY", redistest.Reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), ErrUnavailable},
		{"BUSYKEY", redistest.Reply("BUSYKEY Target key name already exists."), ErrStore},
		{"MOVED", redistest.Reply("MOVED 3999 127.0.0.1:6381"), ErrStore},
		{"ASK", redistest.Reply("ASK 3999 127.0.0.1:6381"), ErrStore},
		{"CLUSTERDOWN", redistest.Reply("CLUSTERDOWN The cluster is down"), ErrUnavailable},
		{"WRONGTYPE", redistest.Reply("WRONGTYPE Operation against a key holding the wrong kind of value"), ErrStore},
		{"OOM", redistest.Reply("OOM command not allowed when used memory > 'maxmemory'."), ErrStore},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), ErrUnavailable},
		{"canceled", context.Canceled, ErrUnavailable},
		{"EOF", io.EOF, ErrUnavailable},
		{"manager outage (Clear)", &manager.Error{Op: "expire", Kind: rediserr.Unavailable, Err: io.EOF}, ErrUnavailable},
		{"manager reply (Clear)", &manager.Error{Op: "expire", Kind: rediserr.Reply, Err: redistest.Reply("NOPERM this user has no permissions")}, ErrStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := storeErr("load", tt.err)
			if !errors.Is(err, tt.want) {
				t.Errorf("storeErr(%q) = %v, want %v", tt.err, err, tt.want)
			}
			if errors.Is(err, ErrStore) == errors.Is(err, ErrUnavailable) {
				t.Errorf("storeErr(%q) = %v: exactly one of ErrStore, ErrUnavailable", tt.err, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("storeErr(%q) lost the cause", tt.err)
			}
		})
	}
}

// TestClearOnReplica checks that Clear through a read-only replica is an
// outage, not a silent success that removed nothing.
func TestClearOnReplica(t *testing.T) {
	ctx := context.Background()
	master := redistest.Start(t, redistest.Options{}).Client()
	for i := 0; i < 5; i++ {
		if err := master.Set(ctx, DefaultPrefix+strconv.Itoa(i), "{}", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	replica := redistest.Start(t, redistest.Options{}).Client()
	host, port := "127.0.0.1", master.Options().Addr[len("127.0.0.1:"):]
	if err := replica.SlaveOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // wait (up to 10 s) for the first sync
		if n, err := replica.DBSize(ctx).Result(); err == nil && n == 5 {
			break
		}
		if i == 200 {
			t.Fatal("the replica did not sync within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	m, err := NewRedisManager(replica, RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := m.DeleteAll(ctx)
	if !errors.Is(err, ErrUnavailable) || n != 0 {
		t.Fatalf("DeleteAll on a replica = %d, %v; want 0 and ErrUnavailable", n, err)
	}
	if got, _ := master.DBSize(ctx).Result(); got != 5 {
		t.Fatalf("master holds %d keys, want 5", got)
	}
}
