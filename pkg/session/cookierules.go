package session

import (
	"fmt"
	"iter"
	"net/http"
	"strings"
)

// Cookie name prefixes that browsers tie to attributes (RFC 6265bis, section
// 4.1.3). Browsers compare them case-insensitively.
const (
	hostPrefix   = "__Host-"
	securePrefix = "__Secure-"
)

// checkCookiePrefix refuses a cookie name whose prefix promises attributes
// the options do not give: a browser would drop such a cookie silently, and
// every session would be new. It runs on the options as given, before
// defaults (so an empty Path counts as "/").
func checkCookiePrefix(o *Options) error {
	name := o.CookieName
	switch {
	case hasPrefixFold(name, hostPrefix):
		var missing []string
		if !o.Secure {
			missing = append(missing, "set Secure: true")
		}
		if o.Path != "" && o.Path != "/" {
			missing = append(missing, fmt.Sprintf("set Path to \"/\" (not %q)", o.Path))
		}
		if o.Domain != "" {
			missing = append(missing, fmt.Sprintf("remove Domain %q", o.Domain))
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: cookie name %q starts with %q, which browsers accept only with Secure, Path=/ and no Domain: %s (or rename the cookie)",
				ErrInvalidOptions, name, hostPrefix, strings.Join(missing, ", "))
		}
	case hasPrefixFold(name, securePrefix):
		if !o.Secure {
			return fmt.Errorf("%w: cookie name %q starts with %q, which browsers accept only with Secure: set Secure: true (or rename the cookie)",
				ErrInvalidOptions, name, securePrefix)
		}
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// markPrivate keeps a response that sets a session cookie out of shared
// caches (a CDN, a proxy), which must not store one user's session and hand
// it, Set-Cookie included, to others. When the handler set no
// Cache-Control, it sets "private". When the handler's Cache-Control has
// neither "private" nor "no-store", it drops the directives that let a
// shared cache store the response ("public", "s-maxage=N", and a
// "private" qualified by field names, under which a shared cache may
// still store the rest) and puts "private" first, keeping the handler's
// other directives in their order: "public, max-age=60" becomes "private,
// max-age=60". A handler's "private" or "no-store" stands as written, and
// a response that sets no cookie is not touched.
//
// The header's one-element slice is slot (kept in the Session, as for the
// cookie), which saves an allocation per response.
func markPrivate(h http.Header, cookiesBefore int, slot *[1]string) {
	if len(h["Set-Cookie"]) <= cookiesBefore {
		return
	}
	cc := h["Cache-Control"]
	if len(cc) == 0 {
		slot[0] = "private"
		h["Cache-Control"] = slot[:1:1]
		return
	}
	if v, ok := privateCacheControl(cc); ok {
		slot[0] = v
		h["Cache-Control"] = slot[:1:1]
	}
}

// privateCacheControl returns the Cache-Control directives in values (one
// or more header lines) made private, and false when they need no change
// (they hold "no-store" or an unqualified "private").
func privateCacheControl(values []string) (string, bool) {
	for _, v := range values {
		for d := range cacheDirectives(v) {
			name, _, hasArg := strings.Cut(d, "=")
			name = strings.TrimSpace(name)
			if strings.EqualFold(name, "no-store") || strings.EqualFold(name, "private") && !hasArg {
				return "", false
			}
		}
	}
	n := len("private")
	for _, v := range values {
		n += len(", ") + len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString("private")
	for _, v := range values {
		for d := range cacheDirectives(v) {
			name, _, _ := strings.Cut(d, "=")
			if name = strings.TrimSpace(name); strings.EqualFold(name, "public") || strings.EqualFold(name, "s-maxage") || strings.EqualFold(name, "private") {
				continue
			}
			b.WriteString(", ")
			b.WriteString(d)
		}
	}
	return b.String(), true
}

// cacheDirectives yields the directives of one Cache-Control header line,
// trimmed, skipping empty ones. A comma inside a quoted argument
// (no-cache="Set-Cookie, Date") does not split.
func cacheDirectives(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start, quoted := 0, false
		for i := 0; i <= len(v); i++ {
			if i < len(v) {
				switch c := v[i]; {
				case quoted && c == '\\':
					if i+1 < len(v) {
						i++ // the escaped character
					}
					continue
				case c == '"':
					quoted = !quoted
					continue
				case c != ',' || quoted:
					continue
				}
			}
			if d := strings.TrimSpace(v[start:i]); d != "" && !yield(d) {
				return
			}
			start = i + 1
		}
	}
}
