package audit

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HeaderOptions say how to audit a response's headers.
type HeaderOptions struct {
	// Name audits only the cookies of this name. Default: every cookie.
	Name string
	// AbsoluteTimeout is the app's absolute session lifetime, which a
	// cookie's Max-Age (or Expires) must not exceed. Default
	// DefaultAbsoluteTimeout (24 h).
	AbsoluteTimeout time.Duration
	// Host is the host the response came from, when known: a Domain
	// attribute must domain-match it. Default "" (not checked).
	Host string
	// CacheControl says whether the response's Cache-Control is judged:
	// true for a whole response, false for Set-Cookie lines alone.
	CacheControl bool
	// Now is the time an Expires attribute counts from when the response
	// has no Date header. Default time.Now.
	Now func() time.Time
}

// Headers audits the Set-Cookie headers of a response (h["Set-Cookie"]),
// and its Cache-Control when opts.CacheControl is set. Each cookie gets
// the checks httponly, secure, prefix, samesite, lifetime, domain and
// size; the response gets cache-control. The error is ErrNoSetCookie when
// there is nothing to audit.
func Headers(h http.Header, opts HeaderOptions) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	at := now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		at = d
	}
	absolute := opts.AbsoluteTimeout
	if absolute <= 0 {
		absolute = DefaultAbsoluteTimeout
	}
	r := &Report{}
	n := 0
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || opts.Name != "" && c.Name != opts.Name {
			continue
		}
		n++
		cookieFindings(r, c, line, absolute, opts.Host, at)
	}
	if n == 0 {
		return nil, ErrNoSetCookie
	}
	if opts.CacheControl {
		cacheFinding(r, h.Values("Cache-Control"))
	}
	return r, nil
}

func cookieFindings(r *Report, c *http.Cookie, line string, absolute time.Duration, host string, at time.Time) {
	s := c.Name
	if c.HttpOnly {
		r.add(s, "httponly", Pass, asvsHTTPOnly, "HttpOnly: scripts cannot read it")
	} else {
		r.add(s, "httponly", Fail, asvsHTTPOnly, "no HttpOnly: any script on the page can read it (document.cookie), so one XSS steals the session")
	}
	if c.Secure {
		r.add(s, "secure", Pass, asvsSecure, "Secure: sent over HTTPS only")
	} else {
		r.add(s, "secure", Fail, asvsSecure, "no Secure: the browser also sends it over plain HTTP, where anyone on the path reads it")
	}
	prefixFinding(r, c)
	sameSiteFinding(r, c, line)
	lifetimeFinding(r, c, absolute, at)
	domainFinding(r, c, host)
	value := len(c.Value)
	if c.Quoted {
		value += 2
	}
	checkSize(r, s, len(c.Name), value)
}

func prefixFinding(r *Report, c *http.Cookie) {
	s := c.Name
	switch {
	case hasPrefixFold(c.Name, "__Host-"):
		var missing []string
		if !c.Secure {
			missing = append(missing, "Secure")
		}
		if c.Path != "/" {
			missing = append(missing, "Path=/")
		}
		if c.Domain != "" {
			missing = append(missing, "no Domain")
		}
		if len(missing) > 0 {
			r.add(s, "prefix", Fail, asvsSecure+", "+asvsHostPrefix, "__Host- without %s: browsers refuse the cookie", strings.Join(missing, ", "))
			return
		}
		r.add(s, "prefix", Pass, asvsSecure+", "+asvsHostPrefix, "__Host-: Secure, Path=/ and no Domain, so only this host can set or read it")
	case hasPrefixFold(c.Name, "__Secure-"):
		if !c.Secure {
			r.add(s, "prefix", Fail, asvsSecure, "__Secure- without Secure: browsers refuse the cookie")
			return
		}
		r.add(s, "prefix", Warn, asvsHostPrefix, "__Secure-: __Host- would also keep other hosts of the site from setting it, unless it is shared on purpose")
	default:
		r.add(s, "prefix", Warn, asvsSecure+", "+asvsHostPrefix, "no __Host- or __Secure- prefix: a sibling subdomain or a plain-HTTP page can plant a cookie of this name (session fixation)")
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func sameSiteFinding(r *Report, c *http.Cookie, line string) {
	s := c.Name
	switch c.SameSite {
	case http.SameSiteStrictMode:
		r.add(s, "samesite", Pass, asvsSameSite, "SameSite=Strict: never sent on requests from other sites")
	case http.SameSiteLaxMode:
		r.add(s, "samesite", Pass, asvsSameSite, "SameSite=Lax: not sent on other sites' forms (POST) and subrequests; state changes must not use GET")
	case http.SameSiteNoneMode:
		if !c.Secure {
			r.add(s, "samesite", Fail, asvsSameSite, "SameSite=None without Secure: browsers refuse the cookie")
			return
		}
		r.add(s, "samesite", Warn, asvsSameSite, "SameSite=None: sent on every cross-site request; the app needs CSRF protection and a reason to be embedded")
	default:
		what := "no SameSite"
		if strings.Contains(strings.ToLower(line), "samesite") {
			what = "SameSite without a valid value"
		}
		r.add(s, "samesite", Warn, asvsSameSite, "%s: browsers differ (Chrome treats it as Lax, others send it on cross-site requests); set Lax or Strict", what)
	}
}

func lifetimeFinding(r *Report, c *http.Cookie, absolute time.Duration, at time.Time) {
	s := c.Name
	var life time.Duration
	var attr string
	switch {
	case c.MaxAge < 0:
		r.add(s, "lifetime", Pass, asvsAbsolute, "Max-Age=0: the response removes the cookie")
		return
	case c.MaxAge > 0:
		life, attr = time.Duration(c.MaxAge)*time.Second, "Max-Age"
	case !c.Expires.IsZero():
		life, attr = c.Expires.Sub(at), "Expires"
		if life <= 0 {
			r.add(s, "lifetime", Pass, asvsAbsolute, "Expires in the past: the response removes the cookie")
			return
		}
	default:
		r.add(s, "lifetime", Warn, asvsAbsolute, "no Max-Age or Expires: kept until the browser closes (a browser that restores its tabs keeps it longer); only the server can end the session")
		return
	}
	if life > absolute {
		r.add(s, "lifetime", Fail, asvsAbsolute, "%s %s, longer than the absolute lifetime %s: the browser keeps sending it after the session must end", attr, duration(life), duration(absolute))
		return
	}
	r.add(s, "lifetime", Pass, asvsAbsolute, "%s %s, within the absolute lifetime %s", attr, duration(life), duration(absolute))
}

func domainFinding(r *Report, c *http.Cookie, host string) {
	s := c.Name
	d := strings.ToLower(strings.TrimPrefix(c.Domain, "."))
	if d == "" {
		r.add(s, "domain", Pass, asvsHostPrefix, "no Domain: host-only, sent back only to the host that set it")
		return
	}
	if host != "" && !domainMatch(strings.ToLower(host), d) {
		r.add(s, "domain", Fail, asvsHostPrefix, "Domain=%s does not match the host %s: browsers refuse the cookie", d, host)
		return
	}
	r.add(s, "domain", Warn, asvsHostPrefix, "Domain=%s: sent to %s and every subdomain of it; leave Domain out unless the cookie is shared on purpose", d, d)
}

// domainMatch is RFC 6265 5.1.3: host is domain, or a name under it
// (never for an IP address).
func domainMatch(host, domain string) bool {
	if host == domain {
		return true
	}
	return net.ParseIP(host) == nil && strings.HasSuffix(host, "."+domain)
}

// cacheFinding judges a response's Cache-Control (its header lines, in
// order). A response that sets a session cookie must not be stored by a
// shared cache (which would hand the cookie to others) and, for ASVS
// 14.3.2, not by the browser either.
func cacheFinding(r *Report, lines []string) {
	dirs := map[string]string{}
	for _, line := range lines {
		for _, part := range strings.Split(line, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				dirs[k] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	_, noStore := dirs["no-store"]
	_, private := dirs["private"]
	_, noCache := dirs["no-cache"]
	_, public := dirs["public"]
	_, sMaxAge := dirs["s-maxage"]
	shown := strings.Join(lines, ", ")
	switch {
	case noStore:
		r.add("response", "cache-control", Pass, asvsNoStore, "Cache-Control: %s: no cache stores the response", shown)
	case len(lines) == 0:
		r.add("response", "cache-control", Fail, asvsNoStore, "no Cache-Control: a shared cache may store the response and hand its Set-Cookie to others; send no-store")
	case public || sMaxAge && !private:
		r.add("response", "cache-control", Fail, asvsNoStore, "Cache-Control: %s: shared caches may store the response with its Set-Cookie; send no-store", shown)
	case private || noCache:
		r.add("response", "cache-control", Warn, asvsNoStore, "Cache-Control: %s: shared caches keep nothing, but the browser may store the page; send no-store for pages with session data", shown)
	default:
		if ma, err := strconv.Atoi(dirs["max-age"]); err == nil && ma <= 0 {
			r.add("response", "cache-control", Warn, asvsNoStore, "Cache-Control: %s: stale at once, but a cache may still store it; send no-store", shown)
			return
		}
		r.add("response", "cache-control", Fail, asvsNoStore, "Cache-Control: %s: caches may store the response with its Set-Cookie; send no-store", shown)
	}
}

// ParseHeaders reads what a user pastes for a Set-Cookie audit: one or more
// "Set-Cookie: ..." lines, bare "name=value; attributes" lines, or a whole
// response head as curl -i or -D prints it (a status line, then header
// lines). It returns the headers (bare lines as Set-Cookie) and whether the
// input was a whole response (a status line, or a header other than
// Set-Cookie), whose Cache-Control is then worth judging.
func ParseHeaders(text string) (h http.Header, response bool) {
	h = http.Header{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "HTTP/") {
			response = true
			continue
		}
		colon, eq := strings.IndexByte(line, ':'), strings.IndexByte(line, '=')
		if colon > 0 && (eq < 0 || colon < eq) && isToken(line[:colon]) {
			name := http.CanonicalHeaderKey(line[:colon])
			if name != "Set-Cookie" {
				response = true
			}
			h.Add(name, strings.TrimSpace(line[colon+1:]))
			continue
		}
		h.Add("Set-Cookie", line)
	}
	return h, response
}

func isToken(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return s != ""
}
