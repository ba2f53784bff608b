package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRevocationPrefix prefixes the cookie manager's revocation keys.
const DefaultRevocationPrefix = "wsess:revoked:"

// revocations is the cookie manager's per-user "not before" list in Redis.
//
// Key: prefix + HashID(userID), so no user id appears in a key name. Value:
// the Unix millisecond of the last RevokeUser. TTL: the absolute lifetime
// plus a second, the longest any cookie authenticated before the revocation can
// still be accepted, so the key never outlives what it guards.
type revocations struct {
	client  redis.UniversalClient // nil: revocation off
	prefix  string
	timeout time.Duration
	ttl     time.Duration
	clock   func() time.Time
}

func newRevocations(o *CookieOptions, absolute time.Duration) (revocations, error) {
	if o.Revocations == nil {
		return revocations{}, nil
	}
	if absolute <= 0 {
		return revocations{}, fmt.Errorf("%w: Revocations needs an absolute lifetime (the wsess format's AbsoluteTimeout, 24 h unless set negative), so that a revocation expires with the cookies it refuses", ErrInvalidOptions)
	}
	rv := revocations{
		client:  o.Revocations,
		prefix:  o.RevocationPrefix,
		timeout: o.RevocationTimeout,
		ttl:     absolute + time.Second,
		clock:   o.Clock,
	}
	if rv.prefix == "" {
		rv.prefix = DefaultRevocationPrefix
	}
	if rv.timeout == 0 {
		rv.timeout = time.Second
	}
	if rv.timeout < 0 {
		return revocations{}, fmt.Errorf("%w: negative RevocationTimeout", ErrInvalidOptions)
	}
	return rv, nil
}

func (rv *revocations) key(userID string) string { return rv.prefix + HashID(userID) }

// refused reports whether the user bound to values was revoked after the
// session's login. A session without a user costs nothing. A lookup
// that fails is an error (the request fails closed).
func (rv *revocations) refused(ctx context.Context, values map[string]any) (bool, error) {
	uid, _ := values[userKey].(string)
	if uid == "" {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	v, err := rv.client.Get(ctx, rv.key(uid)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, storeErr("revocation lookup", err)
	}
	notBefore, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false, fmt.Errorf("%w: revocation lookup: not a Unix time", ErrStore)
	}
	// Both times are in milliseconds: a Login in the same request right
	// after RevokeUser (log out the other devices, keep this one) stands.
	auth, ok := toInt64(values[authKey])
	return !ok || auth < notBefore, nil
}

// RevokeUser refuses every cookie of userID whose session logged in before
// now (the manager's Clock, to the millisecond): their next request gets a
// new, anonymous session, and the browser is told to drop the old cookie. A
// Login from now on is accepted, so "log out my other devices" is
// RevokeUser followed by Login in the same request. It needs CookieOptions.Revocations (ErrInvalidOptions
// otherwise); a Redis failure is returned wrapping ErrUnavailable or
// ErrStore.
func (m *CookieManager) RevokeUser(ctx context.Context, userID string) error {
	rv := &m.revoke
	if rv.client == nil {
		return fmt.Errorf("%w: RevokeUser needs CookieOptions.Revocations", ErrInvalidOptions)
	}
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	if err := revokeScript.Run(ctx, rv.client, []string{rv.key(userID)}, rv.clock().UnixMilli(), rv.ttl.Milliseconds()).Err(); err != nil {
		return storeErr("revoke user", err)
	}
	return nil
}

// revokeScript sets KEYS[1] to ARGV[1] (a Unix millisecond) with a TTL of
// ARGV[2] ms, unless it already holds a later time: a revocation never
// moves back, even from a server whose clock lags.
var revokeScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local t = ARGV[1]
if cur and tonumber(cur) and tonumber(cur) > tonumber(t) then t = cur end
redis.call('SET', KEYS[1], t, 'PX', ARGV[2])
return 1
`)
