package session

import (
	"context"
	"net"
	"net/http"
	"time"
)

// userOf is the user bound in s's current values.
func userOf(s *Session) string {
	uid, _ := s.values[userKey].(string)
	return uid
}

// indexInfo is what the user index records of s, saved under handle at now.
func (m *RedisManager) indexInfo(r *http.Request, s *Session, handle string, now time.Time, expire time.Duration) Info {
	created := s.created
	if created.IsZero() {
		created = now.Truncate(time.Second)
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return Info{
		Handle: handle, Created: created, LastSeen: now, AuthTime: authTimeOf(s.values),
		Expires:   indexExpiry(now, s.created, expire, m.absolute, m.touch),
		UserAgent: r.UserAgent(), IP: ip,
	}
}

// listSession adds the session stored under key to user's index and marks
// its last-seen as recorded for a touch interval.
func (m *RedisManager) listSession(base context.Context, user, key string, info Info) error {
	return m.do(base, func(ctx context.Context) error {
		if err := m.index.add(ctx, user, info); err != nil {
			return err
		}
		if err := m.rdb.Set(ctx, seenKey(key), "1", min(m.touch, info.Expires.Sub(info.LastSeen))).Err(); err != nil {
			return storeErr("index add", err)
		}
		return nil
	})
}

// unlist takes handles off user's index.
func (m *RedisManager) unlist(base context.Context, user string, handles ...string) error {
	return m.do(base, func(ctx context.Context) error {
		_, err := m.index.remove(ctx, user, m.opts.Clock(), handles...)
		return err
	})
}

// touchIndex records s's last-seen and expiry in its user's index, only if
// the index still lists it: a revoked session is never listed again.
func (m *RedisManager) touchIndex(base context.Context, s *Session, now time.Time, expire time.Duration) error {
	return m.do(base, func(ctx context.Context) error {
		_, err := m.index.touch(ctx, s.rs.user, HashID(s.id), now, indexExpiry(now, s.created, expire, m.absolute, m.touch))
		return err
	})
}

// settleIndex brings the user index in step with a committed session: a
// renamed one (RenewID, Login) leaves the list of the user it had (its new
// key joined before the commit); one whose user binding was cleared leaves
// it too; otherwise its last-seen and expiry are recorded when due, or at
// once when the commit gave it a longer TTL than its load did (SetExpire,
// "remember me"): its index entry must never be pruned while it lives.
func (m *RedisManager) settleIndex(base context.Context, s *Session, oldID string, renamed bool, now time.Time, expire time.Duration) error {
	if m.index == nil {
		return nil
	}
	user := userOf(s)
	if s.rs.user != "" && (renamed || user != s.rs.user) {
		if err := m.unlist(base, s.rs.user, HashID(oldID)); err != nil {
			return err
		}
	}
	if !renamed && user != "" && user == s.rs.user && (s.rs.touchDue || expire > s.rs.touched) {
		return m.touchIndex(base, s, now, expire)
	}
	return nil
}
