package redistest

import (
	"context"
	"testing"
)

// TestSentinelFailover: the Sentinels name the master, a failover moves it
// to the replica, and what was written before is there after.
func TestSentinelFailover(t *testing.T) {
	ss := StartSentinel(t, 3)
	if got := ss.Master(); got != ss.Primary.Addr {
		t.Fatalf("master %s, want %s", got, ss.Primary.Addr)
	}
	ctx := context.Background()
	if err := ss.Primary.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	ss.Failover()
	if got := ss.Master(); got != ss.Replica.Addr {
		t.Fatalf("master after the failover %s, want the replica %s", got, ss.Replica.Addr)
	}
	if v, err := ss.Replica.Client().Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after the failover: %q, %v", v, err)
	}
}
