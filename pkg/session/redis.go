package session

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/rediserr"
)

// RedisOptions configure a RedisManager.
type RedisOptions struct {
	Options
	// Prefix is prepended to session ids to form Redis keys. Default
	// DefaultPrefix ("wppsess:", weppy's); Emmett uses "emtsess:".
	Prefix string
	// Timeout bounds each Redis operation of a request (the load, and each
	// attempt of the commit). Default 1 s. When it passes, the request gets
	// the error handler's answer (503) instead of waiting.
	//
	// go-redis applies a context deadline to socket reads and writes only
	// when the client was built with ContextTimeoutEnabled: true; build it
	// so. Otherwise dialing and waiting for a pooled connection still
	// honour Timeout, but a server that accepted the command and stalls is
	// bounded by the client's ReadTimeout (go-redis default 3 s).
	Timeout time.Duration
	// MaxRetries bounds how often a commit is retried after another request
	// changed the same session meanwhile (each retry replays this request's
	// operations on the newer value). Default 64. Past it, the commit fails
	// with ErrConflict.
	MaxRetries int
}

// RedisManager keeps sessions in Redis under Prefix + id, like weppy's
// SessionRedisManager; the cookie holds only the id. It accepts any
// redis.UniversalClient: a single node, Sentinel or Cluster.
//
// Round trips per request: one for a session that is read and not changed
// (GETEX, which also slides the TTL), two for one that changes (the read,
// then one compare-and-set), none for a request without a session cookie
// that stores nothing.
//
// Concurrent requests of one user do not lose updates: the commit writes
// only if the stored value is still the one the request loaded, and
// otherwise replays the request's operations (Set, Delete, Clear, Incr) on
// the newer value and tries again. So simultaneous increments all count,
// writes to different keys merge, and for writes to the same key the later
// commit wins.
type RedisManager struct {
	rdb     redis.UniversalClient
	opts    Options
	prefix  string
	timeout time.Duration
	retries int
	// commits serialises the compare-and-set commits of one session within
	// this process (striped by id), so that concurrent requests of one user
	// handled here do not race each other into retries: only writers in
	// other processes can make a commit retry.
	commits [256]struct {
		sync.Mutex
		// id and value are the last session this stripe committed: a
		// request that waited for the lock behind a commit of its own session
		// replays onto that value at once instead of losing a round trip to
		// a compare-and-set that is bound to fail.
		id, value string
	}
	cookies cookieWriter

	noGetEx atomic.Bool // the server lacks GETEX (Redis < 6.2)
}

// NewRedisManager returns a manager storing sessions through rdb.
func NewRedisManager(rdb redis.UniversalClient, opts RedisOptions) (*RedisManager, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrInvalidOptions)
	}
	if err := opts.normalize(DefaultIDCookieName); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative Timeout", ErrInvalidOptions)
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 64
	}
	m := &RedisManager{
		rdb:     rdb,
		opts:    opts.Options,
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		retries: opts.MaxRetries,
	}
	m.cookies = newCookieWriter(&m.opts)
	return m, nil
}

// Middleware loads the session named by the request's cookie and commits it
// before the response's first byte. A missing, malformed or unknown id gives
// a new session; a store failure goes to the error handler (503 when Redis
// is unreachable), never to an empty session that would overwrite the real
// one.
func (m *RedisManager) Middleware(next http.Handler) http.Handler {
	return middleware(m, m.opts.ErrorHandler, next)
}

// Key returns the Redis key of session id.
func (m *RedisManager) Key(id string) string { return m.prefix + id }

func (m *RedisManager) load(r *http.Request, s *Session) error {
	id, ok := findCookie(r, m.opts.CookieName)
	if !ok || !ValidID(id) {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.timeout)
	defer cancel()
	key := m.prefix + id
	val, err := m.getex(ctx, key)
	if errors.Is(err, redis.Nil) {
		return nil // expired or never existed: a new session, with a new id
	}
	if err != nil {
		if isForeign(err) {
			return nil // not a session value (e.g. another type): leave it alone
		}
		return storeErr("load", err)
	}
	values, err := m.opts.Codec.Unmarshal([]byte(val))
	if err != nil {
		// Not ours to read: start a new session under a new id rather than
		// overwrite it.
		return nil
	}
	s.id, s.values, s.stored, s.loaded = id, values, true, val
	s.expires = m.opts.Clock().Add(s.expireOrLocked(m.opts.Expire))
	return nil
}

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

// casScript writes ARGV[2] with TTL ARGV[3] seconds to KEYS[1] when the
// current value is ARGV[1] ("" = the key must not exist), or, with ARGV[4] =
// "h", when its SHA-1 is ARGV[1]. Otherwise it returns the current value
// (false when missing) so the caller can replay its operations on it.
// Comparing the value itself is cheaper for Redis than hashing it (about 5
// µs of a 14 µs call on small sessions), so small values are compared
// directly and only large ones by digest.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local want = ARGV[1]
if want == '' then
  if cur then return {0, cur} end
elseif not cur then
  return {0, false}
elseif ARGV[4] == 'h' then
  if redis.sha1hex(cur) ~= want then return {0, cur} end
elseif cur ~= want then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return {1}
`)

// casDirectMax is the largest loaded value the compare-and-set sends back
// whole; larger ones are compared by SHA-1 digest.
const casDirectMax = 512

func (m *RedisManager) commit(r *http.Request, h http.Header, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A disconnecting client must not abort a write half-way.
	base := context.WithoutCancel(r.Context())
	expire := s.expireOrLocked(m.opts.Expire)

	if s.destroyed {
		if s.stored {
			if err := m.do(base, func(ctx context.Context) error {
				return m.rdb.Unlink(ctx, m.prefix+s.id).Err()
			}); err != nil {
				return storeErr("destroy", err)
			}
			m.cookies.set(h, &s.cookie, "", 0, time.Time{})
		}
		if len(s.values) == 0 {
			return nil
		}
		// Values set after Destroy start a new session.
		s.stored, s.id, s.loaded = false, "", ""
	}

	if !s.modifiedLocked() {
		if !s.stored {
			return nil // new and empty: no write, no cookie
		}
		if expire != m.opts.Expire {
			// GETEX slid the TTL to the default; restore the override.
			if err := m.do(base, func(ctx context.Context) error {
				return m.rdb.Expire(ctx, m.prefix+s.id, expire).Err()
			}); err != nil {
				return storeErr("expire", err)
			}
		}
		m.setCookie(h, s, expire)
		return nil
	}

	if !s.stored && len(s.values) == 0 {
		return nil // changed but empty again (e.g. Set then Delete): nothing to keep
	}

	if s.renew || !s.stored {
		return m.writeNew(base, h, s, expire)
	}
	return m.compareAndSet(base, h, s, expire)
}

// writeNew stores s under a fresh id (and removes the old key on RenewID).
func (m *RedisManager) writeNew(base context.Context, h http.Header, s *Session, expire time.Duration) error {
	data, err := m.opts.Codec.Marshal(s.values)
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	oldID := ""
	if s.stored {
		oldID = s.id
	}
	for attempt := 0; ; attempt++ {
		id := newID()
		var set *redis.BoolCmd
		err := m.do(base, func(ctx context.Context) error {
			if oldID == "" {
				set = m.rdb.SetNX(ctx, m.prefix+id, data, expire)
				return set.Err()
			}
			_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				set = p.SetNX(ctx, m.prefix+id, data, expire)
				p.Unlink(ctx, m.prefix+oldID)
				return nil
			})
			return err
		})
		if err != nil {
			return storeErr("save", err)
		}
		if set.Val() {
			s.id, s.stored, s.renew, s.loaded = id, true, false, string(data)
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
// tries again, up to m.retries times. A key that vanished meanwhile (expired,
// or deleted by a concurrent request) is written again with this request's
// changes.
func (m *RedisManager) compareAndSet(base context.Context, h http.Header, s *Session, expire time.Duration) error {
	key := m.prefix + s.id
	st := &m.commits[stripe(s.id)]
	st.Lock()
	defer st.Unlock()
	if st.id == s.id && st.value != s.loaded {
		if fresh, err := m.opts.Codec.Unmarshal([]byte(st.value)); err == nil {
			for _, o := range s.ops {
				o.apply(fresh)
			}
			s.values, s.loaded = fresh, st.value
		}
	}
	ttl := int64(expire / time.Second)
	exists := true
	for attempt := 0; ; attempt++ {
		data, err := m.opts.Codec.Marshal(s.values)
		if err != nil {
			return fmt.Errorf("session: encode: %w", err)
		}
		want, mode := "", "" // "" asks the script for a key that does not exist
		switch {
		case !exists:
		case len(s.loaded) <= casDirectMax:
			want = s.loaded
		default:
			sum := sha1.Sum([]byte(s.loaded))
			want, mode = hex.EncodeToString(sum[:]), "h"
		}
		var res []any
		err = m.do(base, func(ctx context.Context) error {
			var err error
			res, err = casScript.Run(ctx, m.rdb, []string{key}, want, data, ttl, mode).Slice()
			return err
		})
		if err != nil {
			return storeErr("save", err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			s.loaded = string(data)
			s.ops = s.ops[:0]
			st.id, st.value = s.id, s.loaded
			m.setCookie(h, s, expire)
			return nil
		}
		if attempt >= m.retries {
			return fmt.Errorf("%w: session changed %d times while saving", ErrConflict, attempt+1)
		}
		// Someone else wrote first: rebuild our values from theirs.
		fresh := map[string]any{}
		var cur string
		exists = len(res) > 1 && res[1] != nil
		if exists {
			cur, _ = res[1].(string)
		}
		if exists {
			if fresh, err = m.opts.Codec.Unmarshal([]byte(cur)); err != nil {
				return fmt.Errorf("%w: session value replaced by something the codec cannot read: %w", ErrStore, err)
			}
		}
		s.loaded = cur
		for _, o := range s.ops {
			o.apply(fresh)
		}
		s.values = fresh
		if attempt > 0 {
			// Writers in other processes: back off exponentially (with
			// jitter, up to about 16 ms) so that they take turns.
			time.Sleep(time.Duration(rand.Int64N(int64(50*time.Microsecond) << min(attempt, 8))))
		}
	}
}

// stripe maps a session id to one of the commit locks (FNV-1a).
func stripe(id string) uint8 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return uint8(h ^ h>>8 ^ h>>16 ^ h>>24)
}

func (m *RedisManager) setCookie(h http.Header, s *Session, expire time.Duration) {
	m.cookies.set(h, &s.cookie, s.id, int64(expire/time.Second), m.opts.Clock().Add(expire))
}

// do runs f with the per-operation timeout.
func (m *RedisManager) do(base context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(base, m.timeout)
	defer cancel()
	return f(ctx)
}

// storeErr classifies a Redis error with rediserr.Classify, the classifier
// the manager and the CLI use too: outages (network errors, timeouts, a
// server that is loading, read-only, busy or failing over) and canceled
// requests are ErrUnavailable; replies about the command or the data, and
// MOVED/ASK (a client that does not follow cluster redirections: a
// configuration to fix, not an outage to wait out), are ErrStore.
func storeErr(op string, err error) error {
	switch rediserr.Classify(err) {
	case rediserr.Reply, rediserr.Redirected:
		return fmt.Errorf("%w: %s: %w", ErrStore, op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// isForeign reports a reply meaning the key holds something other than a
// string.
func isForeign(err error) bool { return rediserr.IsWrongType(err) }

func isUnknownCommand(err error) bool { return rediserr.IsUnknownCommand(err) }
