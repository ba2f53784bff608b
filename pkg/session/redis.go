package session

import (
	"context"
	"fmt"
	"net/http"
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
	// operations on the newer value). Default 64, also when 0: a commit that
	// gave up at the first conflict would turn ordinary concurrent requests
	// of one user into errors. Negative values are rejected with
	// ErrInvalidOptions. Past it, the commit fails with ErrConflict.
	MaxRetries int
	// HashIDs stores a session under Prefix + HashID(id) (base64url of the
	// SHA-256 of the id, the session's handle) instead of Prefix + id, so
	// nothing read from Redis (a dump, a replica, an admin's screen) can be
	// replayed as a cookie. Default (nil): true for CompatWsess, false for
	// CompatPython, whose weppy/Emmett apps look their sessions up by the
	// raw id (see Compat; PickleCodec means CompatPython by default). The
	// per-user index (Session.Login, UserSessions, Revoke, RevokeUser) is
	// kept only when ids are hashed.
	HashIDs *bool
	// TouchInterval is how often, at most, a logged-in session that is only
	// read records its last-seen time in its user's index. Default
	// DefaultTouchInterval (5 minutes); negative values and values under a
	// millisecond are rejected with ErrInvalidOptions.
	TouchInterval time.Duration
	// RecordIP says what the per-user index keeps of the client's address
	// (Info.IP). Default IPNone: nothing. The user agent is always kept
	// (cut to 256 bytes).
	RecordIP IPRecording
}

// RedisManager keeps sessions in Redis, like weppy's SessionRedisManager;
// the cookie holds only the id. The key is Prefix + HashID(id), or
// Prefix + id without RedisOptions.HashIDs (PickleCodec's default, for
// weppy/Emmett apps sharing the sessions). It accepts any
// redis.UniversalClient: a single node, Sentinel or Cluster.
//
// A logged-in session (Session.Login) is listed in its user's index:
// UserSessions lists a user's sessions, Revoke ends one by handle, and
// RevokeUser ends all of them or all but some ("log out my other
// devices"). A session also ends at its absolute lifetime
// (Options.AbsoluteTimeout): its creation time is stored with it and its
// TTL never runs past created + AbsoluteTimeout.
//
// Round trips per request: one for a session that is read and not changed
// (a script that reads the value and slides its TTL, to the session's own
// SetExpire override when it has one), two for one that changes (the read,
// then one compare-and-set), three for RenewID (the read, the write of the
// new key, the compare-and-set that retires the old one), none for a
// request without a session cookie that stores nothing.
//
// Concurrent requests of one user do not lose updates: the commit writes
// only if the stored value is still the one the request loaded, and
// otherwise replays the request's operations (Set, Delete, Clear, Incr) on
// the newer value and tries again. So simultaneous increments all count,
// writes to different keys merge, and for writes to the same key the later
// commit wins. Within one process, the commits of one session that wait
// for each other are combined into one compare-and-set.
//
// A session that ended while a request held it stays ended. When the
// request commits and its session's key is gone (Destroy by a concurrent
// request, or expiry), the request's changes are dropped, nothing is written
// and its response clears the cookie; when the session was renamed by a
// concurrent RenewID, the changes are dropped too and the response sets no
// cookie (the renaming response carries the new one). Changes are never
// carried into the new id: a request holding the old id may be an attacker
// who fixed or stole it. RenewID itself is a compare-and-set on the old key:
// the new key is written first, then the old key is replaced, only if it
// still holds what the request loaded (replaying otherwise), by a tombstone
// naming the new id that lives for at most renameGrace (5 minutes). A
// Destroy that meets a tombstone deletes the session it names as well, so a
// logout racing a login ends both ids.
type RedisManager struct {
	rdb     redis.UniversalClient
	opts    Options
	prefix  string
	timeout time.Duration
	retries int
	// commits serialises the compare-and-set commits of one session within
	// this process (striped by id) and combines those that wait.
	commits [256]commitStripe
	cookies cookieWriter

	// loader is the load script, specialised to this manager's codec and
	// lifetimes (newLoadScript).
	loader *redis.Script

	hashIDs  bool          // keys are prefix + HashID(id)
	absolute time.Duration // AbsoluteTimeout in force; 0 = none
	touch    time.Duration // TouchInterval
	index    *userIndex    // the per-user index; nil without hashed ids

	noScript atomic.Bool // the server runs no scripts: load with GETEX
	noGetEx  atomic.Bool // nor GETEX (Redis < 6.2): pipelined GET + EXPIRE
}

// renameGrace bounds how long the tombstone RenewID leaves under the old id
// lives (less when the session's own expiry is shorter). Requests that
// loaded the old id and commit within it see that the session was renamed
// (and a Destroy follows it to the new id); later ones see it gone.
const renameGrace = 5 * time.Minute

// tombstone starts the value RenewID leaves under the old key; the new
// session's key without the prefix follows (today the new id). No codec's encoding starts with a NUL byte, and the load script
// never treats such a value as a session.
const tombstone = "\x00wsess:renamed:"

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
	if opts.MaxRetries < 0 {
		return nil, fmt.Errorf("%w: negative MaxRetries", ErrInvalidOptions)
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 64
	}
	if opts.TouchInterval < 0 || opts.TouchInterval > 0 && opts.TouchInterval < time.Millisecond {
		return nil, fmt.Errorf("%w: TouchInterval %v is negative or shorter than a millisecond", ErrInvalidOptions, opts.TouchInterval)
	}
	if opts.TouchInterval == 0 {
		opts.TouchInterval = DefaultTouchInterval
	}
	compat, err := resolveCompat(opts.Compat, opts.Codec)
	if err != nil {
		return nil, err
	}
	absolute, err := absoluteFor(opts.AbsoluteTimeout, compat)
	if err != nil {
		return nil, err
	}
	hashIDs := compat == CompatWsess
	if opts.HashIDs != nil {
		hashIDs = *opts.HashIDs
	}
	m := &RedisManager{
		rdb:      rdb,
		opts:     opts.Options,
		prefix:   opts.Prefix,
		timeout:  opts.Timeout,
		retries:  opts.MaxRetries,
		hashIDs:  hashIDs,
		absolute: absolute,
		touch:    opts.TouchInterval,
	}
	if hashIDs {
		m.index = newUserIndex(rdb, opts.Prefix, opts.RecordIP)
	}
	lc := loadConfig{expire: m.opts.Expire, absolute: m.absolute}
	if sn, ok := opts.Codec.(Sniffer); ok {
		lc.lead = sn.LeadingBytes()
	}
	switch encodingOf(opts.Codec) {
	case EncodingJSON:
		lc.mode = 'j'
	case EncodingPickle:
		lc.mode = 'p'
	}
	if m.index != nil {
		lc.touch = m.touch
	}
	m.loader = newLoadScript(lc)
	m.cookies = newCookieWriter(&m.opts)
	return m, nil
}

// Middleware loads the session named by the request's cookie and commits it
// before the response's first byte. A missing, malformed or unknown id gives
// a new session; a store failure goes to the error handler (503 when Redis
// is unreachable), never to an empty session that would overwrite the real
// one.
func (m *RedisManager) Middleware(next http.Handler) http.Handler {
	return middleware(m, &m.opts, storeRedis, next)
}

// From returns the session this manager's Middleware put in ctx, even when
// other managers' middleware run inside it. It panics, naming this
// manager, when the request did not go through its Middleware.
func (m *RedisManager) From(ctx context.Context) *Session {
	s := fromOwner(ctx, m)
	if s == nil {
		panic(fmt.Sprintf("session: RedisManager.From found no session of this manager (prefix %q, cookie %q) in the request's context: the handler is not behind its Middleware", m.prefix, m.opts.CookieName))
	}
	return s
}

// key returns the Redis key of session id: Prefix + HashID(id) when ids
// are hashed (RedisOptions.HashIDs), else Prefix + id. The session keys are
// made here; the user index and the last-seen markers name theirs
// (userIndex.keys, seenKey).
func (m *RedisManager) key(id string) string {
	if m.hashIDs {
		var buf [64 + hashIDLen]byte
		return string(appendHashID(append(buf[:0], m.prefix...), id))
	}
	return m.prefix + id
}

// keyOf returns the Redis key of s's current id, hashing it once per id.
func (m *RedisManager) keyOf(s *Session) string {
	if s.rs.keyID != s.id || s.rs.key == "" {
		s.rs.key, s.rs.keyID = m.key(s.id), s.id
	}
	return s.rs.key
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
