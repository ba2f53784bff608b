package audit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/wellknown"
)

// CookieOptions say how to audit a session cookie.
type CookieOptions struct {
	// Secrets, when given, open the cookie to read the lifetime sealed in
	// a wsess cookie; the audit runs without them. Default none.
	Secrets []string
	// Name picks a cookie from a Cookie header; a bare wsess value is
	// opened under it (default: pkg/session's default cookie name).
	Name string
	// Now judges expiry. Default time.Now.
	Now func() time.Time
}

// Cookie audits a session cookie: raw is a bare value, name=value or a
// whole Cookie header (the first cookie of a known format is audited).
// The checks: the format's cipher, its IV or nonce, its integrity
// protection and key derivation; whether a published secret
// (internal/wellknown) opens it; its idle and absolute lifetime; its size.
// The error is ErrNoCookie, ErrUnknownFormat, or ErrWrongSecret when
// secrets were given and none opens it.
func Cookie(raw string, opts CookieOptions) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	cands := inspect.Candidates(raw, opts.Name)
	if len(cands) == 0 {
		return nil, ErrNoCookie
	}
	c, shape, ok := pick(cands)
	if !ok {
		return nil, ErrUnknownFormat
	}
	subject := c.Name
	if subject == "" {
		subject = "cookie"
	}
	input := c.Value
	if c.Name != "" {
		input = c.Name + "=" + c.Value
	}
	open := func(secrets []string) (*inspect.Session, error) {
		return inspect.DecodeCookie(input, inspect.CookieOptions{Secrets: secrets, Name: opts.Name, Format: shape, Now: now})
	}

	r := &Report{}
	formatFindings(r, subject, shape)

	// A published secret: each is tried alone; a cookie that opens but
	// whose data does not decode has still opened.
	published := wellknown.All()
	var opened *wellknown.Secret
	for i, w := range published {
		if _, err := open([]string{w.Secret}); err == nil || errors.Is(err, inspect.ErrBadPayload) {
			opened = &published[i]
			break
		}
	}
	if opened != nil {
		r.add(subject, "well-known-secret", Fail, asvsSecrets, "opens with a published example secret (%s): anyone can read and forge it; set a strong secret (wsess keygen)", opened.Source)
	} else {
		r.add(subject, "well-known-secret", Pass, asvsSecrets, "none of the %d published example secrets opens it", len(published))
	}

	var s *inspect.Session
	if len(opts.Secrets) > 0 {
		var err error
		s, err = open(opts.Secrets)
		if err != nil && !errors.Is(err, inspect.ErrBadPayload) {
			return nil, fmt.Errorf("%w: %w", ErrWrongSecret, err)
		}
	}
	lifetimeFindings(r, subject, shape, s, now())
	checkSize(r, subject, len(c.Name), len(c.Value))
	return r, nil
}

// pick chooses the cookie to audit: the first candidate that is well
// formed for the format its shape suggests, else the first with a shape.
// Without a key the choice cannot be tried, and base64's '=' makes a bare
// Emmett value look like name=value: the form decides.
func pick(cands []inspect.Candidate) (inspect.Candidate, string, bool) {
	var first *inspect.Candidate
	for i, c := range cands {
		shape := inspect.Shape(c.Value)
		if shape == "" {
			continue
		}
		if wellFormed(shape, c.Value) {
			return c, shape, true
		}
		if first == nil {
			first = &cands[i]
		}
	}
	if first == nil {
		return inspect.Candidate{}, "", false
	}
	return *first, inspect.Shape(first.Value), true
}

var b64 = base64.URLEncoding.Strict()

// wellFormed reports whether value has the form of a cookie of the format
// shape (FORMATS.md): base64 parts of the right lengths.
func wellFormed(shape, value string) bool {
	switch shape {
	case inspect.FormatWsess:
		_, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(value, "w1."))
		return err == nil
	case inspect.FormatEmmett:
		parts := strings.Split(value, ":")
		if len(parts) != 3 {
			return false
		}
		for i, p := range parts {
			b, err := b64.DecodeString(p)
			if err != nil || len(b) == 0 || i == 1 && len(b) != 32 {
				return false
			}
		}
		return true
	case inspect.FormatWeppy:
		_, data, _ := strings.Cut(value, ":")
		b, err := b64.DecodeString(data)
		return err == nil && len(b) > 0 && len(b)%8 == 0
	}
	return false
}

// formatFindings judges the cryptography of a cookie format (see
// ../shared/interop/FORMATS.md and pkg/session/cookie.go).
func formatFindings(r *Report, subject, shape string) {
	switch shape {
	case inspect.FormatWsess:
		r.add(subject, "format", Pass, "", "wsess w1 (pkg/session)")
		r.add(subject, "cipher", Pass, asvsCipher, "AES-256-GCM")
		r.add(subject, "nonce", Pass, asvsNonce, "random 96-bit nonce for every cookie")
		r.add(subject, "integrity", Pass, asvsAuthenticate, "authenticated encryption (GCM), the cookie name bound as associated data")
		r.add(subject, "key-derivation", Pass, asvsKDF, "HKDF-SHA256 from the secret, which must be random (no stretching; see wsess audit key)")
	case inspect.FormatEmmett:
		r.add(subject, "format", Pass, "", "Emmett modern (2.4 opt-in, 2.5 and later, emmett-core)")
		r.add(subject, "cipher", Pass, asvsCipher, "AES-256-CTR")
		r.add(subject, "nonce", Pass, asvsNonce, "counter block derived from a random 256-bit salt for every cookie")
		r.add(subject, "integrity", Pass, asvsAuthenticate+", 11.3.5", "HMAC-SHA256 over the ciphertext (encrypt-then-MAC), checked in constant time")
		r.add(subject, "key-derivation", Warn, asvsKDF, "PBKDF2-SHA256 with 1000 iterations: a captured cookie lets anyone test guesses of the secret fast; use a random secret (wsess keygen)")
	case inspect.FormatWeppy:
		r.add(subject, "format", Pass, "", "weppy / Emmett legacy (weppy 0.x-1.x, Emmett up to 2.4)")
		r.add(subject, "cipher", Warn, asvsCipher, "AES-256-CFB with 8-byte segments (pyaes), a mode no standard library offers")
		r.add(subject, "nonce", Fail, asvsNonce, "the IV is the key's first 16 bytes, the same for every cookie: sessions that start alike encrypt alike")
		r.add(subject, "integrity", Fail, asvsHash, "HMAC-MD5 (MD5 is disallowed for any cryptographic use); move to Emmett's modern format or wsess")
		r.add(subject, "key-derivation", Fail, asvsKDF, "none: the secret padded with '.' is the AES key, so each guess of it costs one HMAC-MD5")
	}
}

// lifetimeFindings judges how long the server accepts the cookie. s is the
// opened session, nil when no secret was given.
func lifetimeFindings(r *Report, subject, shape string, s *inspect.Session, now time.Time) {
	if shape != inspect.FormatWsess {
		r.add(subject, "idle-timeout", Fail, asvsIdle, "no expiry inside the cookie: the server accepts it for ever, only the browser's expiry ends it; move to wsess or keep sessions server-side")
		r.add(subject, "absolute-lifetime", Fail, asvsAbsolute, "no creation time inside the cookie: no absolute lifetime can be enforced")
		return
	}
	if s == nil {
		r.add(subject, "idle-timeout", Pass, asvsIdle, "the format seals an expiry the server enforces (give the key to read it)")
		r.add(subject, "absolute-lifetime", Pass, asvsAbsolute, "the format seals the creation time; the app refuses the cookie past its absolute lifetime (give the key to read it)")
		return
	}
	switch {
	case s.Expires.IsZero():
		r.add(subject, "idle-timeout", Warn, asvsIdle, "the cookie carries no expiry")
	case !now.Before(s.Expires):
		r.add(subject, "idle-timeout", Pass, asvsIdle, "sealed expiry %s, passed %s ago: the app refuses it", stamp(s.Expires), duration(now.Sub(s.Expires)))
	default:
		r.add(subject, "idle-timeout", Pass, asvsIdle, "sealed expiry %s (in %s), enforced by the server", stamp(s.Expires), duration(s.Expires.Sub(now)))
	}
	if s.Created.IsZero() {
		r.add(subject, "absolute-lifetime", Pass, asvsAbsolute, "no creation time sealed (an older cookie): the app counts the absolute lifetime from its expiry minus the idle timeout")
		return
	}
	deadline := s.AbsoluteDeadline
	if deadline.IsZero() {
		deadline = s.Created.Add(DefaultAbsoluteTimeout)
	}
	r.add(subject, "absolute-lifetime", Pass, asvsAbsolute, "created %s, sealed: with the default 24h absolute lifetime the app refuses it after %s", stamp(s.Created), stamp(deadline))
}
