package session

import (
	"fmt"
	"time"
)

// DefaultAbsoluteTimeout is the absolute session lifetime of wsess's own
// formats (the wsess cookie, and JSON sessions in Redis): 24 hours, as
// scs's Lifetime.
const DefaultAbsoluteTimeout = 24 * time.Hour

// createdKey holds a session's creation time (Unix seconds) where a store
// keeps it with the values: the Redis side of the absolute lifetime. The
// wsess cookie seals it in its binary header instead (see cookie.go).
const createdKey = reservedPrefix + "created"

// Lifetimes: a session has two limits, both enforced on the server.
//
//   - the idle timeout, Options.Expire (or the session's SetExpire): the
//     session ends when it has not been used for that long. It slides with
//     each use.
//   - the absolute lifetime, Options.AbsoluteTimeout: the session ends at
//     created + AbsoluteTimeout however active it is. Login starts it anew.
//
// A session past either limit is treated as absent: the request gets a new,
// empty session, and the old one never comes back. The helpers below hold
// the arithmetic, so both stores apply the same rules.

// resolveAbsolute returns the absolute lifetime in force for an
// Options.AbsoluteTimeout of d (0 = none). own reports a wsess format, for
// which 0 means DefaultAbsoluteTimeout; for the weppy/Emmett formats, whose
// apps know nothing of a creation time, 0 means none. A negative d means
// none for every format.
func resolveAbsolute(d time.Duration, own bool) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, nil
	case d == 0 && own:
		return DefaultAbsoluteTimeout, nil
	case d == 0:
		return 0, nil
	case d < time.Second:
		return 0, fmt.Errorf("%w: AbsoluteTimeout %v is shorter than one second (use a negative value for none)", ErrInvalidOptions, d)
	}
	return d, nil
}

// deadline returns when a session created at created reaches its absolute
// lifetime, or the zero time when absolute is 0 (none).
func deadline(created time.Time, absolute time.Duration) time.Time {
	if absolute <= 0 || created.IsZero() {
		return time.Time{}
	}
	return created.Add(absolute)
}

// lifetimeTTL returns the time a session has left at now: the idle timeout,
// cut to what remains of the absolute lifetime (created + absolute - now)
// when that is shorter. absolute 0 means no absolute limit. A result <= 0
// means the session has ended and must be treated as absent. A store uses it
// for the key's TTL (Redis: PEXPIRE with it; never past created + absolute)
// and the cookie's Max-Age (whole seconds, rounded down).
func lifetimeTTL(now, created time.Time, idle, absolute time.Duration) time.Duration {
	dl := deadline(created, absolute)
	if dl.IsZero() {
		return idle
	}
	if left := dl.Sub(now); left < idle {
		return left
	}
	return idle
}

// ended reports whether a session created at created is past its absolute
// lifetime at now.
func ended(now, created time.Time, absolute time.Duration) bool {
	dl := deadline(created, absolute)
	return !dl.IsZero() && !now.Before(dl)
}

// createdOf reads the creation time a store kept under createdKey.
func createdOf(values map[string]any) (time.Time, bool) {
	n, ok := toInt64(values[createdKey])
	if !ok || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func (m *CookieManager) clock() func() time.Time { return m.opts.Clock }

func (m *RedisManager) clock() func() time.Time { return m.opts.Clock }
