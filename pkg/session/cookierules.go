package session

import (
	"fmt"
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

// markPrivate adds "Cache-Control: private" to a response that sets a
// session cookie when the handler chose no Cache-Control: a shared cache
// (a CDN, a proxy) must not store a response carrying one user's session
// and hand it, Set-Cookie included, to others. A handler's own
// Cache-Control stands.
// The header's one-element slice is slot (kept in the Session, as for the
// cookie), which saves an allocation per response.
func markPrivate(h http.Header, cookiesBefore int, slot *[1]string) {
	if len(h["Set-Cookie"]) > cookiesBefore && len(h["Cache-Control"]) == 0 {
		slot[0] = "private"
		h["Cache-Control"] = slot[:1:1]
	}
}
