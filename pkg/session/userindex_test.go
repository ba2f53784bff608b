package session

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
)

// addSessions stores n sessions of userID (session keys with a TTL of ttl)
// and lists them in the index; it returns their handles, sorted.
func addSessions(t *testing.T, x *userIndex, userID string, n int, now time.Time, ttl time.Duration) []string {
	t.Helper()
	ctx := context.Background()
	var handles []string
	for i := 0; i < n; i++ {
		h := HashID(newID())
		if err := x.rdb.Set(ctx, x.sessionKey(h), "{}", ttl).Err(); err != nil {
			t.Fatal(err)
		}
		err := x.add(ctx, userID, Info{
			Handle: h, Created: now, AuthTime: now, LastSeen: now, Expires: now.Add(ttl),
			UserAgent: "agent " + strconv.Itoa(i), IP: "192.0.2.77",
		})
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, h)
	}
	slices.Sort(handles)
	return handles
}

func handlesOf(infos []Info) []string {
	var hs []string
	for _, in := range infos {
		hs = append(hs, in.Handle)
	}
	slices.Sort(hs)
	return hs
}

// TestUserIndexListRevoke: 50 sessions of one user, spread over the
// cluster's slots, are listed exactly with their metadata; revoking all but
// one unlinks the 49 session keys and leaves the kept one and other users'
// sessions alone.
func TestUserIndexListRevoke(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		x := newUserIndex(rdb, DefaultPrefix, IPTruncated)
		now := time.Now().Truncate(time.Millisecond)
		ana := addSessions(t, x, "ana@example.com", 50, now, time.Hour)
		bob := addSessions(t, x, "bob@example.com", 2, now, time.Hour)

		if cc, ok := rdb.(*redis.ClusterClient); ok {
			slots := map[int64]bool{}
			for _, h := range ana {
				s, err := cc.ClusterKeySlot(ctx, x.sessionKey(h)).Result()
				if err != nil {
					t.Fatal(err)
				}
				slots[s] = true
			}
			if len(slots) < 10 {
				t.Fatalf("50 session keys in %d slots: the test does not spread them", len(slots))
			}
		}
		for _, k := range redistest.Keys(t, rdb) {
			if strings.Contains(k, "ana@example.com") || strings.Contains(k, "bob@example.com") {
				t.Fatalf("key %q names a user", k)
			}
		}

		infos, err := x.list(ctx, "ana@example.com", now)
		if err != nil {
			t.Fatal(err)
		}
		if got := handlesOf(infos); !slices.Equal(got, ana) {
			t.Fatalf("listed %d sessions, want exactly the 50 added", len(got))
		}
		for _, in := range infos {
			if !in.Created.Equal(now.Truncate(time.Second)) || !in.AuthTime.Equal(now.Truncate(time.Second)) ||
				!in.LastSeen.Equal(now) || !in.Expires.Equal(now.Add(time.Hour)) ||
				!strings.HasPrefix(in.UserAgent, "agent ") || in.IP != "192.0.2.0/24" {
				t.Fatalf("info %+v", in)
			}
		}

		keep := ana[7]
		n, err := x.revoke(ctx, "ana@example.com", now, true, []string{keep})
		if err != nil || n != 49 {
			t.Fatalf("revoke all but one = %d, %v; want 49", n, err)
		}
		for _, h := range ana {
			exists, err := rdb.Exists(ctx, x.sessionKey(h)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(0); h == keep {
				want = 1
				if exists != want {
					t.Fatalf("kept session key gone")
				}
			} else if exists != want {
				t.Fatalf("revoked session key %s still exists", h)
			}
		}
		if infos, err = x.list(ctx, "ana@example.com", now); err != nil || !slices.Equal(handlesOf(infos), []string{keep}) {
			t.Fatalf("after revoke: %v, %v; want only the kept session", handlesOf(infos), err)
		}
		// Another user's handle through ana's index: ignored.
		if n, err := x.revoke(ctx, "ana@example.com", now, false, []string{bob[0]}); err != nil || n != 0 {
			t.Fatalf("revoking bob's session as ana = %d, %v; want 0", n, err)
		}
		if infos, err = x.list(ctx, "bob@example.com", now); err != nil || !slices.Equal(handlesOf(infos), bob) {
			t.Fatalf("bob after ana's revoke: %v, %v", handlesOf(infos), err)
		}
		if n, err := x.revoke(ctx, "bob@example.com", now, false, []string{bob[0]}); err != nil || n != 1 {
			t.Fatalf("revoke one of bob's = %d, %v; want 1", n, err)
		}
		// Revoking the rest empties the index: no key is left for ana.
		if n, err := x.revoke(ctx, "ana@example.com", now, true, nil); err != nil || n != 1 {
			t.Fatalf("revoke the kept one = %d, %v; want 1", n, err)
		}
		for _, k := range x.keys("ana@example.com") {
			if exists, err := rdb.Exists(ctx, k).Result(); err != nil || exists != 0 {
				t.Fatalf("index key %s exists (%d, %v) with no session left", k, exists, err)
			}
		}
	})
}

// waitGone polls (every 50 ms, at most 10 s) until none of keys exists.
func waitGone(t *testing.T, rdb redis.UniversalClient, keys ...string) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); ; {
		n := int64(0)
		for _, k := range keys {
			e, err := rdb.Exists(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			n += e
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %v still exist after 10 s", n, keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUserIndexNeverOutlivesSessions: with short TTLs, once the sessions
// have expired no index key is left; a write prunes dead entries; a touch
// does not bring back a session the index no longer lists.
func TestUserIndexNeverOutlivesSessions(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		x := newUserIndex(rdb, DefaultPrefix, IPNone)
		now := time.Now()
		short := addSessions(t, x, "ana", 3, now, 700*time.Millisecond)
		long := addSessions(t, x, "ana", 1, now, time.Hour)
		keys := x.keys("ana")
		for _, k := range keys {
			ttl, err := rdb.PTTL(ctx, k).Result()
			if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
				t.Fatalf("index key %s TTL %v (%v), want the latest session's expiry (1 h)", k, ttl, err)
			}
		}
		var sessionKeys []string
		for _, h := range short {
			sessionKeys = append(sessionKeys, x.sessionKey(h))
		}
		waitGone(t, rdb, sessionKeys...)
		later := time.Now()
		if ok, err := x.touch(ctx, "ana", long[0], later, later.Add(time.Hour)); err != nil || !ok {
			t.Fatalf("touch of a listed session = %v, %v", ok, err)
		}
		if n, err := rdb.ZCard(ctx, keys[0]).Result(); err != nil || n != 1 {
			t.Fatalf("after a write, %d entries (%v), want the dead ones pruned", n, err)
		}
		if n, err := rdb.HLen(ctx, keys[1]).Result(); err != nil || n != 2 {
			t.Fatalf("after a write, %d metadata fields (%v), want 2 (the live session's)", n, err)
		}
		if ok, err := x.touch(ctx, "ana", short[0], later, later.Add(time.Hour)); err != nil || ok {
			t.Fatalf("touch of a pruned session = %v, %v; want false", ok, err)
		}
		if n, err := rdb.ZCard(ctx, keys[0]).Result(); err != nil || n != 1 {
			t.Fatalf("a touch brought a pruned session back: %d entries", n)
		}

		// Only short sessions: the index expires with them.
		bob := addSessions(t, x, "bob", 2, time.Now(), 500*time.Millisecond)
		bobKeys := x.keys("bob")
		for _, h := range bob {
			bobKeys = append(bobKeys, x.sessionKey(h))
		}
		waitGone(t, rdb, bobKeys...)
	})
}

func TestTruncateIP(t *testing.T) {
	tests := []struct{ in, want, full string }{
		{"192.0.2.77", "192.0.2.0/24", "192.0.2.77"},
		{"::ffff:192.0.2.77", "192.0.2.0/24", "192.0.2.77"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1::/48", "2001:db8:1:2:3:4:5:6"},
		{"fe80::1%eth0", "fe80::/48", "fe80::1"},
		{"not an ip", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := truncateIP(tt.in); got != tt.want {
			t.Errorf("truncateIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := recordIP(IPTruncated, tt.in); got != tt.want {
			t.Errorf("recordIP(IPTruncated, %q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := recordIP(IPFull, tt.in); got != tt.full {
			t.Errorf("recordIP(IPFull, %q) = %q, want %q", tt.in, got, tt.full)
		}
		if got := recordIP(IPNone, tt.in); got != "" {
			t.Errorf("recordIP(IPNone, %q) = %q, want nothing", tt.in, got)
		}
	}
}

func TestIndexExpiryAndTouchDue(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name                  string
		now                   time.Time
		idle, absolute, touch time.Duration
		want                  time.Time
	}{
		{"idle plus touch", t0, time.Hour, 24 * time.Hour, 5 * time.Minute, t0.Add(65 * time.Minute)},
		{"cut a second past the absolute limit", t0.Add(23*time.Hour + 30*time.Minute), time.Hour, 24 * time.Hour, 5 * time.Minute, t0.Add(24*time.Hour + time.Second)},
		{"no absolute", t0.Add(100 * time.Hour), time.Hour, 0, 5 * time.Minute, t0.Add(100*time.Hour + 65*time.Minute)},
	}
	for _, tt := range tests {
		if got := indexExpiry(tt.now, t0, tt.idle, tt.absolute, tt.touch); !got.Equal(tt.want) {
			t.Errorf("%s: indexExpiry = %v, want %v", tt.name, got, tt.want)
		}
	}
}
