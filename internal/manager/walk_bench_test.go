package manager_test

import (
	"context"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/where"
)

// BenchmarkRate measures the rate a paced Expire reaches (the keys/s
// metric should be close to the 20,000 asked for).
func BenchmarkRate(b *testing.B) {
	const n, rate = 10_000, 20_000
	c := redistest.Start(b, redistest.Options{}).Client()
	fill(b, c, prefix, n, 0)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: time.Hour, Rate: rate}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkExpireNoTTL is the TTL-less check and set over keys that all
// have none (each round removes the TTLs again, untimed).
func BenchmarkExpireNoTTL(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: time.Hour, NoTTL: true})
		if err != nil || s.Changed != benchKeys {
			b.Fatalf("%+v, %v", s, err)
		}
		b.StopTimer()
		fill(b, c, prefix, benchKeys, 0)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkWhere is a dry-run Expire with a jq filter: the cost of reading
// and judging every value.
func BenchmarkWhere(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	expr, err := where.Compile(".counter == 7")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true, DryRun: true, Filter: expr.Verdict})
		if err != nil || s.Matched != benchKeys {
			b.Fatalf("%+v, %v", s, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkStats is Stats with the default memory sample and a top 10.
func BenchmarkStats(b *testing.B) {
	c := benchServer(b)
	m := manager.New(c)
	ctx := context.Background()
	for b.Loop() {
		s, err := m.Stats(ctx, manager.ScanOptions{Prefix: prefix, Top: 10})
		if err != nil || s.Keys != benchKeys {
			b.Fatalf("%d keys, %v", s.Keys, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}
