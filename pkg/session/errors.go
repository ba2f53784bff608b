package session

import "errors"

// Errors returned by the managers. Test for them with errors.Is: the errors
// that reach an ErrorHandler wrap one of these together with the underlying
// cause.
var (
	// ErrUnavailable means the session store could not be reached (a network
	// error, a timeout, a Redis that is loading or failing over). The default
	// ErrorHandler answers 503 Service Unavailable.
	ErrUnavailable = errors.New("session: store unavailable")

	// ErrCookieTooLarge means a sealed session cookie would exceed 4096 bytes,
	// the limit browsers enforce; the cookie is not sent. Keep less in the
	// session, or use the Redis manager.
	ErrCookieTooLarge = errors.New("session: cookie too large (over 4096 bytes)")

	// ErrInvalidCookie means a cookie could not be opened: it was tampered
	// with, sealed under a secret that is not configured, or is not a wsess
	// cookie at all. The middleware treats such a cookie as absent.
	ErrInvalidCookie = errors.New("session: invalid cookie")

	// ErrExpired means a cookie opened correctly but its sealed expiry has
	// passed. The middleware treats such a cookie as absent.
	ErrExpired = errors.New("session: cookie expired")

	// ErrShortSecret means a secret is shorter than 16 bytes and
	// CookieOptions.AllowShortSecret is not set.
	ErrShortSecret = errors.New("session: secret shorter than 16 bytes")

	// ErrInvalidOptions means an option value is out of range.
	ErrInvalidOptions = errors.New("session: invalid options")

	// ErrConflict means a Redis session changed under a request more times
	// than RedisOptions.MaxRetries allowed while that request saved it.
	ErrConflict = errors.New("session: concurrent update conflict")

	// ErrHijacked is returned by Hijack on the middleware's ResponseWriter
	// (directly or through http.ResponseController) when the request changed
	// its session (Set, Destroy, RenewID, ...): after a hijack the handler
	// writes the response itself, so the session cookie would never reach
	// the client. The connection is not hijacked and the session not saved;
	// the handler can still answer normally, and its response then carries
	// the cookie. Change the session in a request that is not hijacked.
	// Changes made after a successful Hijack are not saved.
	ErrHijacked = errors.New("session: cannot hijack a connection whose session has unsaved changes")

	// ErrStore means the store answered with an error that is not an outage
	// (for example a Redis WRONGTYPE reply). The default ErrorHandler answers
	// 500 Internal Server Error.
	ErrStore = errors.New("session: store error")
)
