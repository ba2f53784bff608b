// Package sessiontest runs an http.Handler with a session, the way
// net/http/httptest runs one with a request: preload the session with
// values or a logged-in user, serve one request, and read what the handler
// left in the session. It needs no store, no secret and no cookie jar.
//
// The handler runs behind the real middleware of pkg/session (a cookie
// manager with a random secret, made for each call), so the session it
// sees behaves as in production: changes are committed before the
// response's first byte, Destroy ends the session, Login renews it.
// Handlers under test must read their session with session.From (the
// manager's own From names the app's manager, which is not in the chain).
//
//	res, err := sessiontest.Serve(handler, httptest.NewRequest("GET", "/", nil),
//		sessiontest.Values(map[string]any{"counter": 41}), sessiontest.LoggedIn("ana"))
//	if err != nil {
//		t.Fatal(err)
//	}
//	if res.Session.Int("counter") != 42 { ... }
//
// Values go through the JSON codec, as with the library's defaults: a
// number comes back as json.Number (Session.Int and friends read it), and
// what the codec cannot encode fails the test. The whole session must fit
// in a cookie (about 4 KB).
package sessiontest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wsess/wsess/pkg/session"
)

// config is what the Options set.
type config struct {
	values map[string]any
	user   string
	now    func() time.Time
}

// An Option prepares the session before the request.
type Option func(*config)

// Values preloads the session with a copy of values, as if an earlier
// request had stored them. Several Values merge, later ones winning.
func Values(values map[string]any) Option {
	return func(c *config) {
		if c.values == nil {
			c.values = map[string]any{}
		}
		maps.Copy(c.values, values)
	}
}

// LoggedIn preloads the session as logged in as userID, authenticated at
// the clock's current time: Session.UserID returns userID and AuthTime that
// time.
func LoggedIn(userID string) Option {
	return func(c *config) { c.user = userID }
}

// Clock sets the manager's clock (Options.Clock), for handlers that look
// at session times. Default time.Now.
func Clock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Result is what one request did.
type Result struct {
	// Recorder is the response, as httptest records it.
	Recorder *httptest.ResponseRecorder
	// Session is the session as the handler left it: the values stored
	// after the commit (or the preloaded ones when the handler changed
	// nothing). Read it with its methods (Int, String, UserID, Keys, ...).
	// After Destroy it is a new, empty session.
	Session *session.Session
	// Saved reports that the response stored the session (set a cookie),
	// Destroyed that it ended it (told the browser to drop the cookie).
	Saved, Destroyed bool
}

// Serve runs h with r and a session prepared by opts, and returns the
// response and the session after it. It returns an error, wrapping
// ErrSession, when the session cannot be prepared or read back (a value the
// JSON codec cannot encode, a session larger than a cookie); what the
// handler did is in the response either way.
func Serve(h http.Handler, r *http.Request, opts ...Option) (*Result, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSession, err)
	}
	m, err := session.NewCookieManager(base64.RawURLEncoding.EncodeToString(secret[:]), session.CookieOptions{
		Options: session.Options{Clock: cfg.now},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSession, err)
	}
	name := session.DefaultCookieName

	values := maps.Clone(cfg.values)
	if cfg.user != "" {
		if values == nil {
			values = map[string]any{}
		}
		// The keys Session.Login stores (see Session.Login).
		values["_wsess_user"] = cfg.user
		values["_wsess_auth"] = cfg.now().UnixMilli()
	}
	sent := ""
	if len(values) > 0 {
		if sent, err = m.Seal(values, 0); err != nil {
			return nil, fmt.Errorf("%w: preloading the session: %w", ErrSession, err)
		}
	}

	rec := httptest.NewRecorder()
	m.Middleware(h).ServeHTTP(rec, withCookie(r, name, sent))
	res := &Result{Recorder: rec}
	left := sent
	for _, ck := range rec.Result().Cookies() {
		if ck.Name != name {
			continue
		}
		if ck.MaxAge < 0 || ck.Value == "" {
			res.Destroyed, left = true, ""
		} else {
			res.Saved, left = true, ck.Value
		}
	}
	// Read the session back through the same middleware.
	capture := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		res.Session = session.From(r.Context())
	})
	m.Middleware(capture).ServeHTTP(httptest.NewRecorder(), withCookie(httptest.NewRequest("GET", "/", nil), name, left))
	if left != "" && res.Session.IsNew() {
		return res, fmt.Errorf("%w: the session the handler left cannot be read back", ErrSession)
	}
	return res, nil
}

// ErrSession is what Serve's errors wrap.
var ErrSession = errors.New("sessiontest: cannot prepare or read the session")

// withCookie returns a copy of r that carries only the session cookie
// value (none when value is ""), besides r's other cookies.
func withCookie(r *http.Request, name, value string) *http.Request {
	r = r.Clone(r.Context())
	if value != "" {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	return r
}
