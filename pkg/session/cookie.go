package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/pycookie"
)

// Cookie format, version 1:
//
//	"w1." base64url-nopad( nonce[12] || AES-256-GCM( header || payload ) )
//	header = expiry[8]                                   (before creation times)
//	       | (expiry | 1<<63)[8] || created[8]            (since)
//
// The GCM key is HKDF-SHA256(secret, info="wsess cookie v1 aes-256-gcm"),
// derived once per secret. expiry is the big-endian Unix second after which
// the cookie is refused; created, when the top bit of the expiry word says it
// is there, is the big-endian Unix second the session began (or last logged
// in), from which its absolute lifetime counts; payload is the codec's bytes.
// The associated data is "wsess/v1/" + the cookie name, so a cookie cannot be
// replayed under another name.
//
// A cookie sealed before creation times existed (no flag) still opens; its
// session counts as created when that cookie was issued (its expiry minus
// the session's idle timeout), so it reaches its absolute limit no later
// than one sealed now would. Code that predates the flag reads a flagged
// expiry word as a time long past and refuses such a cookie: a rollback logs
// users out rather than keeping their sessions forever.
const (
	cookieVersion = "w1."
	hkdfInfo      = "wsess cookie v1 aes-256-gcm"
	nonceSize     = 12
	minSecretLen  = 16
	// createdFlag in the expiry word marks a header that carries the
	// creation time.
	createdFlag = uint64(1) << 63
)

// CookieOptions configure a CookieManager.
type CookieOptions struct {
	Options
	// PreviousSecrets are older secrets that still open cookies (key
	// rotation); new cookies are always sealed with the current secret.
	// Default: none.
	PreviousSecrets []string
	// AllowShortSecret accepts secrets shorter than 16 bytes. Default false:
	// NewCookieManager returns ErrShortSecret for them.
	AllowShortSecret bool
	// Format is the cookie format sealed and opened. Default FormatWsess.
	Format CookieFormat
	// Revocations, when set, lets RevokeUser refuse a user's cookies: it
	// keeps one key per revoked user holding a revocation generation that
	// each RevokeUser raises (in Redis, by a script: no app server's clock
	// decides it). A response that commits a Login reads the user's
	// generation (one GET) and seals it in the cookie, under the reserved
	// key "_wsess_gen" that Keys hides, with a random id of the login
	// ("_wsess_lid"); a cookie whose session has a user is refused when the
	// user's generation has risen since, or when its login was ended by
	// Destroy (the logout records the login id's hash in Redis, so a copy
	// of the cookie taken before the logout is refused). So a revocation
	// refuses exactly the logins committed before it, whatever the app
	// servers' clocks say; cookies sealed before generations existed are
	// judged by their login time instead. Requests whose session has a
	// user pay one round trip when loaded (GET and EXISTS, pipelined), a
	// Login one GET when committed, and a Destroy one SET;
	// anonymous requests pay nothing. When a lookup fails the request fails
	// closed: the error handler answers (503 for ErrUnavailable), as for any
	// store outage, and a Login gets no cookie. It needs an absolute
	// lifetime (AbsoluteTimeout must not be negative): a revocation key
	// lives as long as the cookies it guards can, and no longer. Default
	// nil: no revocation.
	Revocations redis.UniversalClient
	// RevocationPrefix prefixes the revocation keys; the rest of the key is
	// HashID(userID), never the raw user id. Default "wsess:revoked:".
	RevocationPrefix string
	// RevocationTimeout bounds the revocation lookup and RevokeUser. Default
	// 1 s.
	RevocationTimeout time.Duration
}

// CookieFormat selects how a CookieManager seals its cookies.
type CookieFormat int

const (
	// FormatWsess is wsess's own format: AES-256-GCM, expiry sealed inside.
	FormatWsess CookieFormat = iota
	// FormatEmmett is the format of Emmett 2.5+ (emmett-core) cookie
	// sessions: "salt:signature:cipher", PBKDF2-SHA256 per cookie, AES-256-CTR,
	// HMAC-SHA256, a pickled sdict inside. With it a Go service and an
	// Emmett app that share the secret and cookie name
	// ("emt_session_data_<app>") share the session. The Codec defaults to
	// PickleCodec; the cookie carries no sealed expiry, so its lifetime is
	// the browser's Max-Age, as in Emmett; an unchanged session is not
	// re-sealed (each seal costs a PBKDF2 derivation).
	FormatEmmett
	// FormatWeppy is the cookie format of weppy (0.x-1.x) and of Emmett up
	// to 2.4 in its "legacy" encryption mode (2.4's default):
	// "hexsignature:data", AES-256-CFB with 8-byte segments keyed by the
	// secret padded with '.', HMAC-MD5, a pickled sdict inside (cookie name
	// "wpp_session_data_<app>" in weppy, "emt_session_data_<app>" in
	// Emmett). The MAC is checked, in constant time, before anything is
	// decrypted. The secret must be shorter than 32 bytes (weppy cannot use
	// a longer one): NewCookieManager returns an error wrapping
	// ErrInvalidOptions otherwise. The Codec defaults to PickleCodec; as
	// with FormatEmmett the cookie carries no sealed expiry and an unchanged
	// session is not re-sealed. The format has no per-cookie randomness:
	// sessions with the same first bytes give the same first bytes of
	// cookie, as in weppy.
	FormatWeppy
)

// String returns "wsess", "emmett" or "weppy".
func (f CookieFormat) String() string {
	switch f {
	case FormatWsess:
		return "wsess"
	case FormatEmmett:
		return "emmett"
	case FormatWeppy:
		return "weppy"
	}
	return fmt.Sprintf("CookieFormat(%d)", int(f))
}

// python reports whether f is a weppy/Emmett format (a pickle in a
// Python-made cookie, no sealed expiry).
func (f CookieFormat) python() bool { return f == FormatEmmett || f == FormatWeppy }

// CookieManager keeps the whole session in an encrypted, authenticated
// cookie, like weppy's SessionCookieManager. The server stores nothing.
//
// Each response that changes the session re-seals the cookie with a fresh
// nonce and the new expiry. An unchanged session is re-sealed only once less
// than half its lifetime is left, so reading costs no encryption while the
// cookie still slides for active users.
type CookieManager struct {
	opts     Options
	format   CookieFormat
	absolute time.Duration // AbsoluteTimeout in force; 0 = none
	revoke   revocations
	secrets  []string      // FormatEmmett and FormatWeppy: the secrets themselves
	aeads    []cipher.AEAD // [0] seals; all open
	aad      []byte
	cookies  cookieWriter
}

// NewCookieManager returns a manager that seals cookies with secret (any
// length; at least 16 bytes unless opts.AllowShortSecret). Keys are derived
// here, once.
func NewCookieManager(secret string, opts CookieOptions) (*CookieManager, error) {
	switch opts.Format {
	case FormatWsess:
	case FormatEmmett, FormatWeppy:
		if opts.Codec == nil {
			opts.Codec = PickleCodec{}
		}
	default:
		return nil, fmt.Errorf("%w: unknown cookie format %d", ErrInvalidOptions, opts.Format)
	}
	if err := opts.normalize(DefaultCookieName); err != nil {
		return nil, err
	}
	secrets := append([]string{secret}, opts.PreviousSecrets...)
	compat, err := compatOfFormat(opts.Compat, opts.Format)
	if err != nil {
		return nil, err
	}
	absolute, err := absoluteFor(opts.AbsoluteTimeout, compat)
	if err != nil {
		return nil, err
	}
	if absolute > 0 && opts.Format != FormatWsess {
		return nil, fmt.Errorf("%w: AbsoluteTimeout needs the wsess cookie format, which seals a creation time; this format carries none", ErrInvalidOptions)
	}
	m := &CookieManager{opts: opts.Options, format: opts.Format, absolute: absolute}
	if m.revoke, err = newRevocations(&opts, absolute); err != nil {
		return nil, err
	}
	if opts.Format.python() {
		m.secrets = secrets
	}
	for i, sec := range secrets {
		if len(sec) < minSecretLen && !opts.AllowShortSecret {
			if i == 0 {
				return nil, fmt.Errorf("%w: the secret has %d bytes; use wsess keygen for a strong one", ErrShortSecret, len(sec))
			}
			return nil, fmt.Errorf("%w: previous secret #%d has %d bytes", ErrShortSecret, i, len(sec))
		}
		if sec == "" {
			return nil, fmt.Errorf("%w: empty secret", ErrShortSecret)
		}
		if opts.Format == FormatWeppy {
			if err := pycookie.CheckWeppySecret(sec); err != nil {
				return nil, fmt.Errorf("%w: secret #%d is 32 bytes or longer, which weppy cannot use: %w", ErrInvalidOptions, i, err)
			}
		}
		aead, err := deriveAEAD(sec)
		if err != nil {
			return nil, err
		}
		m.aeads = append(m.aeads, aead)
	}
	m.aad = []byte("wsess/v1/" + opts.CookieName)
	m.cookies = newCookieWriter(&m.opts)
	return m, nil
}

func deriveAEAD(secret string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("session: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return aead, nil
}

// Middleware loads the session from the request's cookie and commits it
// before the response's first byte. A cookie that fails to open (tampered,
// foreign, expired, sealed under a retired secret) gives a new empty session.
func (m *CookieManager) Middleware(next http.Handler) http.Handler {
	return middleware(m, &m.opts, storeCookie, next)
}

// From returns the session this manager's Middleware put in ctx, even when
// other managers' middleware run inside it. It panics, naming this
// manager, when the request did not go through its Middleware.
func (m *CookieManager) From(ctx context.Context) *Session {
	s := fromOwner(ctx, m)
	if s == nil {
		panic(fmt.Sprintf("session: CookieManager.From found no session of this manager (cookie %q) in the request's context: the handler is not behind its Middleware", m.opts.CookieName))
	}
	return s
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Open decrypts a cookie value sealed by this manager (under the current or
// a previous secret) and returns its values and sealed expiry. It returns an
// error wrapping ErrInvalidCookie when the value is not a wsess cookie, was
// changed, or was sealed under another secret or cookie name, and ErrExpired
// when its expiry has passed.
func (m *CookieManager) Open(value string) (map[string]any, time.Time, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	values, exp, _, err := m.open(value, bp, m.opts.Clock())
	return values, exp, err
}

// open opens a cookie as of now; created is the sealed creation time, zero
// when the cookie carries none.
func (m *CookieManager) open(value string, bp *[]byte, now time.Time) (values map[string]any, exp, created time.Time, err error) {
	if m.format.python() {
		values, exp, err = m.openPython(value)
		return values, exp, time.Time{}, err
	}
	payload, exp, created, err := m.openPayload(value, bp, now)
	if err != nil {
		return nil, exp, created, err
	}
	values, err = m.opts.Codec.Unmarshal(payload)
	if err != nil {
		return nil, exp, created, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	return values, exp, created, nil
}

// openPayload opens a wsess cookie as of now and returns the codec's bytes
// it carries, in *bp.
func (m *CookieManager) openPayload(value string, bp *[]byte, now time.Time) (payload []byte, exp, created time.Time, err error) {
	// 1. Version prefix.
	if !strings.HasPrefix(value, cookieVersion) {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: not a wsess v1 cookie", ErrInvalidCookie)
	}
	enc := value[len(cookieVersion):]
	// 2. Length, before decoding anything.
	if len(enc) > maxCookieSize {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidCookie, maxCookieSize)
	}
	n := base64.RawURLEncoding.DecodedLen(len(enc))
	if cap(*bp) < 2*n {
		*bp = make([]byte, 0, 2*n)
	}
	// 3. Base64.
	raw := (*bp)[:n]
	n, err = base64.RawURLEncoding.Strict().Decode(raw, []byte(enc))
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: bad base64", ErrInvalidCookie)
	}
	raw = raw[:n]
	if len(raw) < nonceSize+8+16 {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: too short", ErrInvalidCookie)
	}
	// 4. Authenticate and decrypt with each secret, current first. GCM's tag
	// check is constant-time.
	// A failed Open clears its output, so decrypt beside the input, not
	// over it: the next secret needs the ciphertext intact.
	nonce, sealed := raw[:nonceSize], raw[nonceSize:]
	out := (*bp)[n:n]
	var plain []byte
	for _, aead := range m.aeads {
		if plain, err = aead.Open(out, nonce, sealed, m.aad); err == nil {
			break
		}
	}
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: authentication failed (tampered, or sealed under another secret or cookie name)", ErrInvalidCookie)
	}
	// 5. Expiry, and the creation time when the header carries one.
	word, body := binary.BigEndian.Uint64(plain[:8]), plain[8:]
	if word&createdFlag != 0 {
		if len(body) < 8 {
			return nil, time.Time{}, time.Time{}, fmt.Errorf("%w: truncated header", ErrInvalidCookie)
		}
		created = time.Unix(int64(binary.BigEndian.Uint64(body[:8])&^createdFlag), 0)
		word, body = word&^createdFlag, body[8:]
	}
	exp = time.Unix(int64(word), 0)
	if !now.Before(exp) {
		return nil, exp, created, fmt.Errorf("%w at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	return body, exp, created, nil
}

// Seal encodes and encrypts values into a cookie value for a session created
// now that expires after expire (the manager's Expire when expire <= 0), or
// at the end of its absolute lifetime when that comes first. It returns an
// error wrapping ErrCookieTooLarge when the cookie would exceed 4096 bytes.
func (m *CookieManager) Seal(values map[string]any, expire time.Duration) (string, error) {
	if expire <= 0 {
		expire = m.opts.Expire
	}
	now := m.opts.Clock()
	created := now.Truncate(time.Second)
	out, err := m.sealAppend(nil, payload{values: values}, now.Add(lifetimeTTL(now, created, expire, m.absolute)), created)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// payload is what a cookie seals: values, or a raw JSON payload and the
// ops to splice into it (Session.raw).
type payload struct {
	values map[string]any
	raw    string
	ops    []op
}

// appendTo appends p's encoding by c.
func (p payload) appendTo(c Codec, b []byte) ([]byte, error) {
	if p.raw != "" {
		return appendSpliced(b, p.raw, p.ops)
	}
	return appendMarshal(c, b, p.values)
}

// sealAppend appends the sealed cookie value to dst, with the session's
// creation time in the header. It returns errNotSpliceable when p's raw
// payload must be decoded first.
func (m *CookieManager) sealAppend(dst []byte, p payload, exp, created time.Time) ([]byte, error) {
	if m.format.python() {
		return m.sealPython(dst, p.values)
	}
	sp := bufPool.Get().(*[]byte)
	defer bufPool.Put(sp)
	aead := m.aeads[0]
	// scratch: nonce | expiry | created | payload, sealed in place after
	// the nonce.
	scratch := (*sp)[:nonceSize+16]
	if _, err := rand.Read(scratch[:nonceSize]); err != nil {
		return dst, fmt.Errorf("session: random nonce: %w", err)
	}
	binary.BigEndian.PutUint64(scratch[nonceSize:], uint64(exp.Unix())|createdFlag)
	binary.BigEndian.PutUint64(scratch[nonceSize+8:], uint64(created.Unix()))
	scratch, err := p.appendTo(m.opts.Codec, scratch)
	if err != nil {
		return dst, err
	}
	plain := scratch[nonceSize:]
	sealed := aead.Seal(plain[:0], scratch[:nonceSize], plain, m.aad)
	raw := scratch[:nonceSize+len(sealed)]
	*sp = raw
	encLen := base64.RawURLEncoding.EncodedLen(len(raw))
	if size := len(m.opts.CookieName) + 1 + len(cookieVersion) + encLen; size > maxCookieSize {
		return dst, fmt.Errorf("%w: %d bytes with the %q cookie name", ErrCookieTooLarge, size, m.opts.CookieName)
	}
	dst = append(dst, cookieVersion...)
	dst = slices.Grow(dst, encLen)
	base64.RawURLEncoding.Encode(dst[len(dst):len(dst)+encLen], raw)
	return dst[:len(dst)+encLen], nil
}

func (m *CookieManager) load(r *http.Request, s *Session) error {
	v, ok := findCookie(r, m.opts.CookieName)
	if !ok {
		return nil
	}
	// One clock read per request: time.Now is a system call on some hosts,
	// and the commit reuses it (Session.readAt).
	now := m.opts.Clock()
	s.readAt = now
	bp := bufPool.Get().(*[]byte)
	var (
		values       map[string]any
		exp, created time.Time
		err          error
	)
	if _, isJSON := m.opts.Codec.(JSONCodec); isJSON && !m.format.python() && m.revoke.client == nil {
		// Checked now, decoded when the handler first needs more than a
		// value or two (Session.raw).
		var body []byte
		body, exp, created, err = m.openPayload(v, bp, now)
		if err == nil {
			if raw := string(body); validJSONObject(raw) {
				s.raw = raw
			} else {
				err = ErrInvalidCookie
			}
		}
	} else {
		values, exp, created, err = m.open(v, bp, now)
		s.values = values
	}
	bufPool.Put(bp)
	if err != nil {
		return nil // tampered, foreign or expired: start afresh
	}
	if m.absolute > 0 {
		if created.IsZero() {
			// Sealed before creation times: created when it was issued.
			created = exp.Add(-s.expireOrLocked(m.opts.Expire))
		}
		if ended(now, created, m.absolute) {
			s.values, s.raw, s.stale = nil, "", true // past its absolute lifetime: never revived
			return nil
		}
	}
	if m.revoke.client != nil {
		revoked, err := m.revoke.refused(context.WithoutCancel(r.Context()), values) // bounded by RevocationTimeout, not by the client
		if err != nil {
			s.values = nil
			return err
		}
		if revoked {
			s.values, s.stale = nil, true
			return nil
		}
		s.login, _ = values[loginKey].(string)
	}
	s.expires, s.created, s.stored = exp, created, true
	return nil
}

func (m *CookieManager) commit(r *http.Request, h http.Header, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.readAt
	if now.IsZero() {
		now = m.opts.Clock()
	}
	if s.destroyed && s.login != "" {
		// The logout ends this login in Redis, so a copy of the cookie
		// taken before it is refused too. If Redis cannot record it, the
		// request fails closed (the cookie is kept, the logout reported
		// as failed) rather than claim a logout that copies survive.
		if err := m.revoke.endLogin(context.WithoutCancel(r.Context()), s.login); err != nil { // bounded by RevocationTimeout
			return err
		}
		s.login = ""
	}
	if s.destroyed && len(s.values) == 0 {
		if s.stored {
			m.cookies.set(h, &s.cookie, "", 0, time.Time{})
		}
		return nil
	}
	if len(s.values) == 0 && !s.stored {
		if s.stale {
			// The cookie named a session that ended (absolute lifetime,
			// revocation): drop it, so the browser stops sending it.
			m.cookies.set(h, &s.cookie, "", 0, time.Time{})
		}
		return nil // a new session that stayed empty sets no cookie
	}
	if s.created.IsZero() {
		s.created = now.Truncate(time.Second)
	}
	idle := s.expireOrLocked(m.opts.Expire)
	expire := lifetimeTTL(now, s.created, idle, m.absolute)
	exp := now.Add(expire)
	if !s.modifiedLocked() && (m.format.python() || s.expires.Sub(now) > idle/2 || !s.expires.Before(exp.Truncate(time.Second))) {
		// Unchanged, and far from expiry or at its absolute limit already:
		// the browser's cookie stands.
		return nil
	}
	maxAge := int64(expire / time.Second)
	if maxAge <= 0 {
		// Less than a second of its absolute lifetime left: it ends now.
		m.cookies.set(h, &s.cookie, "", 0, time.Time{})
		return nil
	}
	if m.revoke.client != nil {
		// After the handler, so after any RevokeUser of this request: a
		// Login here gets the generation that revocation made.
		if err := m.revoke.stamp(context.WithoutCancel(r.Context()), s); err != nil { // bounded by RevocationTimeout
			return err
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	p := payload{values: s.values, raw: s.raw, ops: s.ops}
	buf, err := m.sealAppend(m.cookies.begin((*bp)[:0]), p, exp, s.created)
	if errors.Is(err, errNotSpliceable) {
		buf, err = m.sealAppend(m.cookies.begin((*bp)[:0]), payload{values: s.valuesLocked()}, exp, s.created)
	}
	if err != nil {
		return err
	}
	if !s.persistentLocked() {
		maxAge = browserSession // the server still ends it at exp
	}
	buf = m.cookies.finish(buf, maxAge, exp)
	m.cookies.add(h, &s.cookie, buf)
	*bp = buf
	return nil
}

// openPython opens an Emmett or weppy cookie with each secret in turn.
func (m *CookieManager) openPython(value string) (map[string]any, time.Time, error) {
	if len(value) > maxCookieSize {
		return nil, time.Time{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidCookie, maxCookieSize)
	}
	open := pycookie.OpenEmmett
	if m.format == FormatWeppy {
		open = pycookie.OpenWeppy
	}
	var err error
	for _, secret := range m.secrets {
		var plain []byte
		if plain, err = open(value, secret); err != nil {
			continue
		}
		values, err := m.opts.Codec.Unmarshal(plain)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
		}
		return values, time.Time{}, nil
	}
	return nil, time.Time{}, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
}

// sealPython appends an Emmett or weppy cookie value sealed with the
// current secret.
func (m *CookieManager) sealPython(dst []byte, values map[string]any) ([]byte, error) {
	payload, err := m.opts.Codec.Marshal(values)
	if err != nil {
		return dst, err
	}
	seal := pycookie.SealEmmett
	if m.format == FormatWeppy {
		seal = pycookie.SealWeppy
	}
	value, err := seal(payload, m.secrets[0], 0)
	if err != nil {
		return dst, fmt.Errorf("session: %w", err)
	}
	if size := len(m.opts.CookieName) + 1 + len(value); size > maxCookieSize {
		return dst, fmt.Errorf("%w: %d bytes with the %q cookie name", ErrCookieTooLarge, size, m.opts.CookieName)
	}
	return append(dst, value...), nil
}
