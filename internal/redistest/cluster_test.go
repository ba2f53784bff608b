package redistest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
)

func TestStartCluster(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3)
	if got := len(cl.Addrs()); got != 3 {
		t.Fatalf("Addrs: %d nodes, want 3", got)
	}
	c := cl.Client()
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("k%d", i)
		if err := c.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	// Every master holds some of the keys.
	var mu sync.Mutex
	perNode := map[string]int64{}
	err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		size, err := n.DBSize(ctx).Result()
		mu.Lock()
		perNode[n.Options().Addr] = size
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for addr, n := range perNode {
		if n == 0 {
			t.Errorf("master %s holds no keys", addr)
		}
		total += n
	}
	if len(perNode) != 3 || total != 300 {
		t.Fatalf("per master %v: want 3 masters holding 300 keys", perNode)
	}

	// Stopping a master makes its keys unavailable, not the others'.
	cl.StopMaster(0)
	var failed, ok int
	for i := 0; i < 300 && (failed == 0 || ok == 0); i++ {
		if err := c.Get(ctx, fmt.Sprintf("k%d", i)).Err(); err != nil {
			failed++
		} else {
			ok++
		}
	}
	if failed == 0 || ok == 0 {
		t.Fatalf("after stopping one master: %d reads failed, %d worked; want some of each", failed, ok)
	}
}
