package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRevocationPrefix prefixes the cookie manager's revocation keys.
const DefaultRevocationPrefix = "wsess:revoked:"

// genKey holds, in a cookie whose session logged in with Revocations set,
// the user's revocation generation read when that Login was committed. Keys
// hides it, like the other reserved keys.
const genKey = reservedPrefix + "gen"

// loginKey holds, in a cookie whose session logged in with Revocations set,
// a random id of that Login (22 base64url characters). Destroy ends that
// login in Redis (a key named after HashID of it), so a copy of the cookie
// taken before the logout is refused too. Keys hides it.
const loginKey = reservedPrefix + "lid"

// endedInfix follows the revocation prefix in the names of ended logins'
// keys: prefix + "l:" + HashID(login id). The user keys are prefix +
// HashID(user id), 43 characters without a colon, so the two never meet.
const endedInfix = "l:"

// revocations is the cookie manager's per-user revocation generation in
// Redis.
//
// Key: prefix + HashID(userID), so no user id appears in a key name. Value:
// the user's generation, an integer that every RevokeUser raises to at
// least the Redis server's time in Unix milliseconds and by at least 1 (so
// it never repeats and never moves back, whatever the app servers' clocks
// say, even when the key expired and is made again: the new value is seeded
// from the same Redis clock, past every value the old key held unless
// millions of revocations of one user ran ahead of that clock). A missing
// key is generation 0. TTL: the absolute lifetime plus a second, the longest
// any cookie sealed before the revocation can still be accepted, so the key
// never outlives what it guards.
//
// A Login's commit reads the generation (one GET) and seals it in the
// cookie under genKey; a later load refuses the cookie when the current
// generation is greater. A cookie sealed before generations existed carries
// none: its Login time (authKey, the app server's Unix millisecond) is
// compared with the generation instead, which is a Redis millisecond, so
// such a cookie is refused when it logged in before the revocation by the
// clocks of its app server and of Redis (the old rule).
type revocations struct {
	client  redis.UniversalClient // nil: revocation off
	prefix  string
	timeout time.Duration
	ttl     time.Duration
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

// endedKey names the key that marks the login loginID as ended by Destroy.
func (rv *revocations) endedKey(loginID string) string {
	return rv.prefix + endedInfix + HashID(loginID)
}

// parseGeneration reads a generation key's value.
func parseGeneration(v string) (int64, error) {
	gen, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: revocation lookup: not an integer generation", ErrStore)
	}
	return gen, nil
}

// generation returns userID's current revocation generation (0 when the
// user was never revoked, or the revocation expired). A lookup that fails
// is an error wrapping ErrUnavailable or ErrStore.
func (rv *revocations) generation(ctx context.Context, userID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	v, err := rv.client.Get(ctx, rv.key(userID)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, storeErr("revocation lookup", err)
	}
	return parseGeneration(v)
}

// lookup returns userID's current generation and whether the login
// loginID was ended by Destroy, in one round trip (a pipeline of GET and
// EXISTS; on a cluster the two keys may live on different masters, which
// go-redis asks in parallel). An empty loginID asks only for the
// generation.
func (rv *revocations) lookup(ctx context.Context, userID, loginID string) (gen int64, ended bool, err error) {
	if loginID == "" {
		gen, err = rv.generation(ctx, userID)
		return gen, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	var get *redis.StringCmd
	var exists *redis.IntCmd
	_, err = rv.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, rv.key(userID))
		exists = p.Exists(ctx, rv.endedKey(loginID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, storeErr("revocation lookup", err)
	}
	// The pipeline's error is the first command's: GET's redis.Nil can
	// hide an EXISTS that failed.
	if err := exists.Err(); err != nil {
		return 0, false, storeErr("revocation lookup", err)
	}
	if exists.Val() > 0 {
		return 0, true, nil
	}
	v, err := get.Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, storeErr("revocation lookup", err)
	}
	gen, err = parseGeneration(v)
	return gen, false, err
}

// endLogin marks the login loginID as ended, for as long as a cookie
// carrying it could still be accepted. Destroy's commit calls it, so a copy
// of the cookie taken before the logout is refused like a revoked one.
func (rv *revocations) endLogin(ctx context.Context, loginID string) error {
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	if err := rv.client.Set(ctx, rv.endedKey(loginID), "1", rv.ttl).Err(); err != nil {
		return storeErr("end login", err)
	}
	return nil
}

// newLoginID returns a random id for a Login: 16 bytes, base64url.
func newLoginID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: login id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// refused reports whether the user bound to values was revoked after the
// session's login, or the login was ended by a Destroy (a logout in
// another copy of the cookie). A session without a user costs nothing. A
// lookup that fails is an error (the request fails closed).
func (rv *revocations) refused(ctx context.Context, values map[string]any) (bool, error) {
	uid, _ := values[userKey].(string)
	if uid == "" {
		return false, nil
	}
	lid, _ := values[loginKey].(string)
	cur, ended, err := rv.lookup(ctx, uid, lid)
	if err != nil || ended {
		return ended, err
	}
	if cur == 0 {
		return false, nil
	}
	if g, sealed := values[genKey]; sealed {
		gen, ok := toInt64(g)
		return !ok || gen < cur, nil
	}
	// Sealed before generations: its login time, a Unix millisecond like
	// the generation's floor, decides.
	auth, ok := toInt64(values[authKey])
	return !ok || auth < cur, nil
}

// stamp seals the user's current generation and a new login id into a
// session that logged in during this request, so that only a later
// RevokeUser, or a Destroy of this login, refuses it. It is called at
// commit, after whatever the handler did (a RevokeUser of the same request
// included). A session that did not log in, or whose user was cleared
// since, costs nothing.
func (rv *revocations) stamp(ctx context.Context, s *Session) error {
	uid, _ := s.valuesLocked()[userKey].(string)
	if uid == "" || !loggedInLocked(s) {
		return nil
	}
	lid, err := newLoginID()
	if err != nil {
		return err
	}
	gen, err := rv.generation(ctx, uid)
	if err != nil {
		return err
	}
	s.values[genKey] = gen
	s.values[loginKey] = lid
	return nil
}

// loggedInLocked reports whether the request called Login (which records
// the authentication time) since the session was loaded.
func loggedInLocked(s *Session) bool {
	for i := range s.ops {
		if o := &s.ops[i]; o.kind == opSet && o.key == authKey {
			return true
		}
	}
	return false
}

// RevokeUser refuses every cookie of userID whose Login was committed
// before this revocation: their next request gets a new, anonymous session,
// and the browser is told to drop the old cookie. A Login committed after
// it is accepted, including one in the same request, since a session is
// committed when the response starts: "log out my other devices" is
// RevokeUser followed by Login in the handler, before it writes the
// response. A device that logged in within the same millisecond, or on
// another app server whose clock is ahead, is refused all the same.
//
// What decides "before" is the order in which Redis ran the revocation
// and the Login's read of the user's generation (see
// CookieOptions.Revocations), not a clock of the app servers: they need not
// agree on the time. The price is one Redis round trip (GET) when a Login is
// committed.
//
// It needs CookieOptions.Revocations (ErrInvalidOptions otherwise) and a
// Redis that runs Lua scripts; a Redis failure is returned wrapping
// ErrUnavailable or ErrStore, and then nothing was revoked.
func (m *CookieManager) RevokeUser(ctx context.Context, userID string) (err error) {
	if o := m.opts.Observer; o != nil {
		start := time.Now()
		defer func() { o.observed(EventRevoke, storeCookie, start, 0, err) }()
	}
	rv := &m.revoke
	if rv.client == nil {
		return fmt.Errorf("%w: RevokeUser needs CookieOptions.Revocations", ErrInvalidOptions)
	}
	ctx, cancel := context.WithTimeout(ctx, rv.timeout)
	defer cancel()
	if err := revokeScript.Run(ctx, rv.client, []string{rv.key(userID)}, rv.ttl.Milliseconds()).Err(); err != nil {
		return storeErr("revoke user", err)
	}
	return nil
}

// revokeScript raises the generation in KEYS[1] to the larger of its value
// plus one and the Redis server's time in Unix milliseconds, with a TTL of
// ARGV[1] ms, and returns it. A value that is not an integer counts as
// missing. (redis.replicate_commands lets Redis before 5 write after
// reading TIME; later versions replicate a script's effects anyway.)
var revokeScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local gen = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur and cur >= gen then gen = cur + 1 end
redis.call('SET', KEYS[1], string.format('%d', gen), 'PX', ARGV[1])
return gen
`)
