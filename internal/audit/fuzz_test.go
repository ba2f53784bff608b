package audit

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseHeaders: whatever is pasted, the header audit neither panics
// nor repeats more than it was given, and a report it returns is never
// empty.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{
		"Set-Cookie: a=1; Path=/; HttpOnly",
		"HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nSet-Cookie: __Host-s=v; Path=/; Secure\r\n",
		`wpp_session_data_myapp="04:8D=="; expires=Sat, 17 May 2025 14:45:30 GMT; Path=/`,
		"s=v; SameSite=None; Max-Age=-1; Domain=..; Expires=garbage",
		":::\n=\n;;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, _ := ParseHeaders(in)
		if len(h.Values("Set-Cookie")) > strings.Count(in, "\n")+1 {
			t.Fatalf("more Set-Cookie lines than input lines")
		}
		r, err := Headers(h, HeaderOptions{CacheControl: true, Host: "example.com", Now: func() time.Time { return now }})
		if err == nil && len(r.Findings) == 0 {
			t.Fatal("a report without findings")
		}
	})
}

// FuzzCookie: any cookie input is audited or refused with an error, never
// a panic.
func FuzzCookie(f *testing.F) {
	for _, s := range []string{
		"w1.AAAA", "0123456789abcdef0123456789abcdef:AAAAAAAAAAA=", "YQ==:YQ==:YQ==", "a=1; b=w1.x", "Cookie: x=\"a:b:c\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Cookie(in, CookieOptions{Now: func() time.Time { return now }})
		if err == nil && len(r.Findings) == 0 {
			t.Fatal("a report without findings")
		}
	})
}
