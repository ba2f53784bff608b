package session

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// casScript writes ARGV[2] with TTL ARGV[3] seconds to KEYS[1] when the
// current value is ARGV[1], or, with ARGV[4] = "h", when its SHA-1 is
// ARGV[1], and returns {1}; an empty ARGV[2] keeps the value and sets only
// the TTL. A key that is gone (or holds another type) is
// never written: {-1}; one that holds a tombstone (the session was renamed
// by RenewID) neither: {-2}. Otherwise it returns {0, current value} so the
// caller can replay its operations on it. Comparing the value itself is
// cheaper for Redis than hashing it (about 5 µs of a 14 µs call on small
// sessions), so small values are compared directly and only large ones by
// digest.
var casScript = redis.NewScript(`
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then return {-1} end
if string.byte(cur, 1) == 0 then return {-2} end
if ARGV[4] == 'h' then
  if redis.sha1hex(cur) ~= ARGV[1] then return {0, cur} end
elseif cur ~= ARGV[1] then
  return {0, cur}
end
if ARGV[2] == '' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return {1}
`)

// casDirectMax is the largest loaded value the compare-and-set sends back
// whole; larger ones are compared by SHA-1 digest.
const casDirectMax = 512

// casWant returns the casScript arguments that match loaded: the value
// itself, or its SHA-1 digest and mode "h" when it is large.
func casWant(loaded string) (want, mode string) {
	if len(loaded) > casDirectMax {
		sum := sha1.Sum([]byte(loaded))
		return hex.EncodeToString(sum[:]), "h"
	}
	return loaded, ""
}

// maxRenames bounds how many renames a Destroy or a revoke follows.
const maxRenames = 16

func (m *RedisManager) commit(r *http.Request, h http.Header, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A disconnecting client must not abort a write half-way.
	base := context.WithoutCancel(r.Context())

	if s.destroyed {
		if s.stored || s.rs.renamed != "" {
			id := s.id
			if !s.stored {
				id = s.rs.renamed
			}
			gone, err := m.destroy(base, id)
			if err != nil {
				return storeErr("destroy", err)
			}
			if s.rs.user != "" && m.index != nil {
				// The logout takes its sessions off the user's list.
				if err := m.do(base, func(ctx context.Context) error {
					_, err := m.index.remove(ctx, s.rs.user, m.opts.Clock(), gone...)
					return err
				}); err != nil {
					return err
				}
			}
			m.cookies.set(h, &s.cookie, "", 0, time.Time{})
		}
		if len(s.values) == 0 {
			return nil
		}
		// Values set after Destroy start a new session.
		if !s.renew {
			s.created = time.Time{} // no Login after the Destroy: the new session starts now
		}
		s.stored, s.id, s.rs.loaded, s.renew, s.rs.user = false, "", "", false, ""
	}

	if !s.modifiedLocked() && !(s.rs.stampDue && s.stored) {
		if !s.stored {
			return nil // new and empty: no write, no cookie
		}
		now := m.opts.Clock()
		expire := m.ttl(now, s)
		if expire < time.Second {
			// It reached its absolute lifetime during the request: ended,
			// as if expired.
			if err := m.endLapsed(base, s); err != nil {
				return err
			}
			if err := m.unlistEnded(base, s, s.id, "", ""); err != nil {
				return err
			}
			return m.abandon(base, h, s, "", true)
		}
		if s.rs.expireDue {
			if err := m.correctExpiry(base, s, expire); err != nil {
				return err
			}
		}
		if s.rs.touchDue && s.rs.user != "" && m.index != nil {
			if err := m.touchIndex(base, s, now, expire); err != nil {
				return err
			}
		}
		if m.absolute == 0 || s.rs.touchDue {
			// A cookie that slides with the session is sent again on every
			// response (weppy and Emmett do the same). One that ends at the
			// session's absolute deadline needs no refresh: it is sent
			// again only once per touch interval of a logged-in session,
			// which renews the cookies an earlier release set to end at
			// the idle timeout.
			m.setCookie(h, s, expire)
		}
		return nil
	}

	if !s.stored {
		if len(s.values) == 0 {
			return nil // changed but empty again (e.g. Set then Delete): nothing to keep
		}
		return m.writeNew(base, r, h, s)
	}
	return m.compareAndSet(base, r, h, s, false)
}

// correctExpiry gives an unchanged session the TTL its load could not
// apply (no scripts, or an override the script did not find), only while
// the key still holds what the request loaded: another request's write has
// set its own TTL, and a RenewID's tombstone must keep its short one.
func (m *RedisManager) correctExpiry(base context.Context, s *Session, expire time.Duration) error {
	return m.do(base, func(ctx context.Context) error {
		return m.expireIfUnchanged(ctx, m.keyOf(s), s.rs.loaded, expire)
	})
}

// endLapsed ends the key of a session whose absolute lifetime passed
// during the request. Its TTL already ends at the deadline, unless the
// load could not apply the lifetime (s.rs.expireDue: a codec that hides
// its encoding) and slid it past: then it ends now, unless another request
// changed it meanwhile.
func (m *RedisManager) endLapsed(base context.Context, s *Session) error {
	if !s.rs.expireDue {
		return nil
	}
	return m.correctExpiry(base, s, time.Second)
}

// expireIfUnchanged sets key's TTL to expire while it holds loaded (by
// the compare-and-set script; without scripts, unconditionally).
func (m *RedisManager) expireIfUnchanged(ctx context.Context, key, loaded string, expire time.Duration) error {
	var err error
	if m.noScript.Load() {
		err = m.rdb.Expire(ctx, key, expire).Err()
	} else {
		want, mode := casWant(loaded)
		err = casScript.Run(ctx, m.rdb, []string{key}, want, "", int64(expire/time.Second), mode).Err()
	}
	if err != nil {
		return storeErr("expire", err)
	}
	return nil
}

// stamp records the session's creation time with its values when an
// absolute lifetime applies: the time its Login set, the stored one, or now
// for a session that has none. It returns the session's TTL at now. Call
// it before each encoding: a replay rebuilds the values.
func (m *RedisManager) stamp(s *Session, now time.Time) time.Duration {
	if m.absolute > 0 {
		if s.created.IsZero() {
			s.created = now.Truncate(time.Second)
		}
		s.values[createdKey] = s.created.Unix()
	}
	return m.ttl(now, s)
}

// destroy deletes session id, and the sessions it was renamed into, and
// returns the keys it deleted without the prefix (with hashed ids, their
// handles).
func (m *RedisManager) destroy(base context.Context, id string) ([]string, error) {
	var gone []string
	err := m.do(base, func(ctx context.Context) error {
		var err error
		gone, _, err = endSessions(ctx, m.rdb, m.prefix, []string{m.key(id)[len(m.prefix):]})
		return err
	})
	return gone, err
}

// writeNew stores a session that has no key yet under a fresh id, and
// lists it in its user's index when it has one (a Login).
func (m *RedisManager) writeNew(base context.Context, r *http.Request, h http.Header, s *Session) error {
	now := m.opts.Clock()
	expire := m.stamp(s, now)
	data, err := m.opts.Codec.Marshal(s.values)
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	for attempt := 0; ; attempt++ {
		id := newID()
		key := m.key(id)
		var set *redis.BoolCmd
		err := m.do(base, func(ctx context.Context) error {
			set = m.rdb.SetNX(ctx, key, data, expire)
			return set.Err()
		})
		if err != nil {
			return storeErr("save", err)
		}
		if set.Val() {
			if user := userOf(s); user != "" && m.index != nil {
				if err := m.listSession(base, user, key, m.indexInfo(r, s, HashID(id), now, expire)); err != nil {
					return err
				}
			}
			s.id, s.stored, s.renew, s.rs.loaded = id, true, false, string(data)
			s.ops = s.ops[:0]
			m.setCookie(h, s, expire)
			return nil
		}
		if attempt >= 3 { // 256-bit ids do not collide; something else is wrong
			return fmt.Errorf("%w: could not allocate a new session id", ErrStore)
		}
	}
}

// compareAndSet writes s's values if the stored value is still the one it
// loaded; otherwise it replays s's operations on the current value and
// tries again, up to m.retries times. After RenewID it writes the values
// under a fresh id first and then, by the same compare-and-set, replaces
// the old value with a tombstone naming that id. A key that is gone or
// renamed meanwhile is never written again: see abandon.
//
// Commits of one session that wait on each other in this process are
// combined: the request that takes the stripe's lock writes, with one
// compare-and-set, its own operations and those of every request of the
// same session queued behind it (in the order they queued, as serial
// commits would), and hands each of them the outcome. RenewID commits
// alone.
//
// With alone, the commit is not queued for combining: a request whose
// batch could not be written together (statusAlone) commits on its own.
func (m *RedisManager) compareAndSet(base context.Context, r *http.Request, h http.Header, s *Session, alone bool) (err error) {
	oldID := s.id
	key := m.keyOf(s)
	st := &m.commits[stripe(oldID)]
	me := &pendingCommit{id: oldID, s: s}
	if !s.renew && !alone {
		me.ready = make(chan struct{})
		st.qmu.Lock()
		st.waiting = append(st.waiting, me)
		st.qmu.Unlock()
	}
	st.Lock()
	batch := []*pendingCommit{me}
	if me.ready != nil {
		st.qmu.Lock()
		taken := me.taken
		if !taken {
			batch = st.take(oldID)
		}
		st.qmu.Unlock()
		if taken {
			// Another request of this session commits for us.
			st.Unlock()
			<-me.ready
			return m.settleCombined(base, r, h, s, st, me)
		}
	}
	defer func() { st.Unlock() }()
	// finish hands the batch's other requests their outcome; those still
	// waiting when this commit fails get its error.
	finish := func(status int64, data string, expire time.Duration, err error) {
		for _, p := range batch {
			if p != me {
				p.status, p.data, p.expire, p.err = status, data, expire, err
				close(p.ready)
			}
		}
		batch = nil
	}
	defer func() {
		if batch != nil {
			failure := err
			if failure == nil {
				failure = fmt.Errorf("%w: the request that committed for this one failed", ErrStore)
			}
			finish(0, "", 0, failure)
		}
	}()
	// The values to write: this request's own when it commits alone onto
	// what it loaded; else every operation of the batch replayed, in
	// order, onto the freshest value known here. A request alone falls
	// back to its own values (the compare-and-set decides); a batch must
	// not drop the others' operations.
	if want := st.value; st.id == oldID && want != s.rs.loaded || len(batch) > 1 {
		if st.id != oldID {
			want = s.rs.loaded
		}
		fresh, err := unmarshalString(m.opts.Codec, want)
		switch {
		case err == nil:
			replay(fresh, batch)
			s.values, s.rs.loaded = fresh, want
		case len(batch) > 1:
			return fmt.Errorf("%w: session value the codec cannot read again: %w", ErrStore, err)
		}
	}
	renamed, newKey := "", ""
	if s.renew {
		renamed = newID()
		newKey = m.key(renamed)
	}
	now := m.opts.Clock()
	wroteNew := false           // the new key was written by an earlier attempt
	listed := ""                // the user whose index lists the new key
	var listedFor time.Duration // the TTL it was listed with
	// ended closes a commit whose session ended while the request held it,
	// for every request of the batch: status -1 (gone) or -2 (renamed by
	// another request). With lapsed (its absolute lifetime passed, or a
	// revoke ended this rename's new key) it leaves its user's index too.
	// drop is a new key of this request's own to delete ("" for none).
	ended := func(status int64, lapsed bool, drop string) error {
		if st.id == oldID {
			st.id, st.value = "", ""
		}
		finish(status, "", 0, nil)
		if lapsed {
			if err := m.unlistEnded(base, s, oldID, listed, renamed); err != nil {
				return err
			}
		} else if listed != "" {
			if err := m.unlist(base, listed, HashID(renamed)); err != nil {
				return err
			}
		}
		return m.abandon(base, h, s, drop, status == -1)
	}
	for attempt := 0; ; attempt++ {
		// The expiry comes from the values written: after a replay they
		// may carry another request's SetExpire.
		expire := m.stamp(s, now)
		if expire < time.Second {
			// The session reached its absolute lifetime while the request
			// held it: it has ended, as if it had expired (its key's TTL
			// ends at that deadline), for every request of the batch.
			// Nothing is written, least of all a key without a TTL.
			if err := m.endLapsed(base, s); err != nil {
				return err
			}
			return ended(-1, true, newKey)
		}
		data, err := m.opts.Codec.Marshal(s.values)
		if err != nil && len(batch) > 1 {
			// One request's value cannot be encoded: it alone must fail.
			// The others commit on their own (alone, each with its own
			// operations), and this request retries with its own.
			finish(statusAlone, "", 0, nil)
			fresh, uerr := unmarshalString(m.opts.Codec, s.rs.loaded)
			if uerr != nil {
				return fmt.Errorf("%w: session value the codec cannot read again: %w", ErrStore, uerr)
			}
			batch = []*pendingCommit{me}
			replay(fresh, batch)
			s.values = fresh
			continue
		}
		if err != nil {
			return fmt.Errorf("session: encode: %w", err)
		}
		val, ttl := data, int64(expire/time.Second)
		if renamed != "" {
			// Nobody knows the new id until the old key names it, so this plain
			// SET races no one; a retry overwrites it with the replay, but
			// only while it exists: a revoke that ended it between two
			// attempts (it was listed) ends this rename, and the key must
			// not come back.
			written := true
			if err := m.do(base, func(ctx context.Context) error {
				if !wroteNew {
					return m.rdb.Set(ctx, newKey, data, expire).Err()
				}
				var err error
				written, err = m.rdb.SetXX(ctx, newKey, data, expire).Result()
				return err
			}); err != nil {
				return storeErr("save", err)
			}
			if !written {
				return ended(-1, true, "")
			}
			wroteNew = true
			// The new key joins its user's index before the old key names
			// it: a RevokeUser running meanwhile either sees the new key
			// listed (and ends it) or ends the old one, which makes this
			// compare-and-set fail and the new key go (abandon). A retry
			// whose replay changed the TTL (another request's SetExpire)
			// lists it again with the new expiry.
			if user := userOf(s); user != "" && m.index != nil && (listed == "" || expire != listedFor) {
				info := m.indexInfo(r, s, HashID(renamed), now, expire)
				info.from = HashID(oldID) // a revoke keeps or ends the rename with its origin
				if err := m.listSession(base, user, newKey, info); err != nil {
					return err
				}
				listed, listedFor = user, expire
			}
			val, ttl = []byte(tombstone+newKey[len(m.prefix):]), int64(min(expire, renameGrace)/time.Second)
		}
		want, mode := casWant(s.rs.loaded)
		var res []any
		err = m.do(base, func(ctx context.Context) error {
			var err error
			res, err = casScript.Run(ctx, m.rdb, []string{key}, want, val, ttl, mode).Slice()
			return err
		})
		if err != nil {
			return storeErr("save", err)
		}
		switch status, _ := res[0].(int64); status {
		case 1:
			s.rs.loaded = string(data)
			s.ops = s.ops[:0]
			if renamed != "" {
				s.id, s.renew = renamed, false
				st.id, st.value = "", ""
			} else {
				st.id, st.value = oldID, s.rs.loaded
			}
			if o := m.opts.Observer; o != nil && len(batch) > 1 {
				o(Event{Kind: EventCombined, Store: storeRedis, Count: len(batch)})
			}
			finish(1, s.rs.loaded, expire, nil)
			if err := m.settleIndex(base, s, oldID, renamed != "", now, expire); err != nil {
				return err
			}
			m.setCookie(h, s, expire)
			return nil
		case -1, -2:
			return ended(status, false, newKey)
		}
		if o := m.opts.Observer; o != nil {
			o(Event{Kind: EventConflict, Store: storeRedis, Count: attempt + 1})
		}
		if attempt >= m.retries {
			return fmt.Errorf("%w: session changed %d times while saving", ErrConflict, attempt+1)
		}
		if o := m.opts.Observer; o != nil {
			o(Event{Kind: EventRetry, Store: storeRedis, Count: attempt + 2})
		}
		// Someone else wrote first: rebuild our values from theirs.
		cur, _ := res[1].(string)
		fresh, err := unmarshalString(m.opts.Codec, cur)
		if err != nil {
			return fmt.Errorf("%w: session value replaced by something the codec cannot read: %w", ErrStore, err)
		}
		s.rs.loaded = cur
		replay(fresh, batch)
		s.values = fresh
		if attempt > 0 {
			// Writers in other processes: back off exponentially (with
			// jitter, up to about 16 ms) so that they take turns, without
			// holding up this process's other sessions on the stripe.
			st.Unlock()
			time.Sleep(time.Duration(rand.Int64N(int64(50*time.Microsecond) << min(attempt, 8))))
			st.Lock()
		}
	}
}

// unlistEnded takes a session that ended during its commit (its absolute
// lifetime passed) off its user's index, with the new key a RenewID of the
// same commit listed ahead (listed, renamed).
func (m *RedisManager) unlistEnded(base context.Context, s *Session, oldID, listed, renamed string) error {
	if m.index == nil {
		return nil
	}
	if s.rs.user != "" && oldID != "" {
		if err := m.unlist(base, s.rs.user, HashID(oldID)); err != nil {
			return err
		}
	}
	if listed != "" {
		return m.unlist(base, listed, HashID(renamed))
	}
	return nil
}

// abandon ends a commit whose session ended while the request held it: its
// key is gone (destroyed or expired) or, with renamed, another request's
// RenewID replaced it by a tombstone. The request's changes are dropped,
// never written to the old id nor carried into a new one (whoever holds the
// old id may have stolen or fixed it). A gone session's cookie is cleared;
// after a rename the cookie is left to the renaming response. newKey is the
// key this request's own RenewID wrote ahead, which no one else knows yet:
// it is deleted.
func (m *RedisManager) abandon(base context.Context, h http.Header, s *Session, newKey string, gone bool) error {
	if newKey != "" {
		if err := m.do(base, func(ctx context.Context) error {
			return m.rdb.Unlink(ctx, newKey).Err()
		}); err != nil {
			return storeErr("save", err)
		}
	}
	s.id, s.stored, s.renew, s.rs.loaded = "", false, false, ""
	s.ops = s.ops[:0]
	clear(s.values)
	if gone {
		m.cookies.set(h, &s.cookie, "", 0, time.Time{})
	}
	return nil
}

// setCookie sets the id cookie of s, whose TTL is expire. With an absolute
// lifetime the cookie lives until the session's deadline (the server ends
// it sooner when it is idle), so a response that changes nothing need not
// send it again; without one it lives as long as the TTL, as weppy's does.
func (m *RedisManager) setCookie(h http.Header, s *Session, expire time.Duration) {
	now := m.opts.Clock()
	if dl := deadline(s.created, m.absolute); !dl.IsZero() {
		expire = dl.Sub(now.Truncate(time.Second))
	}
	maxAge := int64(expire / time.Second)
	if maxAge > 0 && !s.persistentLocked() {
		maxAge = browserSession // the key's TTL still ends it
	}
	m.cookies.set(h, &s.cookie, s.id, maxAge, now.Add(expire))
}
