package manager

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"
)

// wsess's own keys: besides the sessions, pkg/session writes a few keys of
// its own (its bookkeeping), which are not sessions and must never be
// counted or shown as sessions that cannot be decoded. Their shapes (P is
// the sessions' prefix, H a HashID: 43 characters of base64url):
//
//	P + id-ish                      string "\x00wsess:renamed:" + the new
//	                                session's key without P: a tombstone that
//	                                RenewID and Login leave under the old key
//	                                for up to 5 minutes
//	{P u:H}                         sorted set: a user's index of sessions
//	{P u:H}:m                       hash: the index's metadata
//	{tag}:seen:<session key>        string "1": a last-seen marker (tag is the
//	                                session key, or its own hash tag)
//	wsess:revoked:H                 string, Unix ms: the cookie store's
//	                                revocation of a user
//
// pkg/session imports this package, so the shapes are written down here
// again; cmd/wsess's tests check them against keys the library makes.

// OwnKind is what one of wsess's own keys is ("" for a session or any key
// that is not wsess's bookkeeping).
type OwnKind string

// The kinds of wsess's own keys.
const (
	// OwnTombstone is the value left under a session's old key by RenewID
	// or Login: the session was renamed.
	OwnTombstone OwnKind = "tombstone"
	// OwnIndex is a user's index of sessions (a sorted set of handles).
	OwnIndex OwnKind = "index"
	// OwnIndexMeta is the metadata of a user's index (a hash).
	OwnIndexMeta OwnKind = "index_meta"
	// OwnMarker records that a session's last-seen time is fresh in its
	// user's index.
	OwnMarker OwnKind = "marker"
	// OwnRevocation is the cookie store's per-user "not before" time.
	OwnRevocation OwnKind = "revocation"
	// OwnEndedLogin marks one cookie-store login as ended by its logout
	// (RevocationPrefix + "l:" + HashID of the login's id).
	OwnEndedLogin OwnKind = "ended_login"
)

// TombstonePrefix starts the value of a tombstone; the renamed session's
// key without the prefix follows.
const TombstonePrefix = "\x00wsess:renamed:"

// RevocationPrefix is the prefix of the cookie store's revocation keys
// (pkg/session's DefaultRevocationPrefix; another one set by the app is not
// recognised).
const RevocationPrefix = "wsess:revoked:"

// Own describes one of wsess's own keys.
type Own struct {
	// Kind is what the key is; "" for a session or any other key.
	Kind OwnKind
	// Target is the key this one is about: for a tombstone the renamed
	// session's key (the tombstone's own prefix, then what the tombstone
	// names), for a marker the session's key, for the index's metadata the
	// index (its sorted set). Empty for an index and a revocation.
	Target string
	// User is HashID of the user, for an index, its metadata and a
	// revocation.
	User string
}

// Classify says whether key is one of wsess's own keys. typ is its Redis
// type ("string", "zset", "hash"; "" when unknown) and value its value (nil
// when not read). A tombstone is known by its value only; the other kinds
// by their name, and by their type and value when given: with typ "" and a
// nil value, Classify judges by the name alone (what Prefixes does).
func Classify(key, typ string, value []byte) Own {
	if value != nil && (typ == "" || typ == "string") && bytes.HasPrefix(value, []byte(TombstonePrefix)) {
		rest := string(value[len(TombstonePrefix):])
		if !idShaped(rest) {
			return Own{}
		}
		return Own{Kind: OwnTombstone, Target: keyPrefix(key) + rest}
	}
	if strings.HasPrefix(key, "{") {
		if user, ok := indexKey(key); ok && (typ == "" || typ == "zset") {
			return Own{Kind: OwnIndex, User: user}
		}
		if base, ok := strings.CutSuffix(key, ":m"); ok && (typ == "" || typ == "hash") {
			if user, ok := indexKey(base); ok {
				return Own{Kind: OwnIndexMeta, Target: base, User: user}
			}
		}
		if session, ok := markerKey(key); ok && (typ == "" || typ == "string") && (value == nil || string(value) == "1") {
			return Own{Kind: OwnMarker, Target: session}
		}
		return Own{}
	}
	if login, ok := strings.CutPrefix(key, RevocationPrefix+"l:"); ok && handleShaped(login) && (typ == "" || typ == "string") && (value == nil || string(value) == "1") {
		return Own{Kind: OwnEndedLogin}
	}
	if user, ok := strings.CutPrefix(key, RevocationPrefix); ok && handleShaped(user) && (typ == "" || typ == "string") && (value == nil || digits(value)) {
		return Own{Kind: OwnRevocation, User: user}
	}
	return Own{}
}

// indexKey reports whether key is "{P u:H}" and returns H.
func indexKey(key string) (string, bool) {
	inner, ok := strings.CutPrefix(key, "{")
	if !ok {
		return "", false
	}
	if inner, ok = strings.CutSuffix(inner, "}"); !ok || len(inner) < len("u:")+hashLen {
		return "", false
	}
	user := inner[len(inner)-hashLen:]
	if !strings.HasSuffix(inner[:len(inner)-hashLen], "u:") || !handleShaped(user) || strings.ContainsAny(inner, "{}") {
		return "", false
	}
	return user, true
}

// markerKey reports whether key is "{tag}:seen:K" for a session key K
// whose hash slot tag names, and returns K.
func markerKey(key string) (string, bool) {
	end := strings.IndexByte(key, '}')
	if end < 2 || !strings.HasPrefix(key[end+1:], ":seen:") {
		return "", false
	}
	tag, session := key[1:end], key[end+1+len(":seen:"):]
	if session == "" || tag != session && tag != hashTag(session) {
		return "", false
	}
	return session, true
}

// hashTag returns what a cluster hashes of key: the part between the first
// "{" and the next "}" when it is not empty, "" when key has none.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return ""
	}
	return key[i+1 : i+1+j]
}

// hashLen is the length of a HashID: 32 bytes in unpadded base64url.
const hashLen = 43

// handleShaped reports whether s has the shape of a HashID (or of a wsess
// session id): 43 characters of base64url.
func handleShaped(s string) bool {
	if len(s) != hashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// uuidShaped reports whether s has the shape of a weppy or Emmett session
// id: a lowercase UUID.
func uuidShaped(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// idShaped reports whether s names a session key after its prefix: a
// handle or a wsess id, or a weppy or Emmett id.
func idShaped(s string) bool { return handleShaped(s) || uuidShaped(s) }

// keyPrefix returns key without the session id or handle it ends with
// (the prefix of a session key); key itself when it ends with neither.
func keyPrefix(key string) string {
	for _, n := range []int{hashLen, 36} {
		if len(key) >= n && idShaped(key[len(key)-n:]) {
			return key[:len(key)-n]
		}
	}
	return key
}

func digits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// tombstoneSizes are the lengths a tombstone can have: the prefix, then
// a wsess id or handle (43) or a UUID (36). Stats reads the values of
// string keys of these lengths only, to tell tombstones from sessions
// without reading every value.
var tombstoneSizes = [2]int64{int64(len(TombstonePrefix)) + hashLen, int64(len(TombstonePrefix)) + 36}

// tombstoneTTL is the longest a tombstone lives (pkg/session's renameGrace).
const tombstoneTTL = 5 * time.Minute

// mayBeTombstone reports whether the string key inf describes may hold a
// tombstone: by its length, or where only its MEMORY USAGE is known
// (SizeIsMemory), by its short TTL, small footprint and session-shaped
// name. Reading those few values resets their idle time on a server
// without CLIENT NO-TOUCH; they expire within tombstoneTTL anyway.
func mayBeTombstone(inf *Info) bool {
	if !inf.SizeIsMemory {
		return inf.Size == tombstoneSizes[0] || inf.Size == tombstoneSizes[1]
	}
	return inf.TTL > 0 && inf.TTL <= tombstoneTTL && keyPrefix(inf.Key) != inf.Key &&
		inf.Size <= 256+2*int64(len(inf.Key))
}

// OwnCounts counts wsess's own keys by kind.
type OwnCounts struct {
	Tombstones int64 `json:"tombstones"`
	// IndexKeys counts both keys of each user's index (the sorted set and
	// its metadata hash).
	IndexKeys int64 `json:"index_keys"`
	Markers   int64 `json:"markers"`
	// Revocations counts the cookie store's revocation keys: per user,
	// and per ended login.
	Revocations int64 `json:"revocations"`
}

// Total is the number of keys counted.
func (c OwnCounts) Total() int64 { return c.Tombstones + c.IndexKeys + c.Markers + c.Revocations }

func (c *OwnCounts) count(k OwnKind) {
	switch k {
	case OwnTombstone:
		c.Tombstones++
	case OwnIndex, OwnIndexMeta:
		c.IndexKeys++
	case OwnMarker:
		c.Markers++
	case OwnRevocation, OwnEndedLogin:
		c.Revocations++
	}
}

func (c *OwnCounts) add(o OwnCounts) {
	c.Tombstones += o.Tombstones
	c.IndexKeys += o.IndexKeys
	c.Markers += o.Markers
	c.Revocations += o.Revocations
}

// IndexSessions returns how many sessions a user's index lists that have
// not expired at now (ZCOUNT of the sorted set from now on). key is the
// index or its metadata; anything else is ErrNotFound.
func (m *Manager) IndexSessions(ctx context.Context, key string, now time.Time) (int64, error) {
	own := Classify(key, "", nil)
	switch own.Kind {
	case OwnIndexMeta:
		key = own.Target
	case OwnIndex:
	default:
		return 0, ErrNotFound
	}
	n, err := m.c.ZCount(ctx, key, strconv.FormatInt(now.UnixMilli(), 10), "+inf").Result()
	return n, wrap("index", err)
}
