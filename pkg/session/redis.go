package session

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	return middleware(m, m.opts.ErrorHandler, m.opts.LateChange, next)
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
	if s.keyID != s.id || s.key == "" {
		s.key, s.keyID = m.key(s.id), s.id
	}
	return s.key
}

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
	s.key, s.keyID = key, id
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
		s.renamed = id
		return nil
	}
	values, err := m.opts.Codec.Unmarshal([]byte(val))
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
		created, s.stampDue = now.Truncate(time.Second), true
	}
	if m.absolute > 0 && ended(now, created, m.absolute) {
		// Past its absolute lifetime (the script found no creation time,
		// or a clock disagreed): absent, never revived. Its TTL already
		// ends at the deadline.
		return nil
	}
	s.id, s.values, s.stored, s.loaded, s.touched = id, values, true, val, ttl
	s.created = created
	s.user, _ = values[userKey].(string)
	s.touchDue = due
	s.expires = now.Add(m.ttl(now, s))
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

// casScript writes ARGV[2] with TTL ARGV[3] seconds to KEYS[1] when the
// current value is ARGV[1], or, with ARGV[4] = "h", when its SHA-1 is
// ARGV[1], and returns {1}. A key that is gone (or holds another type) is
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
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return {1}
`)

// casDirectMax is the largest loaded value the compare-and-set sends back
// whole; larger ones are compared by SHA-1 digest.
const casDirectMax = 512

// maxRenames bounds how many renames a Destroy follows.
const maxRenames = 16

func (m *RedisManager) commit(r *http.Request, h http.Header, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A disconnecting client must not abort a write half-way.
	base := context.WithoutCancel(r.Context())

	if s.destroyed {
		if s.stored || s.renamed != "" {
			id := s.id
			if !s.stored {
				id = s.renamed
			}
			gone, err := m.destroy(base, id)
			if err != nil {
				return storeErr("destroy", err)
			}
			if s.user != "" && m.index != nil {
				// The logout takes its sessions off the user's list.
				if err := m.do(base, func(ctx context.Context) error {
					_, err := m.index.remove(ctx, s.user, m.opts.Clock(), gone...)
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
		s.stored, s.id, s.loaded, s.renew, s.user = false, "", "", false, ""
	}

	if !s.modifiedLocked() && !(s.stampDue && s.stored) {
		if !s.stored {
			return nil // new and empty: no write, no cookie
		}
		now := m.opts.Clock()
		expire := m.ttl(now, s)
		if expire < time.Second {
			// It reached its absolute lifetime during the request: ended,
			// as if expired (its key's TTL ends at the deadline).
			if err := m.unlistEnded(base, s, s.id, "", ""); err != nil {
				return err
			}
			return m.abandon(base, h, s, "", true)
		}
		if expire/time.Second != s.touched/time.Second {
			// The load could not apply this session's expiry (no scripts,
			// or an override the script did not find): set it now.
			if err := m.do(base, func(ctx context.Context) error {
				return m.rdb.Expire(ctx, m.keyOf(s), expire).Err()
			}); err != nil {
				return storeErr("expire", err)
			}
		}
		if s.touchDue && s.user != "" && m.index != nil {
			if err := m.touchIndex(base, s, now, expire); err != nil {
				return err
			}
		}
		if m.absolute == 0 || s.touchDue {
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
		_, err := m.index.touch(ctx, s.user, HashID(s.id), now, indexExpiry(now, s.created, expire, m.absolute, m.touch))
		return err
	})
}

// destroy deletes session id, and the sessions it was renamed into, and
// returns the keys it deleted without the prefix (with hashed ids, their
// handles).
func (m *RedisManager) destroy(base context.Context, id string) ([]string, error) {
	key := m.key(id)
	var gone []string
	for range maxRenames {
		gone = append(gone, key[len(m.prefix):])
		var res []any
		err := m.do(base, func(ctx context.Context) error {
			var err error
			res, err = endScript.Run(ctx, m.rdb, []string{key}, tombstone).Slice()
			return err
		})
		if err != nil {
			return gone, err
		}
		// A tombstone names the renamed session's key without the prefix,
		// which has the shape of an id.
		next, _ := res[len(res)-1].(string)
		if len(res) < 2 || !ValidID(next) {
			return gone, nil
		}
		key = m.prefix + next
	}
	return gone, nil
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
	if want := st.value; st.id == oldID && want != s.loaded || len(batch) > 1 {
		if st.id != oldID {
			want = s.loaded
		}
		fresh, err := m.opts.Codec.Unmarshal([]byte(want))
		switch {
		case err == nil:
			replay(fresh, batch)
			s.values, s.loaded = fresh, want
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
	listed := ""                // the user whose index lists the new key
	var listedFor time.Duration // the TTL it was listed with
	for attempt := 0; ; attempt++ {
		// The expiry comes from the values written: after a replay they
		// may carry another request's SetExpire.
		expire := m.stamp(s, now)
		if expire < time.Second {
			// The session reached its absolute lifetime while the request
			// held it: it has ended, as if it had expired (its key's TTL
			// ends at that deadline), for every request of the batch.
			// Nothing is written, least of all a key without a TTL.
			if st.id == oldID {
				st.id, st.value = "", ""
			}
			finish(-1, "", 0, nil)
			if err := m.unlistEnded(base, s, oldID, listed, renamed); err != nil {
				return err
			}
			return m.abandon(base, h, s, newKey, true)
		}
		data, err := m.opts.Codec.Marshal(s.values)
		if err != nil && len(batch) > 1 {
			// One request's value cannot be encoded: it alone must fail.
			// The others commit on their own (alone, each with its own
			// operations), and this request retries with its own.
			finish(statusAlone, "", 0, nil)
			fresh, uerr := m.opts.Codec.Unmarshal([]byte(s.loaded))
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
			// SET races no one; a retry overwrites it with the replay.
			if err := m.do(base, func(ctx context.Context) error {
				return m.rdb.Set(ctx, newKey, data, expire).Err()
			}); err != nil {
				return storeErr("save", err)
			}
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
		want, mode := s.loaded, ""
		if len(s.loaded) > casDirectMax {
			sum := sha1.Sum([]byte(s.loaded))
			want, mode = hex.EncodeToString(sum[:]), "h"
		}
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
			s.loaded = string(data)
			s.ops = s.ops[:0]
			if renamed != "" {
				s.id, s.renew = renamed, false
				st.id, st.value = "", ""
			} else {
				st.id, st.value = oldID, s.loaded
			}
			finish(1, s.loaded, expire, nil)
			if err := m.settleIndex(base, s, oldID, renamed != "", now, expire); err != nil {
				return err
			}
			m.setCookie(h, s, expire)
			return nil
		case -1, -2:
			if st.id == oldID {
				st.id, st.value = "", ""
			}
			finish(status, "", 0, nil)
			if listed != "" {
				if err := m.unlist(base, listed, HashID(renamed)); err != nil {
					return err
				}
			}
			return m.abandon(base, h, s, newKey, status == -1)
		}
		if attempt >= m.retries {
			return fmt.Errorf("%w: session changed %d times while saving", ErrConflict, attempt+1)
		}
		// Someone else wrote first: rebuild our values from theirs.
		cur, _ := res[1].(string)
		fresh, err := m.opts.Codec.Unmarshal([]byte(cur))
		if err != nil {
			return fmt.Errorf("%w: session value replaced by something the codec cannot read: %w", ErrStore, err)
		}
		s.loaded = cur
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

// commitStripe serialises the compare-and-set commits of the sessions whose
// ids map to it, within this process, so that concurrent requests of one
// user handled here do not race each other into retries: only writers in
// other processes can make a commit retry.
type commitStripe struct {
	sync.Mutex
	// id and value are the last session this stripe committed: a request
	// that waited for the lock behind a commit of its own session replays
	// onto that value at once instead of losing a round trip to a
	// compare-and-set that is bound to fail.
	id, value string

	qmu     sync.Mutex       // guards waiting and each one's taken
	waiting []*pendingCommit // commits queued for the lock, in order
}

// pendingCommit is one request's commit queued on its stripe.
type pendingCommit struct {
	id    string        // the session's id when the commit began
	s     *Session      // its session: only its ops are read by others
	taken bool          // a request of the same session commits it (under qmu)
	ready chan struct{} // closed when that request has the outcome; nil when not queued (RenewID)

	// The outcome, set before ready is closed: status 1 written, -1 the
	// session is gone, -2 renamed, statusAlone commit on your own; or err.
	status int64
	data   string        // the value written
	expire time.Duration // its TTL
	err    error
}

// statusAlone tells a combined commit's waiting request to commit on its
// own: the batch could not be encoded together (one request's value has
// no encoding), and one request's bad value must not fail the others.
const statusAlone = 2

// unlistEnded takes a session that ended during its commit (its absolute
// lifetime passed) off its user's index, with the new key a RenewID of the
// same commit listed ahead (listed, renamed).
func (m *RedisManager) unlistEnded(base context.Context, s *Session, oldID, listed, renamed string) error {
	if m.index == nil {
		return nil
	}
	if s.user != "" && oldID != "" {
		if err := m.unlist(base, s.user, HashID(oldID)); err != nil {
			return err
		}
	}
	if listed != "" {
		return m.unlist(base, listed, HashID(renamed))
	}
	return nil
}

// take removes from the queue the commits of session id, in order, and
// marks them taken. Call with qmu held.
func (st *commitStripe) take(id string) []*pendingCommit {
	var batch []*pendingCommit
	rest := st.waiting[:0]
	for _, p := range st.waiting {
		if p.id == id {
			p.taken = true
			batch = append(batch, p)
		} else {
			rest = append(rest, p)
		}
	}
	clear(st.waiting[len(rest):])
	st.waiting = rest
	return batch
}

// replay applies to values the operations of every commit of the batch, in
// order.
func replay(values map[string]any, batch []*pendingCommit) {
	for _, p := range batch {
		for _, o := range p.s.ops {
			o.apply(values)
		}
	}
}

// settleCombined ends a commit that another request of the same session
// made for this one: s takes the written value (decoded into its own map),
// and its index entry and cookie are settled as after a commit of its own;
// a session that ended meanwhile is abandoned.
func (m *RedisManager) settleCombined(base context.Context, r *http.Request, h http.Header, s *Session, st *commitStripe, p *pendingCommit) error {
	switch p.status {
	case 1:
		values, err := m.opts.Codec.Unmarshal([]byte(p.data))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		s.values, s.loaded = values, p.data
		s.ops = s.ops[:0]
		if m.index != nil {
			// In commit order with the session's other index changes, as
			// after a commit of its own.
			st.Lock()
			err := m.settleIndex(base, s, p.id, false, m.opts.Clock(), p.expire)
			st.Unlock()
			if err != nil {
				return err
			}
		}
		m.setCookie(h, s, p.expire)
		return nil
	case -1, -2:
		return m.abandon(base, h, s, "", p.status == -1)
	case statusAlone:
		return m.compareAndSet(base, r, h, s, true)
	}
	return p.err
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
	if s.user != "" && (renamed || user != s.user) {
		if err := m.unlist(base, s.user, HashID(oldID)); err != nil {
			return err
		}
	}
	if !renamed && user != "" && user == s.user && (s.touchDue || expire > s.touched) {
		return m.touchIndex(base, s, now, expire)
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
	s.id, s.stored, s.renew, s.loaded = "", false, false, ""
	s.ops = s.ops[:0]
	clear(s.values)
	if gone {
		m.cookies.set(h, &s.cookie, "", 0, time.Time{})
	}
	return nil
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

// setCookie sets the id cookie of s, whose TTL is expire. With an absolute
// lifetime the cookie lives until the session's deadline (the server ends
// it sooner when it is idle), so a response that changes nothing need not
// send it again; without one it lives as long as the TTL, as weppy's does.
func (m *RedisManager) setCookie(h http.Header, s *Session, expire time.Duration) {
	now := m.opts.Clock()
	if dl := deadline(s.created, m.absolute); !dl.IsZero() {
		expire = dl.Sub(now.Truncate(time.Second))
	}
	m.cookies.set(h, &s.cookie, s.id, int64(expire/time.Second), now.Add(expire))
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
