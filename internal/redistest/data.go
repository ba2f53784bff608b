package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fillChunk is how many SETs Fill sends in one pipeline.
const fillChunk = 5000

// Fill writes n keys through c, in pipelines of 5000 SETs: entry(i) gives
// key i, its value and its TTL (0: none). It fails tb on any error.
func Fill(tb testing.TB, c redis.UniversalClient, n int, entry func(i int) (key, value string, ttl time.Duration)) {
	tb.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += fillChunk {
		pipe := c.Pipeline()
		for j := i; j < min(i+fillChunk, n); j++ {
			key, value, ttl := entry(j)
			pipe.Set(ctx, key, value, ttl)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			tb.Fatalf("redistest: fill: %v", err)
		}
	}
}

// Reply is a Redis error reply as go-redis hands over one it has no type
// for. Tests of error classification make with it the replies that no
// real server gives cheaply: Reply("LOADING Redis is loading the dataset
// in memory").
type Reply string

func (r Reply) Error() string { return string(r) }

// RedisError marks a Reply as an answer of the server, as go-redis marks
// its own error replies.
func (Reply) RedisError() {}
