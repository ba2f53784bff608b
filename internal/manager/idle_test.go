package manager_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
)

// idleWait is how long the keys of the idle tests are left alone: OBJECT
// IDLETIME counts whole seconds of a clock the server updates ten times a
// second, so after idleWait every key not touched since is idle for at
// least idleAtLeast, and a key touched afterwards for less for a second.
const (
	idleWait    = 3200 * time.Millisecond
	idleAtLeast = 2 * time.Second
)

// TestListAndStatsKeepIdleTimes: listing and summarising keys (List
// without values, Stats, Describe, Scan, Prefixes) leaves their idle times
// alone, also on a server without CLIENT NO-TOUCH (the redis-server of
// this machine is 7.0), so that expire --idle selects the same keys before
// and after: the dry run found 11 idle keys, and after one ls 0.
// Reading values (List with Values) does reset them where ReadsTouch says
// so.
func TestListAndStatsKeepIdleTimes(t *testing.T) {
	ctx := context.Background()
	type setup struct {
		name string
		c    redis.UniversalClient
	}
	var setups []setup
	for _, be := range backends {
		c := be.start(t)
		fill(t, c, "p:", 20, time.Hour)
		if err := c.HSet(ctx, "p:hash", "f", "v").Err(); err != nil {
			t.Fatal(err)
		}
		setups = append(setups, setup{be.name, c})
	}
	time.Sleep(idleWait) // once for every backend
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			c, m := s.c, manager.New(s.c)
			// Five keys used now: not idle.
			for i := range 5 {
				if err := c.Get(ctx, fmt.Sprintf("p:%d", i)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			idle := func() int64 {
				t.Helper()
				sum, err := m.Expire(ctx, manager.ExpireOptions{Prefix: "p:", Delete: true, Idle: idleAtLeast, DryRun: true})
				if err != nil {
					t.Fatal(err)
				}
				return sum.Matched
			}
			const want = 16 // 15 sessions and the hash
			if n := idle(); n != want {
				t.Fatalf("dry run before: %d idle keys, want %d", n, want)
			}
			listed := 0
			err := m.List(ctx, manager.ScanOptions{Prefix: "p:"}, func(infos []manager.Info) error {
				for _, inf := range infos {
					listed++
					if inf.Size <= 0 && inf.Type == "string" || inf.Type == "" {
						t.Errorf("List: %+v", inf)
					}
					// The idle time listed is the one before the listing.
					fresh := inf.Key == "p:0" || inf.Key == "p:1" || inf.Key == "p:2" || inf.Key == "p:3" || inf.Key == "p:4"
					if fresh && inf.Idle >= idleAtLeast || !fresh && inf.Idle < idleAtLeast {
						t.Errorf("List: %s idle for %v", inf.Key, inf.Idle)
					}
				}
				return nil
			})
			if err != nil || listed != 21 {
				t.Fatalf("List: %d keys, %v", listed, err)
			}
			st, err := m.Stats(ctx, manager.ScanOptions{Prefix: "p:", Top: 3})
			if err != nil || st.Keys != 21 || st.Strings != 20 || st.Bytes <= 0 {
				t.Fatalf("Stats: %+v, %v", st, err)
			}
			if _, err := m.Describe(ctx, []string{"p:5", "p:hash"}); err != nil {
				t.Fatal(err)
			}
			if err := m.Scan(ctx, manager.ScanOptions{Prefix: "p:"}, func([]string) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.Prefixes(ctx, 100); err != nil {
				t.Fatal(err)
			}
			if n := idle(); n != want {
				t.Fatalf("dry run after List, Stats, Describe, Scan and Prefixes: %d idle keys, want %d as before", n, want)
			}

			// Values are read: on this server that resets idle times, and
			// ReadsTouch says so.
			touch, version, err := m.ReadsTouch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if touch != st.SizeIsMemory || touch && !strings.Contains(c.Info(ctx, "server").Val(), "redis_version:"+version+"\r\n") {
				t.Fatalf("ReadsTouch: %v %q; Stats.SizeIsMemory %v", touch, version, st.SizeIsMemory)
			}
			if err := m.List(ctx, manager.ScanOptions{Prefix: "p:", Values: true}, func([]manager.Info) error { return nil }); err != nil {
				t.Fatal(err)
			}
			wantAfter := int64(want)
			if touch {
				wantAfter = 0 // the hash too: GET touches it before failing (WRONGTYPE)
			}
			if n := idle(); n != wantAfter {
				t.Fatalf("dry run after List with values (ReadsTouch %v): %d idle keys, want %d", touch, n, wantAfter)
			}
		})
	}
}

// TestStatsTombstoneWithoutNoTouch: where only MEMORY USAGE is known of a
// key (no CLIENT NO-TOUCH), Stats still tells a tombstone (short-lived,
// small, under a session-shaped name) from a session, reading only such
// keys' values (sessions with a TTL of an hour are not read:
// TestListAndStatsKeepIdleTimes).
func TestStatsTombstoneWithoutNoTouch(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t, redistest.Options{}).Client()
	const id = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "p:"+id, manager.TombstonePrefix+"Tq2-7wEjRDmXzU0sF0DRmt9Kj2J4bVq6w0yQm8m4o1g", 5*time.Minute).Err())
	must(c.Set(ctx, "p:7c9e6679-7425-40de-944b-e07fc1f90ae7", manager.TombstonePrefix+"8b6aef2d-6228-4444-9ca0-b81ed2d3dd71", time.Minute).Err())
	must(c.Set(ctx, "p:Xh5hXjZ0cBKDU3Xn2Ek3ZyVbYQ1gq8U9m7wV2c4t6Ko", `{"counter": 1}`, time.Hour).Err())
	st, err := manager.New(c).Stats(ctx, manager.ScanOptions{Prefix: "p:"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys != 1 || st.Bookkeeping.Tombstones != 2 {
		t.Fatalf("Stats: %d keys, %d tombstones (size is memory: %v); want 1 session and 2 tombstones", st.Keys, st.Bookkeeping.Tombstones, st.SizeIsMemory)
	}
}
