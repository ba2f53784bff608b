package session

import (
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Reserved keys of the user behind a session. They are stored with the
// session's values (so they travel in the sealed cookie, or in the stored
// Redis value, like weppy's "_expires_after"), and Keys hides them.
const (
	// userKey holds the user id bound by Login, a string.
	userKey = reservedPrefix + "user"
	// authKey holds the Unix millisecond of the Login that bound the user.
	authKey = reservedPrefix + "auth"
)

// Login binds the session to userID and records the authentication time
// (the manager's Clock). Call it when a user has just authenticated. It
// renews the session as RenewID does (a new Redis id; a freshly sealed
// cookie) against session fixation, keeps the session's data, and starts
// the session's absolute lifetime (Options.AbsoluteTimeout) anew: a login is
// a fresh authentication.
//
// The binding is stored under reserved keys ("_wsess_user", "_wsess_auth")
// that Keys hides. Clear removes it together with every other value, and
// Destroy (the logout) ends the whole session. An empty userID binds no
// user: UserID reports "" and cookie revocation does not apply.
func (s *Session) Login(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	s.renew = true
	s.created = now.Truncate(time.Second)
	s.record(op{kind: opSet, key: userKey, val: userID})
	s.record(op{kind: opSet, key: authKey, val: now.UnixMilli()})
}

// UserID returns the user bound by Login, or "" when the session has none.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, _ := s.lookupLocked(userKey)
	uid, _ := v.(string)
	return uid
}

// AuthTime returns when Login bound the session's user, to the
// millisecond, or the zero time when the session has no user. Use it to ask
// for a fresh login before a sensitive operation.
func (s *Session) AuthTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return authTimeOf(s.valuesLocked())
}

// Created returns when the session began: the first response that stored
// it, or its last Login, to the second. Its absolute lifetime counts from
// here. It is the zero time for a new session before it is committed, and
// for a Redis session without an absolute lifetime (AbsoluteTimeout none,
// PickleCodec's default), whose creation time is not stored.
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// Handle returns a name for the session that is safe to show, list and log:
// for a Redis session, HashID of its id (with RedisOptions.HashIDs, the
// key's name after the prefix) (empty for a new session that has
// not been saved; after RenewID or Login, the new id's handle only once the
// session has been committed). A cookie session has no server-side record
// to name, so its handle is "": cookie sessions are refused per user
// (CookieManager.RevokeUser), not one by one.
func (s *Session) Handle() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id == "" {
		return ""
	}
	return HashID(s.id)
}

// HashID returns base64url (no padding) of the SHA-256 of id: 43
// characters. A session's handle is HashID of its id; the per-user index
// names users by HashID of their user id, so no raw user id appears in a
// Redis key name. The hash cannot be turned back into the id, so a handle
// read from Redis or a screen cannot be replayed as a cookie.
func HashID(id string) string {
	var buf [hashIDLen]byte
	return string(appendHashID(buf[:0], id))
}

// hashIDLen is the length of HashID's result.
const hashIDLen = 43

// appendHashID appends HashID(id) to dst.
func appendHashID(dst []byte, id string) []byte {
	var idBuf [64]byte // session ids fit: no allocation for the conversion
	sum := sha256.Sum256(append(idBuf[:0], id...))
	return base64.RawURLEncoding.AppendEncode(dst, sum[:])
}

// authTimeOf reads the authentication time stored by Login.
func authTimeOf(values map[string]any) time.Time {
	if _, ok := values[userKey]; !ok {
		return time.Time{}
	}
	n, ok := toInt64(values[authKey])
	if !ok {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// nowLocked is the manager's clock, or time.Now outside a manager.
func (s *Session) nowLocked() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
