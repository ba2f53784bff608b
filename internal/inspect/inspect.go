// Package inspect turns stored session bytes into a readable session: it
// recognises the format (a wsess cookie, a weppy or Emmett cookie, a Redis
// value in JSON or pickle), decrypts and decodes it, and converts the values to
// plain JSON values. It returns data only: how a session is shown (on a
// terminal, to a pipe, as JSON) is decided by the command (cmd/wsess).
package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/wellknown"
	"github.com/wsess/wsess/pkg/session"
)

// Formats a Session can have.
const (
	FormatWsess  = "wsess"  // a pkg/session cookie
	FormatWeppy  = "weppy"  // weppy / Emmett < 2.5 cookie
	FormatEmmett = "emmett" // Emmett 2.5+ cookie
	FormatJSON   = "json"   // a stored value written by pkg/session's JSON codec
	FormatPickle = "pickle" // a stored value written by weppy or Emmett
)

// Errors, tested with errors.Is.
var (
	// ErrNoCookie: the input holds no cookie value at all.
	ErrNoCookie = errors.New("inspect: no cookie in the input")
	// ErrUnknownFormat: no cookie in the input has the shape of a known format.
	ErrUnknownFormat = errors.New("inspect: not a session cookie in a known format")
	// ErrNoSecret: a cookie needs a secret and none was given.
	ErrNoSecret = errors.New("inspect: no secret given")
	// ErrWrongSecret: the format was recognised but no secret opens the
	// cookie (wrong secret, wrong cookie name for wsess, or a tampered cookie).
	ErrWrongSecret = errors.New("inspect: cannot open the cookie: wrong secret, or the cookie was tampered with")
	// ErrBadPayload: the cookie opened, or the value was read, but what is
	// inside cannot be decoded.
	ErrBadPayload = errors.New("inspect: cannot decode the session data")
)

// Session is a decoded session, whatever it was stored as.
//
// The keys the library keeps with the values ("_wsess_created",
// "_wsess_auth", "_wsess_user", "_wsess_gen", "_expires_after") are taken
// out of Data into the fields below when their values have the expected
// type; Data holds the app's own keys.
type Session struct {
	Format string         // one of the Format constants
	Name   string         // the cookie name, when known
	Data   map[string]any // the app's values, converted by ToJSON with bytes as {"$bytes": base64}
	Size   int            // bytes of the stored value (the cookie value alone, without its name)
	// Expires is the idle deadline: the cookie's sealed expiry (or, set by
	// the caller, a Redis key's TTL); zero when the format does not say.
	Expires time.Time
	// Created is when the session began (or its last Login): a wsess
	// cookie's sealed creation time, else "_wsess_created"; zero when
	// unknown.
	Created time.Time
	// AuthTime is when Login bound the user ("_wsess_auth"); zero if none.
	AuthTime time.Time
	// User is the user id Login bound ("_wsess_user"); "" if none.
	User string
	// Generation is the revocation generation ("_wsess_gen"); nil if none.
	Generation *int64
	// LoginID is the random id of the Login, which a logout ends in Redis
	// ("_wsess_lid", cookies sealed with revocations on); "" if none.
	LoginID string
	// BrowserSession is true when the app chose a cookie that ends with
	// the browser (Session.SetPersistent(false): "_wsess_persist" 0).
	BrowserSession bool
	// IdleTimeout is the per-session idle timeout override
	// ("_expires_after", as weppy and Session.SetExpire store it); 0 if none.
	IdleTimeout time.Duration
	// AbsoluteDeadline is Created plus the absolute lifetime, for wsess's
	// own formats (the wsess cookie, JSON values) whose creation time is
	// known; zero otherwise. AbsoluteAssumed says it assumes the default
	// lifetime (session.DefaultAbsoluteTimeout, 24 h): the stored session
	// does not say what the app configured.
	AbsoluteDeadline time.Time
	AbsoluteAssumed  bool
	Warnings         []string // things the reader should know (weak secret, expired)
}

// CookieOptions say how to open a cookie.
type CookieOptions struct {
	Secrets []string // every secret is tried, in order
	// Name picks a cookie from a Cookie header, and is the name a bare wsess
	// value was sealed under (its associated data); default
	// session.DefaultCookieName.
	Name string
	// Format limits the attempt to one format ("wsess", "weppy", "emmett");
	// "" or "auto" tries each format whose shape matches.
	Format string
	// Now judges expiry (default time.Now). Expired wsess cookies are still
	// shown, with a warning.
	Now func() time.Time
	// Limits bound the pickle decoder (zero: pickle.DefaultLimits).
	Limits pickle.Limits
}

// IsWellKnownSecret reports whether s is a secret published in docs or
// examples (internal/wellknown).
func IsWellKnownSecret(s string) bool {
	_, ok := wellknown.Lookup(s)
	return ok
}

const weakSecretWarning = "the cookie opened with a well-known example secret: anyone can read and forge it; set a strong secret (wsess keygen)"

// Candidate is one way to read cookie input: a name (empty for a bare
// value) and a value.
type Candidate struct {
	Name, Value string
}

// Candidates reads raw as a bare value, name=value, or a whole Cookie
// header (with or without "Cookie:"), and returns what to try. With name
// set, only cookies of that name (and a bare value) are returned.
func Candidates(raw, name string) []Candidate {
	s := strings.TrimSpace(raw)
	if h, rest, ok := strings.Cut(s, ":"); ok && strings.EqualFold(strings.TrimSpace(h), "cookie") {
		s = strings.TrimSpace(rest)
	}
	var out []Candidate
	seen := map[Candidate]bool{}
	add := func(c Candidate) {
		if c.Value != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		n, v, ok := strings.Cut(part, "=")
		if !ok || !isToken(n) {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if name == "" || n == name {
			add(Candidate{Name: n, Value: v})
		}
	}
	// The whole input may also be a bare value (base64 padding has '=').
	if !strings.Contains(s, ";") && !strings.ContainsAny(s, " \t") {
		add(Candidate{Value: strings.Trim(s, `"`)})
	}
	return out
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// Shape guesses the format of a cookie value from its shape alone: "wsess",
// "weppy", "emmett" or "".
func Shape(value string) string {
	switch {
	case strings.HasPrefix(value, "w1."):
		return FormatWsess
	case strings.Count(value, ":") == 2:
		return FormatEmmett
	case strings.Count(value, ":") >= 1 && len(value) > 33 && value[32] == ':' && isHex(value[:32]):
		return FormatWeppy
	}
	return ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// DecodeCookie opens a session cookie. raw is a bare value, name=value or a
// whole Cookie header; each cookie in it whose shape matches a format
// (restricted by opts.Format) is tried with each secret.
func DecodeCookie(raw string, opts CookieOptions) (*Session, error) {
	format := opts.Format
	if format == "auto" {
		format = ""
	}
	switch format {
	case "", FormatWsess, FormatWeppy, FormatEmmett:
	default:
		return nil, fmt.Errorf("inspect: unknown cookie format %q (want wsess, weppy or emmett)", format)
	}
	cands := Candidates(raw, opts.Name)
	if len(cands) == 0 {
		return nil, ErrNoCookie
	}
	var firstErr error
	matched := false
	for _, c := range cands {
		shape := Shape(c.Value)
		if shape == "" || (format != "" && shape != format) {
			continue
		}
		matched = true
		if len(opts.Secrets) == 0 {
			return nil, ErrNoSecret
		}
		s, err := openCandidate(c, shape, opts)
		if err == nil {
			return s, nil
		}
		// Keep the most telling error: a payload that opened but did not
		// decode, then a wrong secret, then a value that only looked right.
		if firstErr == nil || errRank(err) > errRank(firstErr) {
			firstErr = err
		}
	}
	if !matched {
		return nil, ErrUnknownFormat
	}
	return nil, firstErr
}

func errRank(err error) int {
	switch {
	case errors.Is(err, ErrBadPayload):
		return 3
	case errors.Is(err, ErrWrongSecret):
		return 2
	}
	return 1
}

func openCandidate(c Candidate, shape string, opts CookieOptions) (*Session, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	s := &Session{Format: shape, Name: c.Name, Size: len(c.Value)}
	for _, secret := range opts.Secrets {
		var data map[string]any
		var err error
		switch shape {
		case FormatWsess:
			data, err = openWsess(c, secret, opts, s)
		case FormatWeppy, FormatEmmett:
			var pk []byte
			if shape == FormatWeppy {
				pk, err = pycookie.OpenWeppy(c.Value, secret)
			} else {
				pk, err = pycookie.OpenEmmett(c.Value, secret)
			}
			if errors.Is(err, pycookie.ErrBadSignature) || errors.Is(err, pycookie.ErrUnusableSecret) {
				continue
			}
			if errors.Is(err, pycookie.ErrMalformed) {
				return nil, fmt.Errorf("%w: %w", ErrUnknownFormat, err)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
			}
			data, err = pickle.Decoder{Limits: opts.Limits}.DecodeMap(pk)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
			}
		}
		if errors.Is(err, errTryNext) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Data = toJSONMap(data)
		s.takeReserved()
		if IsWellKnownSecret(secret) {
			s.Warnings = append(s.Warnings, weakSecretWarning)
		}
		if !s.Expires.IsZero() && !now().Before(s.Expires) {
			s.Warnings = append(s.Warnings, "the cookie expired at "+s.Expires.UTC().Format(time.RFC3339)+"; the app no longer accepts it")
		}
		return s, nil
	}
	return nil, ErrWrongSecret
}

var errTryNext = errors.New("try the next secret")

// openWsess opens a pkg/session cookie with one secret, and reads the
// creation time sealed in its header into s.Created. The manager's clock
// is pinned to the Unix epoch so an expired cookie still opens; the caller
// warns about it.
func openWsess(c Candidate, secret string, opts CookieOptions, s *Session) (map[string]any, error) {
	name := c.Name
	if name == "" {
		name = opts.Name
	}
	if name == "" {
		name = session.DefaultCookieName
	}
	s.Name = name
	mgr, err := session.NewCookieManager(secret, session.CookieOptions{
		AllowShortSecret: true,
		Options: session.Options{
			CookieName: name,
			Clock:      func() time.Time { return time.Unix(0, 0) },
			// No absolute lifetime: a session past it still opens.
			AbsoluteTimeout: -1,
		},
	})
	if err != nil {
		return nil, errTryNext
	}
	data, exp, err := mgr.Open(c.Value)
	if err != nil {
		if errors.Is(err, session.ErrInvalidCookie) {
			return nil, errTryNext
		}
		return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	s.Expires = exp
	s.Created = sealedCreated(mgr, name, c.Value)
	return data, nil
}

// sealedCreated is the creation time sealed in a wsess cookie's header
// (zero when it carries none), read the only way pkg/session tells it: by
// loading the cookie in a request through the manager's middleware.
func sealedCreated(mgr *session.CookieManager, name, value string) time.Time {
	r, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		return time.Time{}
	}
	r.Header.Set("Cookie", name+"="+value)
	var created time.Time
	mgr.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		created = mgr.From(r.Context()).Created()
	})).ServeHTTP(discardWriter{}, r)
	if created.IsZero() {
		return created
	}
	return created.UTC()
}

// discardWriter is an http.ResponseWriter that keeps nothing.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// DecodeValue decodes a stored session value (a Redis value): "json" as
// written by pkg/session's JSON codec, "pickle" as written by weppy and
// Emmett, or "" / "auto" to tell them apart by content.
func DecodeValue(b []byte, format string) (*Session, error) {
	return Decoder{}.DecodeValue(b, format)
}

// Decoder decodes stored values with limits on the pickle decoder.
type Decoder struct {
	Limits pickle.Limits
}

// DecodeValue is the function DecodeValue with d's limits.
func (d Decoder) DecodeValue(b []byte, format string) (*Session, error) {
	if format == "" || format == "auto" {
		format = FormatPickle
		if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
			format = FormatJSON
		}
	}
	var data map[string]any
	var err error
	switch format {
	case FormatJSON:
		data, err = session.JSONCodec{}.Unmarshal(b)
	case FormatPickle:
		data, err = pickle.Decoder{Limits: d.Limits}.DecodeMap(b)
	default:
		return nil, fmt.Errorf("inspect: unknown value format %q (want json or pickle)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%w as %s: %w", ErrBadPayload, format, err)
	}
	s := &Session{Format: format, Data: toJSONMap(data), Size: len(b)}
	s.takeReserved()
	return s, nil
}
