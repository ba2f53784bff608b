package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// seenKey returns the key that marks a logged-in session's last-seen time
// as recorded within the touch interval: in the session key's hash slot (a
// hash tag naming that slot), and not under the prefix, so a SCAN of the
// sessions does not see it. It holds no id: the session key is hashed
// whenever the index is kept.
func seenKey(key string) string {
	return "{" + slotTag(key) + "}:seen:" + key
}

// slotTag returns a hash tag T such that a key containing "{T}" first lands
// in key's Redis Cluster hash slot. Redis hashes a key by its tag, the bytes
// between its first "{" and the first "}" after it when there are any, and
// by the whole key otherwise. So: key's own tag when it has one; else the
// key itself when it holds no "}" (then "{key}" has the tag key); else (a
// prefix with "}" or "{}") a short tag chosen for the slot (slotTags).
func slotTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	if key != "" && strings.IndexByte(key, '}') < 0 {
		return key
	}
	return slotTags()[crc16(key)%clusterSlots]
}

// clusterSlots is the number of Redis Cluster hash slots.
const clusterSlots = 16384

// slotTags returns, for each hash slot, the shortest decimal string that
// hashes to it: tags that name a slot whatever the key around them. It is
// built once, on first use (about 200k CRC16s), by the managers whose
// prefix needs it.
var slotTags = sync.OnceValue(func() *[clusterSlots]string {
	var tags [clusterSlots]string
	left := clusterSlots
	for n := 0; left > 0; n++ {
		t := strconv.Itoa(n)
		if slot := crc16(t) % clusterSlots; tags[slot] == "" {
			tags[slot] = t
			left--
		}
	}
	return &tags
})

// crc16 is the CRC-16/XMODEM checksum Redis Cluster hashes keys with
// (polynomial 0x1021, initial value 0).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func (m *RedisManager) load(r *http.Request, s *Session) error {
	id, ok := findCookie(r, m.opts.CookieName)
	if !ok || !ValidID(id) {
		return nil
	}
	// Bounded by Timeout, not by the client's connection: a client that
	// goes away mid-load (a browser cancelling its favicon request) must
	// not turn into a store outage (503) in the log; the commit is detached
	// the same way.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), m.timeout)
	defer cancel()
	now := m.opts.Clock()
	key := m.key(id)
	s.rs.key, s.rs.keyID = key, id
	val, ttl, due, err := m.read(ctx, key, now)
	if errors.Is(err, redis.Nil) {
		return nil // expired, never existed, or not ours: a new session, with a new id
	}
	if err != nil {
		if isForeign(err) {
			return nil // not a session value (e.g. another type): leave it alone
		}
		return storeErr("load", err)
	}
	if strings.HasPrefix(val, tombstone) {
		// Renamed by a RenewID: a new session, but a Destroy in this
		// request ends the renamed one too (a logout sent with the
		// previous cookie still logs out).
		s.rs.renamed = id
		return nil
	}
	values, err := unmarshalString(m.opts.Codec, val)
	if err != nil {
		// Not ours to read: start a new session under a new id rather than
		// overwrite it.
		return nil
	}
	created, ok := createdOf(values)
	if !ok && m.absolute > 0 && !m.noScript.Load() {
		// Stored without a creation time (by a release that kept none, or
		// another writer): its absolute lifetime counts from now, recorded
		// by this request's commit, or reads alone would slide it forever.
		created, s.rs.stampDue = now.Truncate(time.Second), true
	}
	if m.absolute > 0 && ended(now, created, m.absolute) {
		// Past its absolute lifetime: absent, never revived. The script
		// passes no such session (it is given the same now), so this one's
		// creation time was out of its sight (a codec that hides its
		// encoding) and the read slid its TTL: end the key now, unless
		// another request changed it meanwhile.
		if ttl > 0 {
			return m.expireIfUnchanged(ctx, key, val, time.Second)
		}
		return nil
	}
	s.id, s.values, s.stored, s.rs.loaded, s.rs.touched = id, values, true, val, ttl
	s.created = created
	s.rs.user, _ = values[userKey].(string)
	s.rs.touchDue = due
	want := m.ttl(now, s)
	// Decided here, at the load's own second: a commit a second later
	// computes a TTL one second shorter near the absolute deadline and
	// would correct what needs no correcting.
	s.rs.expireDue = want/time.Second != ttl/time.Second
	s.expires = now.Add(want)
	return nil
}

// ttl returns the TTL s gets at now: its idle timeout (SetExpire's
// override or Expire), cut at its absolute lifetime.
// now counts in whole seconds, as the load script does, so that both agree
// on the TTL and an unchanged session needs no correcting EXPIRE.
func (m *RedisManager) ttl(now time.Time, s *Session) time.Duration {
	return lifetimeTTL(now.Truncate(time.Second), s.created, s.expireOrLocked(m.opts.Expire), m.absolute)
}

// read returns key's value, the TTL the read gave it, and whether the
// session's last-seen time is due in its user's index.
func (m *RedisManager) read(ctx context.Context, key string, now time.Time) (string, time.Duration, bool, error) {
	if !m.noScript.Load() {
		var keys []string
		if m.index != nil {
			keys = []string{key, seenKey(key)}
		} else {
			keys = []string{key}
		}
		res, err := m.loader.Run(ctx, m.rdb, keys, now.Unix()).Text()
		if err == nil {
			head, val, ok := strings.Cut(res, " ")
			due := strings.HasSuffix(head, "t")
			ttl, perr := strconv.ParseInt(strings.TrimSuffix(head, "t"), 10, 64)
			if !ok || perr != nil {
				return "", 0, false, fmt.Errorf("session: load script answered %.20q", res)
			}
			return val, time.Duration(ttl) * time.Second, due, nil
		}
		if !isUnknownCommand(err) {
			return "", 0, false, err
		}
		m.noScript.Store(true)
	}
	val, err := m.getex(ctx, key)
	return val, m.opts.Expire, false, err
}

// getex is the load for servers that run no scripts: it slides the TTL to
// the default before the codec sees the value.
func (m *RedisManager) getex(ctx context.Context, key string) (string, error) {
	if !m.noGetEx.Load() {
		val, err := m.rdb.GetEx(ctx, key, m.opts.Expire).Result()
		if err == nil || !isUnknownCommand(err) {
			return val, err
		}
		m.noGetEx.Store(true)
	}
	var get *redis.StringCmd
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Expire(ctx, key, m.opts.Expire)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	return get.Result()
}
