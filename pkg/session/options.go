package session

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Default option values.
const (
	// DefaultExpire is weppy's and Emmett's default session lifetime.
	DefaultExpire = 3600 * time.Second
	// DefaultPrefix is weppy's Redis key prefix.
	DefaultPrefix = "wppsess:"
	// DefaultCookieName is the cookie manager's default cookie name.
	DefaultCookieName = "wsess_session_data"
	// DefaultIDCookieName is the Redis manager's default cookie name.
	DefaultIDCookieName = "wsess_session_id"
	// maxCookieSize is the browsers' limit on name + value.
	maxCookieSize = 4096
)

// Options are shared by both managers. The zero value of every field means
// its documented default.
type Options struct {
	// CookieName is the session cookie's name. A name starting with
	// "__Host-" requires Secure, Path "/" and no Domain; one starting with
	// "__Secure-" requires Secure (the browsers' cookie prefix rules, and
	// OWASP ASVS 5.0 V3.3): the constructors refuse anything else with
	// ErrInvalidOptions. Default: DefaultCookieName
	// ("wsess_session_data") for the cookie manager, DefaultIDCookieName
	// ("wsess_session_id") for the Redis manager. weppy apps use
	// "wpp_session_data_<app>", Emmett apps "emt_session_data_<app>".
	CookieName string
	// Path is the cookie's Path attribute. Default "/".
	Path string
	// Domain is the cookie's Domain attribute. Default: none (host-only).
	Domain string
	// Secure adds the Secure attribute (HTTPS only). Default false, as in
	// weppy; set it in production.
	Secure bool
	// DisableHTTPOnly drops the HttpOnly attribute, letting scripts read the
	// cookie. Default false: cookies are HttpOnly.
	DisableHTTPOnly bool
	// SameSite is the cookie's SameSite attribute. Default (zero value)
	// http.SameSiteLaxMode. http.SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// Partitioned adds the Partitioned attribute (CHIPS). Default false.
	Partitioned bool
	// Expire is the session's idle timeout: the cookie's Max-Age and
	// Expires, the expiry sealed in a session cookie, and the sliding TTL of
	// a Redis session (all cut at the absolute lifetime, AbsoluteTimeout).
	// Default DefaultExpire (3600 s). Session.SetExpire overrides it per
	// session.
	Expire time.Duration
	// AbsoluteTimeout is the session's absolute lifetime: however active, a
	// session ends AbsoluteTimeout after it was created (or after its last
	// Session.Login), while Expire is the idle timeout. Default (0):
	// DefaultAbsoluteTimeout (24 h) for wsess's own formats (the wsess
	// cookie; JSONCodec in Redis); none for FormatEmmett cookies and for
	// PickleCodec in Redis, whose Python apps know no creation time (a
	// positive value is refused for FormatEmmett cookies; in Redis it
	// stores "_wsess_created" with the values). A negative value means
	// none. Both managers enforce it: the Redis manager stores the creation
	// time with the session and never lets the key's TTL run past it.
	AbsoluteTimeout time.Duration
	// Codec encodes values. Default JSONCodec{} (PickleCodec{} for the
	// cookie manager's FormatEmmett and FormatWeppy).
	Codec Codec
	// Compat names the apps that share the sessions (CompatWsess: Go
	// services using wsess; CompatPython: weppy or Emmett apps), which
	// decides the defaults that differ between them: hashed Redis ids, the
	// per-user index, the absolute lifetime. Default CompatAuto: the
	// codec's Encoding decides (JSONCodec: CompatWsess, PickleCodec:
	// CompatPython), or the cookie manager's Format; a Redis manager whose
	// codec reports no Encoding must set it.
	Compat Compat
	// ErrorHandler answers a request whose session could not be loaded or
	// committed. Default DefaultErrorHandler: 503 for ErrUnavailable, 500
	// otherwise.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// LateChange, when set, is called once a request has ended if its
	// handler changed the session after the response's first byte (a
	// Write, WriteHeader or Flush): the session is committed just before
	// that byte, so later changes (Set, Delete, Incr, Clear, Destroy,
	// RenewID, Login, SetExpire, reading a Flash) are NOT saved. changes
	// names them: the keys, or "Clear", "Destroy", "RenewID". Default nil:
	// they are dropped silently. Log them, or fail a test, to find such a
	// handler.
	LateChange func(r *http.Request, changes []string)
	// Observer, when set, receives an Event for each load, commit,
	// conflict, retry, combined commit, revocation and store error, for
	// metrics and traces. Default nil: nothing is measured or reported, at
	// no cost.
	Observer Observer
	// Clock returns the current time. Default time.Now. Tests inject it.
	Clock func() time.Time
}

// DefaultErrorHandler answers 503 Service Unavailable when err wraps
// ErrUnavailable and 500 Internal Server Error otherwise. It writes the status
// text only: err may describe the store and is not shown to clients.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrUnavailable) {
		code = http.StatusServiceUnavailable
	}
	http.Error(w, http.StatusText(code), code)
}

// normalize fills in defaults and validates.
func (o *Options) normalize(defaultName string) error {
	if o.CookieName == "" {
		o.CookieName = defaultName
	}
	if !validCookieName(o.CookieName) {
		return fmt.Errorf("%w: cookie name %q has characters a cookie name cannot hold", ErrInvalidOptions, o.CookieName)
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if strings.ContainsAny(o.Path, ";\r\n") || strings.ContainsAny(o.Domain, "; \r\n") {
		return fmt.Errorf("%w: cookie path or domain contains ';', space or a line break", ErrInvalidOptions)
	}
	if err := checkCookiePrefix(o); err != nil {
		return err
	}
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.SameSite == http.SameSiteNoneMode && !o.Secure {
		return fmt.Errorf("%w: SameSite=None requires Secure", ErrInvalidOptions)
	}
	if o.Expire == 0 {
		o.Expire = DefaultExpire
	}
	if o.Expire < time.Second {
		return fmt.Errorf("%w: Expire %v is shorter than one second", ErrInvalidOptions, o.Expire)
	}
	if o.Codec == nil {
		o.Codec = JSONCodec{}
	}
	if o.ErrorHandler == nil {
		o.ErrorHandler = DefaultErrorHandler
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return nil
}

func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// cookieWriter builds Set-Cookie header values with the attributes that do
// not change between responses rendered once.
type cookieWriter struct {
	name   string
	suffix string // "; Path=/; HttpOnly; SameSite=Lax" ...
	// expires caches the last Expires attribute rendered: formatting a
	// time costs more than the rest of the header, and within one second
	// every response carries the same one.
	expires *atomic.Pointer[expiresText]
}

type expiresText struct {
	unix int64
	text []byte
}

func newCookieWriter(o *Options) cookieWriter {
	var b strings.Builder
	b.WriteString("; Path=")
	b.WriteString(o.Path)
	if o.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(strings.TrimPrefix(o.Domain, "."))
	}
	if !o.DisableHTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if o.Secure {
		b.WriteString("; Secure")
	}
	switch o.SameSite {
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	}
	if o.Partitioned {
		b.WriteString("; Partitioned")
	}
	return cookieWriter{name: o.CookieName, suffix: b.String(), expires: new(atomic.Pointer[expiresText])}
}

// set adds a Set-Cookie header for value that expires at expires (now +
// maxAge seconds). maxAge browserSession sets a cookie that ends with the
// browser; any other maxAge <= 0 deletes the cookie.
func (c *cookieWriter) set(h http.Header, slot *[1]string, value string, maxAge int64, expires time.Time) {
	bp := bufPool.Get().(*[]byte)
	buf := append(c.begin((*bp)[:0]), value...)
	buf = c.finish(buf, maxAge, expires)
	c.add(h, slot, buf)
	*bp = buf
	bufPool.Put(bp)
}

// begin appends "name=" to buf; the value follows.
func (c *cookieWriter) begin(buf []byte) []byte {
	buf = append(buf, c.name...)
	return append(buf, '=')
}

// browserSession, as finish's maxAge, asks for a cookie without Max-Age
// and Expires: one the browser drops when it closes.
const browserSession = -1 << 63

// finish appends the attributes after the value. maxAge browserSession
// writes neither Max-Age nor Expires.
func (c *cookieWriter) finish(buf []byte, maxAge int64, expires time.Time) []byte {
	if maxAge == browserSession {
		return append(buf, c.suffix...)
	}
	buf = append(buf, "; Max-Age="...)
	if maxAge <= 0 {
		buf = append(buf, '0')
		buf = append(buf, "; Expires=Thu, 01 Jan 1970 00:00:00 GMT"...)
	} else {
		buf = strconv.AppendInt(buf, maxAge, 10)
		buf = append(buf, "; Expires="...)
		sec := expires.Unix()
		if e := c.expires.Load(); e != nil && e.unix == sec {
			buf = append(buf, e.text...)
		} else {
			text := expires.UTC().AppendFormat(nil, http.TimeFormat)
			c.expires.Store(&expiresText{unix: sec, text: text})
			buf = append(buf, text...)
		}
	}
	return append(buf, c.suffix...)
}

// add sets the built cookie as a Set-Cookie header. When the response has
// none yet, the header's one-element slice is slot (kept in the Session),
// which saves an allocation per response.
func (c *cookieWriter) add(h http.Header, slot *[1]string, buf []byte) {
	if len(h["Set-Cookie"]) == 0 {
		slot[0] = string(buf)
		h["Set-Cookie"] = slot[:1:1]
		return
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], string(buf))
}

// findCookie returns the value of the first cookie called name in the
// request's Cookie headers, without parsing the others.
func findCookie(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t")
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				v := strings.TrimRight(part[len(name)+1:], " \t")
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}
