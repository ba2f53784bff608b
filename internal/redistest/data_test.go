package redistest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
)

// TestFill writes more keys than one pipeline holds, each with its value
// and TTL, and reads them back.
func TestFill(t *testing.T) {
	c := redistest.Start(t, redistest.Options{}).Client()
	ctx := context.Background()
	const n = 5003
	redistest.Fill(t, c, n, func(i int) (string, string, time.Duration) {
		return fmt.Sprintf("k%d", i), fmt.Sprint(i * 2), time.Duration(i%2) * time.Hour
	})
	if got := c.DBSize(ctx).Val(); got != n {
		t.Fatalf("%d keys, want %d", got, n)
	}
	for _, i := range []int{0, 1, 4999, 5000, 5002} {
		k := fmt.Sprintf("k%d", i)
		if v := c.Get(ctx, k).Val(); v != fmt.Sprint(i*2) {
			t.Errorf("%s = %q, want %d", k, v, i*2)
		}
		ttl := c.TTL(ctx, k).Val()
		if i%2 == 0 && ttl != -1 || i%2 == 1 && (ttl <= 0 || ttl > time.Hour) {
			t.Errorf("%s: TTL %v", k, ttl)
		}
	}
}
