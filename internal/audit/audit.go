// Package audit judges a session setup: a session cookie (its format, its
// cryptography, whether a published secret opens it, its lifetime, its
// size), the Set-Cookie and Cache-Control headers of a response, and a
// secret key. Each judgement is a Finding: pass, warn or fail, with the
// OWASP ASVS 5.0 requirement it comes from. It returns data only; how a
// report is shown is decided by the command (cmd/wsess).
package audit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Verdict is the outcome of one check.
type Verdict string

// The verdicts, from best to worst.
const (
	Pass Verdict = "pass" // meets the requirement
	Warn Verdict = "warn" // meets it in part, or depends on what the app does
	Fail Verdict = "fail" // does not meet it
)

// Errors, tested with errors.Is.
var (
	// ErrNoCookie: the input holds no cookie value.
	ErrNoCookie = errors.New("audit: no cookie in the input")
	// ErrUnknownFormat: no cookie in the input has the shape of a wsess,
	// weppy or Emmett session cookie.
	ErrUnknownFormat = errors.New("audit: not a session cookie in a known format")
	// ErrWrongSecret: secrets were given to read a cookie's lifetime and
	// none opens it.
	ErrWrongSecret = errors.New("audit: no given secret opens the cookie")
	// ErrNoSetCookie: the headers hold no Set-Cookie (or none of the
	// name asked for).
	ErrNoSetCookie = errors.New("audit: no Set-Cookie header")
	// ErrNoSecret: a key audit was given no secret.
	ErrNoSecret = errors.New("audit: no secret given")
)

// ASVS 5.0 requirements the checks cite (OWASP ASVS 5.0.0; the numbering
// of docs/security.md).
const (
	asvsSecure       = "3.3.1"  // Secure attribute; __Secure- unless __Host-
	asvsSameSite     = "3.3.2"  // SameSite set for the cookie's purpose
	asvsHostPrefix   = "3.3.3"  // __Host- unless shared with other hosts
	asvsHTTPOnly     = "3.3.4"  // HttpOnly on a session token
	asvsCookieSize   = "3.3.5"  // name and value at most 4096 bytes
	asvsIdle         = "7.3.1"  // inactivity timeout
	asvsAbsolute     = "7.3.2"  // absolute maximum session lifetime
	asvsKeyPolicy    = "11.1.2" // where each key may be used
	asvsStrength     = "11.2.3" // at least 128 bits of security
	asvsCipher       = "11.3.2" // approved ciphers and modes
	asvsAuthenticate = "11.3.3" // authenticated encryption, or encryption and a MAC
	asvsNonce        = "11.3.4" // no IV or nonce reused with one key
	asvsHash         = "11.4.1" // approved hash functions only (no MD5)
	asvsKDF          = "11.4.4" // key stretching when a key comes from a password
	asvsSecrets      = "13.3.1" // secrets not in source code (nor in published docs)
	asvsNoStore      = "14.3.2" // Cache-Control: no-store on sensitive responses
)

// Finding is one check's outcome.
type Finding struct {
	// Subject is what the check looked at: a cookie's name ("cookie" for a
	// bare value), "response" for a response's headers, "key" or "key N"
	// for a secret.
	Subject string
	// Check names the check: "format", "cipher", "httponly", ...
	Check   string
	Verdict Verdict
	// ASVS lists the ASVS 5.0 requirement ids the check comes from
	// ("3.3.1, 3.3.3").
	ASVS string
	// Detail says what was found and, when it is not a pass, what it
	// means. It never holds a secret.
	Detail string
}

// Report is the findings of one audit, in the order they were made.
type Report struct {
	Findings []Finding
}

func (r *Report) add(subject, check string, v Verdict, asvs, format string, a ...any) {
	r.Findings = append(r.Findings, Finding{Subject: subject, Check: check, Verdict: v, ASVS: asvs, Detail: fmt.Sprintf(format, a...)})
}

// Count returns how many findings have verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, f := range r.Findings {
		if f.Verdict == v {
			n++
		}
	}
	return n
}

// Failed reports whether any finding fails.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 }

// DefaultAbsoluteTimeout is the absolute lifetime a cookie's Max-Age is
// held against when the caller gives none: 24 h, pkg/session's default.
const DefaultAbsoluteTimeout = 24 * time.Hour

// Browser limits on one cookie, name and value together (RFC 6265 6.1
// asks for at least 4096 bytes; browsers keep no more).
const (
	maxCookieBytes  = 4096
	warnCookieBytes = maxCookieBytes * 9 / 10
)

// checkSize judges a cookie's name and value against the browser limit.
func checkSize(r *Report, subject string, nameLen, valueLen int) {
	n := nameLen + valueLen
	what := "name and value"
	if nameLen == 0 {
		what = "the value alone: its name adds to it"
	}
	switch {
	case n > maxCookieBytes:
		r.add(subject, "size", Fail, asvsCookieSize, "%d bytes (%s), over the %d browsers keep: the cookie is dropped", n, what, maxCookieBytes)
	case n > warnCookieBytes:
		r.add(subject, "size", Warn, asvsCookieSize, "%d bytes (%s) of the %d browsers keep: a little more data and it is dropped", n, what, maxCookieBytes)
	default:
		r.add(subject, "size", Pass, asvsCookieSize, "%d bytes (%s) of the %d browsers keep", n, what, maxCookieBytes)
	}
}

// duration is d for people: 45s, 12m05s, 5h07m, 3d04h (the CLI's format).
func duration(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
