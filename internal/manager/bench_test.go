package manager_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
)

// benchKeys is the size of the data set the listing benchmarks walk.
const benchKeys = 100_000

func benchServer(b *testing.B) *redis.Client {
	c := redistest.Start(b, redistest.Options{}).Client()
	fill(b, c, prefix, benchKeys, 0)
	fill(b, c, other, benchKeys/100, 0)
	return c
}

// BenchmarkBareScan is the baseline: a plain SCAN MATCH COUNT 1000 loop.
func BenchmarkBareScan(b *testing.B) {
	c := benchServer(b)
	ctx := context.Background()
	for b.Loop() {
		n := 0
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				b.Fatal(err)
			}
			n += len(keys)
			if cursor = next; cursor == 0 {
				break
			}
		}
		if n != benchKeys {
			b.Fatalf("%d keys", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

func BenchmarkScan(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		n := 0
		if err := m.Scan(ctx, manager.ScanOptions{Prefix: prefix}, func(keys []string) error { n += len(keys); return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchKeys {
			b.Fatalf("%d keys", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkList is Scan plus TTL, size and idle time of every key.
func BenchmarkList(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		n := 0
		if err := m.List(ctx, manager.ScanOptions{Prefix: prefix}, func(infos []manager.Info) error { n += len(infos); return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchKeys {
			b.Fatalf("%d keys", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkExpire sets a TTL on every key under the prefix.
func BenchmarkExpire(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: 3600e9}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkDelete deletes every key under the prefix (the refill is not timed).
func BenchmarkDelete(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		n, err := m.DeletePrefix(ctx, prefix, 0)
		if err != nil || n != benchKeys {
			b.Fatalf("%d, %v", n, err)
		}
		b.StopTimer()
		fill(b, c, prefix, benchKeys, 0)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}
