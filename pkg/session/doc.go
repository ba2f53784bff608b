// Package session gives net/http handlers weppy-style sessions: a Session
// that a handler reads and writes, kept either in an encrypted cookie
// (CookieManager) or in Redis (RedisManager).
//
// # The counter
//
// weppy's classic example counts a user's visits:
//
//	@app.expose("/counter")
//	def count():
//	    session.counter = (session.counter or 0) + 1
//	    return "This is your %d visit" % session.counter
//
// With this package:
//
//	mgr, err := session.NewCookieManager(secret, session.CookieOptions{})
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
//		n := session.From(r.Context()).Incr("counter", 1)
//		fmt.Fprintf(w, "This is your %d visit", n)
//	})
//	http.ListenAndServe("127.0.0.1:8080", mgr.Middleware(mux))
//
// Middleware has the standard func(http.Handler) http.Handler shape, so it
// works with any router.
//
// # Reading and writing
//
// From returns the request's *Session. Get, Set, Delete, Clear and Keys work
// on its values; Int, Int64, Float64, String and Bool read typed values and
// give the zero value for a missing key (Has and Get tell missing from
// present). Incr adds to an integer. SetFlash and Flash pass a value to a
// later request once. SetExpire overrides the lifetime of one session.
// RenewID gives the session a new id at login; Destroy ends it.
//
// A Session records the operations applied to it, not only its final state.
// Nothing is written for a request that recorded none, and the Redis manager
// replays them when a concurrent request of the same user saved first, so no
// update is lost (see RedisManager).
//
// # When the session is saved
//
// The middleware commits the session just before the response's first byte:
// on the handler's first WriteHeader, Write or Flush, or after the handler
// returns when it wrote nothing. http.Flusher and http.ResponseController
// keep working. When the commit fails, the Options.ErrorHandler answers
// instead of the handler (DefaultErrorHandler: 503 when the store is
// unavailable, 500 otherwise); a failed load never becomes an empty session.
//
// # The cookie manager
//
// NewCookieManager seals the session with AES-256-GCM under a key derived
// once with HKDF-SHA256 from a secret of any length (16 bytes at least unless
// CookieOptions.AllowShortSecret). The cookie carries a version prefix, a
// random nonce, and the expiry instant inside the sealed payload; its name is
// bound as associated data. PreviousSecrets rotate keys. A cookie that does
// not open (tampered, foreign, expired, old secret) is a new empty session;
// a session too big for a 4096-byte cookie is ErrCookieTooLarge.
//
// # The Redis manager
//
// NewRedisManager takes a redis.UniversalClient (single node, Sentinel or
// Cluster). Keys are Prefix + HashID(id) (default prefix "wppsess:", as
// weppy), so Redis holds no usable cookie value; with PickleCodec, or
// RedisOptions.HashIDs false, Prefix + id, as weppy and Emmett look them
// up. Ids are 256 random bits in base64url, and weppy's UUID4 ids are
// accepted too. Sessions end at the idle timeout and at AbsoluteTimeout
// (24 h with the JSON codec); Session.Login lists a session in its user's
// index, which UserSessions, Revoke and RevokeUser (and the wsess CLI,
// through NewIndex) read and end. The TTL
// slides on every request, to the session's SetExpire override when it has
// one. Round trips: one for a request that only reads its session, two for
// one that changes it, three for RenewID, none for a new session that stays
// empty. Concurrent requests of one user lose no update, and a destroyed
// session never comes back, whatever request races the logout (see
// RedisManager). Clear removes every session under the prefix.
//
// # Codecs
//
// Values are stored as JSON by default (JSONCodec), with numbers decoded as
// json.Number so that integers stay exact. PickleCodec shares Redis sessions
// with weppy and Emmett apps. Options.Codec plugs in another Codec; its doc
// comment states the contract.
package session
