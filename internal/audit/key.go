package audit

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/wellknown"
)

// The cookie formats a key may be used with (KeyOptions.Formats).
const (
	FormatWsess  = "wsess"
	FormatWeppy  = "weppy"
	FormatEmmett = "emmett"
)

// KeyOptions say how to audit secret keys.
type KeyOptions struct {
	// Formats are the cookie formats the keys are used with: "wsess",
	// "weppy" (weppy and Emmett's legacy mode), "emmett" (Emmett's modern
	// mode). Default: wsess alone.
	Formats []string
}

// minWsessSecret is the shortest secret pkg/session accepts without
// AllowShortSecret.
const minWsessSecret = 16

// Keys audits secret keys (a key file's lines, first the current one):
// for each, its length for the formats it serves, an estimate of its
// strength, whether it is a published secret, and its reuse (across
// formats, and a key listed twice). Findings never hold a secret. The
// error is ErrNoSecret for no keys.
func Keys(secrets []string, opts KeyOptions) (*Report, error) {
	if len(secrets) == 0 {
		return nil, ErrNoSecret
	}
	formats := opts.Formats
	if len(formats) == 0 {
		formats = []string{FormatWsess}
	}
	r := &Report{}
	for i, secret := range secrets {
		subject := "key"
		if len(secrets) > 1 {
			subject = fmt.Sprintf("key %d", i+1)
		}
		lengthFinding(r, subject, secret, formats)
		bits := EstimateBits(secret)
		switch {
		case bits >= 128:
			r.add(subject, "strength", Pass, asvsStrength, "about %d bits (estimated from its length and the characters it uses)", bits)
		case bits >= 80:
			r.add(subject, "strength", Warn, asvsStrength, "about %d bits, under the 128 asked for (estimated from its length and characters); make one with wsess keygen", bits)
		default:
			r.add(subject, "strength", Fail, asvsStrength, "about %d bits, far under the 128 asked for: guessable offline from one cookie; make one with wsess keygen", bits)
		}
		if w, ok := wellknown.Lookup(secret); ok {
			r.add(subject, "well-known-secret", Fail, asvsSecrets, "a published example secret (%s): anyone can read and forge the cookies", w.Source)
		} else {
			r.add(subject, "well-known-secret", Pass, asvsSecrets, "not one of the %d published example secrets", len(wellknown.All()))
		}
		reuseFinding(r, subject, formats, slices.Index(secrets[:i], secret))
	}
	return r, nil
}

func lengthFinding(r *Report, subject, secret string, formats []string) {
	n := len(secret)
	var fails []string
	if slices.Contains(formats, FormatWsess) && n < minWsessSecret {
		fails = append(fails, fmt.Sprintf("wsess refuses secrets under %d bytes (unless AllowShortSecret)", minWsessSecret))
	}
	if slices.Contains(formats, FormatWeppy) && pycookie.CheckWeppySecret(secret) != nil {
		fails = append(fails, "weppy cannot use a secret of 32 bytes or more: every request fails")
	}
	if len(fails) > 0 {
		r.add(subject, "length", Fail, asvsStrength, "%d bytes: %s", n, strings.Join(fails, "; "))
		return
	}
	r.add(subject, "length", Pass, asvsStrength, "%d bytes", n)
}

func reuseFinding(r *Report, subject string, formats []string, earlier int) {
	if earlier >= 0 {
		r.add(subject, "reuse", Warn, asvsKeyPolicy, "the same as key %d: listed twice", earlier+1)
		return
	}
	if len(formats) < 2 {
		r.add(subject, "reuse", Pass, asvsKeyPolicy, "used with one format (%s)", formats[0])
		return
	}
	list := strings.Join(formats, ", ")
	if slices.Contains(formats, FormatWeppy) {
		r.add(subject, "reuse", Fail, asvsKeyPolicy, "one secret for %s: weppy's format uses it as the AES key with a fixed IV and HMAC-MD5, so a secret guessed from a weppy cookie opens the others' too; give each format its own secret", list)
		return
	}
	r.add(subject, "reuse", Warn, asvsKeyPolicy, "one secret for %s: a weakness in one format exposes the others; give each format its own secret", list)
}

// EstimateBits is a rough estimate of the entropy of secret, in bits: its
// length in characters times the smaller of log2 of the alphabet it draws
// from (lower case, upper case, digits, ASCII symbols, other characters)
// and the Shannon entropy of its characters (which catches repetition).
// It overrates a word or a pattern: a published or dictionary secret is
// weaker than this says. wsess keygen's 43 base64url characters give
// about 200.
func EstimateBits(secret string) int {
	n := utf8.RuneCountInString(secret)
	if n == 0 {
		return 0
	}
	var lower, upper, digit, symbol, other bool
	counts := map[rune]int{}
	for _, c := range secret {
		counts[c]++
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case c < utf8.RuneSelf && unicode.IsPrint(c):
			symbol = true
		default:
			other = true
		}
	}
	pool := 0
	for _, p := range []struct {
		on   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 33}, {other, 100}} {
		if p.on {
			pool += p.size
		}
	}
	shannon := 0.0
	for _, k := range counts {
		p := float64(k) / float64(n)
		shannon -= p * math.Log2(p)
	}
	return int(float64(n) * math.Min(math.Log2(float64(pool)), shannon))
}
