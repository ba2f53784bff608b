package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

// pyCookies returns the weppy and Emmett cookies of the interop vectors.
func pyCookies(t *testing.T) []interop.Vector {
	t.Helper()
	vs, err := interop.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	var out []interop.Vector
	for _, v := range vs {
		if v.IsCookie() {
			out = append(out, v)
		}
	}
	return out
}

// substitute returns a different character that can stand in a cookie at
// the place of c, so the changed cookie keeps its shape.
func substitute(c byte) byte {
	const alphabet = "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ-_=:"
	return alphabet[(strings.IndexByte(alphabet, c)+1)%len(alphabet)]
}

// TestPythonCookiesTamperedOrWrongKey: every weppy and Emmett cookie of the
// interop vectors (made by the real frameworks' code), with one byte
// changed, or with another key, makes "wsess decode" exit 1 with one line
// on stderr and print nothing. The first cookie of each framework has
// every byte changed in turn; the others every 16th byte and the bytes
// around each ':' (each Emmett attempt costs a PBKDF2, and the cipher and
// MAC code is the same for every cookie of a framework). Cookies holding
// pendulum, pytz or zoneinfo dates are in the zoned-dates group.
func TestPythonCookiesTamperedOrWrongKey(t *testing.T) {
	walked := map[string]bool{}
	for i, c := range pyCookies(t) {
		every := walked[c.Framework]
		walked[c.Framework] = true
		name := fmt.Sprintf("%d-%s-%s-%s", i, c.Framework, c.Format, c.Case)
		if c.HasZonedDates() {
			name = "zoned-dates/" + name
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // an Emmett cookie costs a PBKDF2 per attempt
			check := func(what, cookie, key string) {
				t.Helper()
				r := runCLI(t, testEnv{envKey: key}, false, "", "decode", cookie)
				if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "wsess: ") {
					t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit 1 and one line", what, r.Code, r.Stdout, r.Stderr)
				}
				if strings.Contains(r.Stderr, key) {
					t.Fatalf("%s: the key appears in %q", what, r.Stderr)
				}
			}
			if r := runCLI(t, testEnv{envKey: c.Key}, false, "", "decode", c.Cookie); r.Code != 0 {
				t.Fatalf("the untouched cookie: exit %d, %s", r.Code, r.Stderr)
			}
			for pos := 0; pos < len(c.Cookie); pos++ {
				if every && pos%16 != 0 && pos != len(c.Cookie)-1 && !nearColon(c.Cookie, pos) {
					continue
				}
				b := []byte(c.Cookie)
				b[pos] = substitute(b[pos])
				check(fmt.Sprintf("byte %d changed", pos), string(b), c.Key)
			}
			for _, key := range []string{"another-key", c.Key + "x", strings.ToUpper(c.Key)} {
				check("key "+key, c.Cookie, key)
			}
		})
	}
}

// nearColon reports whether s[pos] is a ':' or next to one.
func nearColon(s string, pos int) bool {
	for _, p := range []int{pos - 1, pos, pos + 1} {
		if p >= 0 && p < len(s) && s[p] == ':' {
			return true
		}
	}
	return false
}
