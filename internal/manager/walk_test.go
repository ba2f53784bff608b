package manager_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/where"
)

// fillSessions writes n sessions prefix+i in pipelines. value(i) gives the
// stored bytes and ttl(i) the TTL (0: none).
func fillSessions(tb testing.TB, c redis.UniversalClient, prefix string, n int, value func(i int) string, ttl func(i int) time.Duration) {
	tb.Helper()
	redistest.Fill(tb, c, n, func(i int) (string, string, time.Duration) {
		return prefix + strconv.Itoa(i), value(i), ttl(i)
	})
}

func noTTL(int) time.Duration { return 0 }

// whereValue is session i of the where tests: user 42 owns every tenth
// session, every 1000th value is not a session at all, and the others
// belong to users 0..41 with carts of i%7 items.
func whereValue(i int) string {
	switch {
	case i%1000 == 999:
		return "\x80\x04not a pickle"
	case i%10 == 3:
		return `{"auth":{"user":{"id":42}},"cart":[1]}`
	}
	cart := "["
	for j := 0; j < i%7; j++ {
		if j > 0 {
			cart += ","
		}
		cart += strconv.Itoa(j)
	}
	return fmt.Sprintf(`{"auth":{"user":{"id":%d}},"cart":%s]}`, i%42, cart)
}

// TestWhereDelete deletes one user's sessions out of 100,000 through a
// jq filter and checks that exactly those are gone.
func TestWhereDelete(t *testing.T) {
	const n = 100_000
	want := map[string]bool{} // the keys that must go
	undecodable := 0
	for i := 0; i < n; i++ {
		switch {
		case i%1000 == 999:
			undecodable++
		case i%10 == 3:
			want[prefix+strconv.Itoa(i)] = true
		}
	}
	expr, err := where.Compile(".auth.user.id == 42")
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			c := be.start(t)
			fillSessions(t, c, prefix, n, whereValue, noTTL)
			fill(t, c, other, nOther, 0) // same content, other prefix: untouched
			m := manager.New(c)

			dry, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true, DryRun: true, Filter: expr.Verdict})
			if err != nil || dry.Matched != int64(len(want)) || dry.Changed != 0 || dry.Undecodable != int64(undecodable) {
				t.Fatalf("dry run: %+v, %v; want %d matched, %d undecodable, none changed", dry, err, len(want), undecodable)
			}

			s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, Delete: true, Filter: expr.Verdict})
			if err != nil {
				t.Fatalf("Expire: %v", err)
			}
			if s.Scanned != n || s.Matched != int64(len(want)) || s.Changed != int64(len(want)) ||
				s.Undecodable != int64(undecodable) || s.Failed != 0 || s.FilterErrors != 0 {
				t.Errorf("summary %+v; want %d scanned, %d matched and changed, %d undecodable", s, n, len(want), undecodable)
			}
			left := collectAfterDeletes(t, m, manager.ScanOptions{Prefix: prefix})
			if len(left) != n-len(want) {
				t.Errorf("%d keys left under %s, want %d", len(left), prefix, n-len(want))
			}
			for k := range want {
				if left[k] {
					t.Fatalf("%s (user 42) was not deleted", k)
				}
			}
			if got := len(collectAfterDeletes(t, m, manager.ScanOptions{Prefix: other})); got != nOther {
				t.Errorf("%d keys under %s, want %d untouched", got, other, nOther)
			}
		})
	}
}

// TestWhereListStats selects by content in List and Stats.
func TestWhereListStats(t *testing.T) {
	const n = 5000
	expr, err := where.Compile(".cart | length > 5")
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := map[string]bool{}
	for i := 0; i < n; i++ {
		if i%1000 != 999 && i%10 != 3 && i%7 == 6 {
			wantKeys[prefix+strconv.Itoa(i)] = true
		}
	}
	c := redistest.Start(t, redistest.Options{}).Client()
	fillSessions(t, c, prefix, n, whereValue, noTTL)
	m := manager.New(c)
	ctx := context.Background()

	got := map[string]bool{}
	var last manager.Progress
	err = m.List(ctx, manager.ScanOptions{Prefix: prefix, Filter: expr.Verdict, Progress: func(p manager.Progress) { last = p }},
		func(infos []manager.Info) error {
			for _, inf := range infos {
				if inf.Value != nil {
					return fmt.Errorf("%s: Value set without ScanOptions.Values", inf.Key)
				}
				got[inf.Key] = true
			}
			return nil
		})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(wantKeys) {
		t.Errorf("List selected %d keys, want %d", len(got), len(wantKeys))
	}
	for k := range wantKeys {
		if !got[k] {
			t.Fatalf("List missed %s", k)
		}
	}
	if last.Scanned != n || last.Matched != int64(len(wantKeys)) || last.Undecodable != n/1000 {
		t.Errorf("last progress %+v; want %d scanned, %d matched, %d undecodable", last.Summary, n, len(wantKeys), n/1000)
	}
	if last.Fraction != 1 || last.Total != 0 {
		t.Errorf("last progress: fraction %v, total %d; want 1 and 0 (unknown under a prefix)", last.Fraction, last.Total)
	}

	st, err := m.Stats(ctx, manager.ScanOptions{Prefix: prefix, Filter: expr.Verdict})
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Keys != int64(len(wantKeys)) || st.Scanned != n || st.Undecodable != n/1000 {
		t.Errorf("Stats: %d keys of %d scanned, %d undecodable; want %d, %d, %d", st.Keys, st.Scanned, st.Undecodable, len(wantKeys), n, n/1000)
	}
}

// TestNoTTL fills keys with and without a TTL: Stats counts the TTL-less
// ones exactly, and Expire with NoTTL gives exactly those a TTL.
func TestNoTTL(t *testing.T) {
	const n = 10_000
	ttlOf := func(i int) time.Duration {
		if i%5 == 0 {
			return 0
		}
		return time.Duration(1+i%50) * time.Minute
	}
	value := func(i int) string {
		if i%3000 == 1234 { // a few large sessions for the top list
			return fmt.Sprintf(`{"blob":"%0*d"}`, 10000+i, 0)
		}
		return payload
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			c := be.start(t)
			fillSessions(t, c, prefix, n, value, ttlOf)
			fill(t, c, other, nOther, 0)
			m := manager.New(c)
			before := ttls(t, m, prefix)

			st, err := m.Stats(ctx, manager.ScanOptions{Prefix: prefix, Top: 3, MemorySample: 10})
			if err != nil {
				t.Fatalf("Stats: %v", err)
			}
			if st.Keys != n || st.NoTTL != n/5 || st.TTL[len(st.TTL)-1].Count != n/5 {
				t.Errorf("Stats: %d keys, %d without TTL (bucket %d); want %d, %d", st.Keys, st.NoTTL, st.TTL[len(st.TTL)-1].Count, n, n/5)
			}
			wantTop := []string{prefix + "7234", prefix + "4234", prefix + "1234"}
			if len(st.Top) != len(wantTop) {
				t.Fatalf("Top: %+v; want %v", st.Top, wantTop)
			}
			for i, e := range st.Top {
				// Where the sizes are MEMORY USAGE (no CLIENT NO-TOUCH), more
				// than the length.
				if size := int64(len(value(7234 - 3000*i))); e.Key != wantTop[i] || !st.SizeIsMemory && e.Size != size || st.SizeIsMemory && e.Size <= size {
					t.Errorf("Top[%d] = %+v; want %s of %d bytes", i, e, wantTop[i], size)
				}
			}
			switch {
			case st.SizeIsMemory:
				if st.Memory.Sampled != n || st.Memory.Estimated != st.Bytes {
					t.Errorf("Memory: %+v with %d bytes; want all %d keys' MEMORY USAGE as their sizes", st.Memory, st.Bytes, n)
				}
			case st.Memory.Sampled < n/10-2*pipeWorkersForTest || st.Memory.Sampled > n/10+2*pipeWorkersForTest ||
				st.Memory.Estimated <= st.Bytes:
				t.Errorf("Memory: %+v with %d bytes; want about %d sampled and an estimate above the value bytes", st.Memory, st.Bytes, n/10)
			}
			var idle int64
			for _, b := range st.Idle {
				idle += b.Count
			}
			if idle != n {
				t.Errorf("idle histogram counts %d keys, want %d", idle, n)
			}
			if len(st.Prefixes) != 1 || st.Prefixes[0] != (manager.Group{Name: prefix, Keys: n, NoTTL: n / 5, Bytes: st.Bytes}) {
				t.Errorf("Prefixes: %+v", st.Prefixes)
			}
			if be.name == "cluster" {
				var keys int64
				for _, g := range st.Nodes {
					keys += g.Keys
				}
				if len(st.Nodes) != 3 || keys != n {
					t.Errorf("Nodes: %+v; want 3 masters holding %d keys", st.Nodes, n)
				}
			}

			s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: 24 * time.Hour, NoTTL: true})
			want := manager.Summary{Scanned: n, Matched: n / 5, Changed: n / 5}
			if err != nil || s != want {
				t.Fatalf("Expire NoTTL: %+v, %v; want %+v", s, err, want)
			}
			after := ttls(t, m, prefix)
			for k, old := range before {
				now := after[k]
				switch {
				case old == manager.NoExpiry:
					if now <= 23*time.Hour || now > 24*time.Hour {
						t.Fatalf("%s had no TTL: now %v, want about 24h", k, now)
					}
				case now > old || now < old-time.Minute:
					t.Fatalf("%s had TTL %v: now %v, want it left alone", k, old, now)
				}
			}
			for k, ttl := range ttls(t, m, other) {
				if ttl != manager.NoExpiry {
					t.Fatalf("%s (other prefix): TTL %v, want none", k, ttl)
				}
			}
			st, err = m.Stats(ctx, manager.ScanOptions{Prefix: prefix})
			if err != nil || st.NoTTL != 0 {
				t.Errorf("Stats after: %d without TTL, %v; want 0", st.NoTTL, err)
			}
		})
	}
}

// pipeWorkersForTest bounds the sampling skew: each worker of each node
// starts its own count.
const pipeWorkersForTest = 6

// TestRate: 10,000 keys at 2000 keys/s take about 5 s. The bounds are
// generous on purpose (the issue allows 4.5 s to 6 s); the exact rate is
// measured by BenchmarkRate.
func TestRate(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 5 s")
	}
	const n = 10_000
	c := redistest.Start(t, redistest.Options{}).Client()
	fill(t, c, prefix, n, 0)
	m := manager.New(c)
	start := time.Now()
	s, err := m.Expire(context.Background(), manager.ExpireOptions{Prefix: prefix, TTL: time.Hour, Rate: 2000})
	wall := time.Since(start)
	if err != nil || s.Changed != n {
		t.Fatalf("Expire: %+v, %v; want %d changed", s, err, n)
	}
	if wall < 4500*time.Millisecond || wall > 6*time.Second {
		t.Errorf("10,000 keys at 2000/s took %v, want between 4.5 s and 6 s", wall)
	}
}

// TestInterrupt cancels an Expire mid-run, then runs it again: the first
// run reports exactly what it did, and the two runs together give every
// key its TTL exactly once (NoTTL acts only on keys without one, so a key
// handled twice would show as a count above n).
func TestInterrupt(t *testing.T) {
	const n = 20_000
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c := be.start(t)
			fill(t, c, prefix, n, 0)
			m := manager.New(c)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			opts := manager.ExpireOptions{Prefix: prefix, TTL: time.Hour, NoTTL: true, Batch: 500,
				Progress: func(p manager.Progress) {
					if p.Scanned >= n/4 {
						once.Do(cancel)
					}
				}}
			first, err := m.Expire(ctx, opts)
			if !errors.Is(err, manager.ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted Expire: %v; want ErrInterrupted and context.Canceled", err)
			}
			if first.Changed == 0 || first.Changed >= n || first.Failed != 0 {
				t.Fatalf("interrupted Expire: %+v; want some but not all of %d changed", first, n)
			}
			done := 0
			for _, ttl := range ttls(t, m, prefix) {
				if ttl != manager.NoExpiry {
					done++
				}
			}
			if int64(done) != first.Changed {
				t.Errorf("%d keys have a TTL after the interrupted run, its summary says %d", done, first.Changed)
			}
			opts.Progress = nil
			second, err := m.Expire(context.Background(), opts)
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if first.Changed+second.Changed != n {
				t.Errorf("changed %d + %d keys, want %d in all", first.Changed, second.Changed, n)
			}
			for k, ttl := range ttls(t, m, prefix) {
				if ttl == manager.NoExpiry {
					t.Fatalf("%s has no TTL after the rerun", k)
				}
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	c := redistest.Start(t, redistest.Options{}).Client()
	fill(t, c, "emtsess:", 300, 0)
	fill(t, c, prefix, 200, 0)
	fill(t, c, "nocolon", 5, 0)
	m := manager.New(c)
	ctx := context.Background()
	got, complete, err := m.Prefixes(ctx, 0)
	want := []manager.Group{{Name: "emtsess:", Keys: 300}, {Name: prefix, Keys: 200}, {Name: manager.NoPrefix, Keys: 5}}
	if err != nil || !complete || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Prefixes = %v, %v, %v; want %v, complete", got, complete, err, want)
	}
	got, complete, err = m.Prefixes(ctx, 100)
	var n int64
	for _, g := range got {
		n += g.Keys
	}
	if err != nil || complete || n != 100 {
		t.Errorf("Prefixes(100) = %v, %v, %v; want 100 keys counted, incomplete", got, complete, err)
	}
}

// TestInterruptWhilePaced cancels a walk that is waiting for its rate
// limit: it stops without working through the rest.
func TestInterruptWhilePaced(t *testing.T) {
	const n = 5000
	c := redistest.Start(t, redistest.Options{}).Client()
	fill(t, c, prefix, n, 0)
	m := manager.New(c)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s, err := m.Expire(ctx, manager.ExpireOptions{Prefix: prefix, TTL: time.Hour, Rate: 100}) // 50 s unpaced
	if !errors.Is(err, manager.ErrInterrupted) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Expire: %v; want ErrInterrupted and DeadlineExceeded", err)
	}
	if s.Changed == 0 || s.Changed >= n/10 {
		t.Errorf("changed %d keys in 0.3 s at 100/s, want a few batches of 10", s.Changed)
	}
	st, err := m.Stats(context.Background(), manager.ScanOptions{Prefix: prefix})
	if err != nil || st.Keys-st.NoTTL != s.Changed {
		t.Errorf("%d keys have a TTL, the summary says %d (%v)", st.Keys-st.NoTTL, s.Changed, err)
	}
}
