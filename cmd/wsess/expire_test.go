package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

// TestRedisExpireSubSecondTTL: a TTL under a second would delete the keys
// at once; --in refuses it as a usage error (exit 2) and changes nothing.
func TestRedisExpireSubSecondTTL(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	ctx := context.Background()
	fillSessions(t, c, "p:", 3)
	for _, in := range [][]string{{"--in", "1ns"}, {"--in", "500us", "--idle", "1s"}, {"--in", "999ms"}, {"--in", "1ns", "--dry-run"}} {
		for _, tty := range []bool{false, true} {
			r := runRedis(t, tty, "y\n", append([]string{"--redis-url", s.URL(), "redis", "expire", "--prefix", "p:"}, in...)...)
			if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "use --delete") || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("%v (tty %v): exit %d, stdout %q, stderr %q; want exit 2 pointing at --delete", in, tty, r.Code, r.Stdout, r.Stderr)
			}
		}
	}
	for i := 0; i < 3; i++ {
		key := fmt.Sprintf("p:s%06d", i)
		if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl != -1 {
			t.Errorf("%s: PTTL %v, %v; want the key, without a TTL", key, ttl, err)
		}
	}
	r := runRedis(t, false, "", "--redis-url", s.URL(), "redis", "expire", "--prefix", "p:", "--in", "1s")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Set a TTL of 1s on 3 keys") {
		t.Errorf("--in 1s: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
}
