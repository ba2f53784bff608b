package session

import (
	"context"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reserved keys. They are stored with the session's values (as weppy does)
// but hidden from Keys.
const (
	// expiresKey holds a per-session expiry override in whole seconds, under
	// the name weppy and Emmett use for it.
	expiresKey = "_expires_after"
	// flashPrefix prefixes flash values.
	flashPrefix = "_flash:"
	// reservedPrefix prefixes the keys of session management (Login's user
	// and authentication time, a stored creation time). Keys hides them; an
	// application must not use keys starting with it.
	reservedPrefix = "_wsess_"
)

type opKind uint8

const (
	opSet opKind = iota + 1
	opDelete
	opClear
	opIncr
)

// op is one recorded change. Replaying a session's ops on a fresh copy of
// its stored values reproduces the request's intent on top of whatever other
// requests wrote meanwhile.
type op struct {
	kind  opKind
	key   string
	val   any
	delta int64
}

func (o op) apply(values map[string]any) {
	switch o.kind {
	case opSet:
		values[o.key] = o.val
	case opDelete:
		delete(values, o.key)
	case opClear:
		clear(values)
	case opIncr:
		n, _ := toInt64(values[o.key])
		values[o.key] = n + o.delta
	}
}

// Session is one user's session data, as a handler sees it. Get it with From.
//
// A Session records the operations applied to it (Set, Delete, Clear, Incr)
// rather than only its final state. The manager writes a session only when
// operations were recorded, and the Redis manager replays them when another
// request changed the same session meanwhile, so concurrent requests of one
// user do not lose each other's updates.
//
// All methods are safe for concurrent use by the goroutines of one request.
type Session struct {
	mu sync.Mutex

	id     string         // store id (Redis) or "" (cookie, or not stored yet)
	values map[string]any // current state, nil until first needed
	// raw is a cookie's JSON payload, checked (validJSONObject) but not
	// decoded yet. While it is set, values is nil and ops holds only Sets,
	// Deletes and Incrs (with their result in val), none applied yet:
	// lookupLocked answers from the ops and the payload, valuesLocked
	// decodes it and applies them, and the commit splices them into it
	// (appendSpliced). A request that reads a value or two and sets or
	// increments one never builds the map.
	raw    string
	ops    []op
	opsBuf [2]op     // ops' first backing array: most requests record one or two
	cookie [1]string // backs the response's Set-Cookie header

	stored    bool // the session exists in the store / came in a valid cookie
	destroyed bool // Destroy was called
	renew     bool // RenewID was called
	stale     bool // the request's cookie named a session that ended: drop it
	sealed    bool // committed: later changes are not saved

	expires time.Time // when the stored session expires, if known

	rs redisState // what only the Redis manager keeps; zero for cookie sessions

	created time.Time        // when the session began (or last logged in); zero for a new one
	clock   func() time.Time // the manager's Options.Clock; nil means time.Now
	// readAt is when the cookie store read the request's cookie; its
	// commit reuses it (zero: no cookie was read, the commit reads the
	// clock). A cookie sealed from it expires no later than one sealed at
	// the commit's own time would, at the latest at the absolute deadline.
	readAt time.Time
	login  string // cookie with Revocations: the loaded login's id, which Destroy ends

	cacheControl [1]string // backs the response's Cache-Control header (markPrivate)

	owner backend  // the manager whose middleware made it; nil from NewContext
	outer *Session // the session of an enclosing manager's middleware, if any

	late []string // the keys (or "Destroy", "RenewID", "Clear") changed after the commit
}

// redisState is the part of a Session that only the Redis manager uses
// (RedisManager's load and commit); the cookie manager leaves it zero.
type redisState struct {
	loaded    string        // the stored bytes it was loaded from (Redis), for conflict checks
	touched   time.Duration // the TTL the load gave the stored session (Redis)
	renamed   string        // the request's id when RenewID had renamed it (Redis): Destroy follows it
	user      string        // the user bound when the session was loaded (Redis): whose index lists it
	touchDue  bool          // the load asked to record last-seen in the user's index (Redis)
	stampDue  bool          // stored without a creation time: record the one it now counts from (Redis)
	expireDue bool          // the load could not give the session its TTL: the commit does (Redis)
	key       string        // the Redis key of keyID, computed once (RedisManager.keyOf)
	keyID     string
}

// ID returns the session's id: the value of a Redis session's cookie. It
// is a credential (whoever has it has the session): never log or show it;
// log Handle instead. With hashed ids (RedisOptions.HashIDs, the default
// under CompatWsess) the Redis key is the prefix + Handle, not the prefix +
// ID. It is empty for cookie sessions and for a new session that has not
// been saved. After RenewID it is the new id only once the session has been
// committed.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// IsNew reports whether the session was created by this request (no valid
// cookie or stored session came with it).
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stored
}

// Modified reports whether the request changed the session, so that it will
// be written when the response starts.
func (s *Session) Modified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modifiedLocked()
}

func (s *Session) modifiedLocked() bool {
	return len(s.ops) > 0 || s.destroyed || s.renew
}

// Expires returns when the stored session expires, as known when it was
// loaded (the zero time for a new session).
func (s *Session) Expires() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// valuesLocked returns the session's values, decoding the payload the load
// left raw first and applying the ops recorded meanwhile.
func (s *Session) valuesLocked() map[string]any {
	if s.raw != "" {
		// Checked at load, so it decodes; should it not, the session is
		// empty, as for a cookie that does not open.
		s.values, _ = parseJSONObject(s.raw)
		s.raw = ""
		if s.values == nil && len(s.ops) > 0 {
			s.values = make(map[string]any, 4)
		}
		for _, o := range s.ops {
			o.apply(s.values)
		}
	}
	return s.values
}

// lookupLocked returns the value under key: from the ops and the raw
// payload when they can tell without decoding the rest, else from the
// values.
func (s *Session) lookupLocked(key string) (any, bool) {
	if s.raw != "" {
		for i := len(s.ops) - 1; i >= 0; i-- {
			if o := s.ops[i]; o.key == key {
				return o.val, o.kind != opDelete // see raw
			}
		}
		if v, found, ok := jsonMember(s.raw, key); ok {
			return v, found
		}
	}
	v, ok := s.valuesLocked()[key]
	return v, ok
}

func (s *Session) record(o op) {
	if s.raw != "" && o.kind == opIncr {
		cur, _ := s.lookupLocked(o.key) // decodes when it cannot tell
		n, _ := toInt64(cur)
		o.val = n + o.delta // what apply computes
	}
	if s.raw == "" || (o.kind != opSet && o.kind != opDelete && o.kind != opIncr) {
		if s.valuesLocked() == nil {
			s.values = make(map[string]any, 4)
		}
		o.apply(s.values)
	} // else applied by valuesLocked or spliced in by the commit
	s.ops = append(s.ops, o)
	if s.sealed {
		name := o.key
		if o.kind == opClear {
			name = "Clear"
		}
		s.late = append(s.late, name)
	}
}

// Get returns the value stored under key and whether it is present. Values
// are what the codec returned: with the default JSON codec, numbers are
// json.Number, objects map[string]any and arrays []any.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupLocked(key)
}

// Has reports whether key is present.
func (s *Session) Has(key string) bool {
	_, ok := s.Get(key)
	return ok
}

// Set stores v under key. v must be encodable by the manager's codec.
func (s *Session) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(op{kind: opSet, key: key, val: v})
}

// Delete removes key. Deleting a missing key still counts as a change.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(op{kind: opDelete, key: key})
}

// Clear removes every value, flashes, the expiry override and the user
// bound by Login included. The session itself (its id and cookie) stays; use
// Destroy to end it.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(op{kind: opClear})
}

// Incr adds delta to the integer under key (a missing or non-integer value
// counts as 0), stores the sum and returns it. The Redis manager replays an
// Incr on top of concurrent changes, so simultaneous increments all count.
func (s *Session) Incr(key string, delta int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(op{kind: opIncr, key: key, delta: delta})
	v, _ := s.lookupLocked(key)
	n, _ := toInt64(v)
	return n
}

// Keys returns the keys of the session's values in sorted order, without the
// reserved keys of flashes, of the expiry override and of session management
// ("_wsess_" and after it, see Login).
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	values := s.valuesLocked()
	keys := make([]string, 0, len(values))
	for k := range values {
		if k == expiresKey || strings.HasPrefix(k, flashPrefix) || strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Destroy ends the session: the manager deletes it from the store and tells
// the browser to drop the cookie. With the Redis manager an ended session
// stays ended: a concurrent request that loaded it before and commits after
// writes nothing and clears its cookie, and when a concurrent RenewID had
// renamed it, the renamed session is deleted too (also when this request
// came with the old id after the rename).
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroyed = true
	s.ops = s.ops[:0]
	s.raw = ""
	clear(s.values)
	if s.sealed {
		s.late = append(s.late, "Destroy")
	}
}

// RenewID gives the session a new id while keeping its data, and removes the
// old one from the store. Call it when the user's privileges change (at
// login) to defeat session fixation. For cookie sessions it re-seals the
// cookie.
//
// With the Redis manager it is a compare-and-set on the old key like every
// other save: changes other requests committed meanwhile are replayed into
// the new id, and if the session was destroyed (or renamed) meanwhile, this
// request's changes are dropped and no new session is made. The old key
// then holds, for at most five minutes, a tombstone naming the new id: it
// loads as no session, and a concurrent Destroy of the old id follows it.
// Changes a concurrent request commits through the old id after the rename
// are dropped, not carried into the new id (that request may hold a fixed
// or stolen id), and that request's response sets no cookie.
func (s *Session) RenewID() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renew = true
	if s.sealed {
		s.late = append(s.late, "RenewID")
	}
}

// SetFlash stores a value that Flash returns once, on this or a later
// request, and then forgets.
func (s *Session) SetFlash(key string, v any) {
	s.Set(flashPrefix+key, v)
}

// Flash returns the flash value stored under key and removes it.
func (s *Session) Flash(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.lookupLocked(flashPrefix + key)
	if ok {
		s.record(op{kind: opDelete, key: flashPrefix + key})
	}
	return v, ok
}

// SetExpire overrides the manager's expiry for this session from now on (the
// Redis TTL, or the cookie's lifetime). It is stored with the session, under
// weppy's "_expires_after" key, so it lasts until changed. d is rounded down
// to whole seconds; d <= 0 removes the override.
func (s *Session) SetExpire(d time.Duration) {
	if d < time.Second {
		s.Delete(expiresKey)
		return
	}
	s.Set(expiresKey, int64(d/time.Second))
}

// persistKey holds 0 when the session's cookie is to end with the browser
// (SetPersistent(false)); absent, the cookie is persistent.
const persistKey = reservedPrefix + "persist"

// SetPersistent chooses what the browser is told to keep: true (the
// default) a persistent cookie, with Max-Age and Expires, that outlives a
// browser restart; false a browser-session cookie, without either, that
// the browser drops when it closes ("remember me" left unticked at login).
// Either way the server still ends the session at its idle timeout and
// absolute lifetime. The choice is stored with the session (the reserved
// key "_wsess_persist", which Keys hides), so it holds on later requests
// and through RenewID and Login; Clear and Destroy reset it to the default.
func (s *Session) SetPersistent(persistent bool) {
	if persistent {
		s.Delete(persistKey)
		return
	}
	s.Set(persistKey, 0)
}

// Persistent reports whether the session's cookie is persistent (the
// default) or ends with the browser (SetPersistent(false)).
func (s *Session) Persistent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.persistentLocked()
}

// persistentLocked is Persistent with s.mu held.
func (s *Session) persistentLocked() bool {
	v, ok := s.lookupLocked(persistKey)
	if !ok {
		return true
	}
	n, ok := toInt64(v)
	return !ok || n != 0
}

// expireOr returns the session's expiry override, or def.
func (s *Session) expireOrLocked(def time.Duration) time.Duration {
	v, _ := s.lookupLocked(expiresKey)
	if n, ok := toInt64(v); ok && n > 0 && n < math.MaxInt64/int64(time.Second) {
		return time.Duration(n) * time.Second
	}
	return def
}

// String returns the string under key, or "" when it is missing or not a
// string.
func (s *Session) String(key string) string {
	v, _ := s.Get(key)
	str, _ := v.(string)
	return str
}

// Int returns the integer under key, or 0 when it is missing, not an integer
// or out of range. It reads json.Number, float64 with no fraction, Go integer
// types and *big.Int. Use Get or Has to tell a stored 0 from a missing key.
func (s *Session) Int(key string) int {
	n := s.Int64(key)
	if int64(int(n)) != n {
		return 0
	}
	return int(n)
}

// Int64 is like Int for int64.
func (s *Session) Int64(key string) int64 {
	v, _ := s.Get(key)
	n, _ := toInt64(v)
	return n
}

// Float64 returns the number under key as a float64, or 0.
func (s *Session) Float64(key string) float64 {
	v, _ := s.Get(key)
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	}
	if n, ok := toInt64(v); ok {
		return float64(n)
	}
	return 0
}

// Bool returns the bool under key, or false.
func (s *Session) Bool(key string) bool {
	v, _ := s.Get(key)
	b, _ := v.(bool)
	return b
}

// toInt64 converts the integer representations codecs produce.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return toInt64(f)
		}
	case *big.Int:
		if x != nil && x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

type ctxKey struct{}

// From returns the session of the innermost manager's Middleware the
// request went through. It panics when there is none, with a message naming
// what is missing: a handler that reads a session it cannot have is a
// wiring mistake, better found by the first request than by a nil
// dereference. With several managers in one handler chain (a wsess Redis
// session beside an Emmett cookie session), ask each manager for its own:
// CookieManager.From, RedisManager.From.
func From(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	if s == nil {
		panic("session: From found no session in the request's context: the handler is not behind a CookieManager's or RedisManager's Middleware")
	}
	return s
}

// fromOwner returns the session b's middleware put in ctx, the innermost
// one when b's middleware is nested in itself, or one NewContext put there
// (which serves every manager); nil when there is none.
func fromOwner(ctx context.Context, b backend) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	for s != nil && s.owner != nil && s.owner != b {
		s = s.outer
	}
	return s
}

// NewContext returns a copy of ctx carrying s, which From and every
// manager's From then return, as they return the session of a request
// through a manager's Middleware. It is exported for tests of handlers
// that read sessions.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}
