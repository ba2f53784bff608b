package session

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzOpenCookie feeds arbitrary cookie values to the decoder: it must never
// panic, and whatever it accepts must be a cookie this manager sealed.
func FuzzOpenCookie(f *testing.F) {
	m, err := NewCookieManager("fuzzing-secret-0123456789", CookieOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range []map[string]any{{}, {"counter": 1}, {"user": "ann", "n": []any{1, "x"}}} {
		c, err := m.Seal(v, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
	}
	f.Add("w1.")
	f.Add("w1.AAAA")
	f.Add("w1." + strings.Repeat("A", 5000))
	f.Add("34bb1a333393c238d3c3d5d8a65872e6:Z5pdRyMrRxp_b3gMzb2BtYVeU_KOkpYdKB9o63vCtb0VM8YecCj17DT0IlrOSSj5uGULf9heBI22dllopervrQ==")
	f.Fuzz(func(t *testing.T, value string) {
		values, _, err := m.Open(value)
		if err != nil {
			if values != nil {
				t.Fatalf("values returned with error %v", err)
			}
			return
		}
		if values == nil {
			t.Fatal("nil values without an error")
		}
		// Only a sealed cookie opens; re-sealing what opened must work.
		if _, err := m.Seal(values, 0); err != nil {
			t.Fatalf("re-seal: %v", err)
		}
	})
}

// FuzzValidID checks the id filter: anything it accepts is 43 base64url
// characters or a lowercase UUID4, so it is safe to put in a Redis key.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{newID(), "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10", "abc*", "", strings.Repeat("A", 43), "\x00\n*?[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidID(id) {
			return
		}
		if len(id) != 43 && len(id) != 36 {
			t.Fatalf("accepted %q of length %d", id, len(id))
		}
		if strings.ContainsAny(id, "*?[]\\ \r\n:{}") {
			t.Fatalf("accepted %q with a glob, space or hash-tag character", id)
		}
	})
}

// FuzzFindCookie: the request's Cookie header is read without net/http's
// parser; whatever it returns must be a substring of the header, and a
// cookie written as "name=value" alone must be found.
func FuzzFindCookie(f *testing.F) {
	for _, s := range []string{"wsess_session_id=abc", "a=1; wsess_session_id=\"q\"; b=2", "wsess_session_id", "; ;=;wsess_session_id=", "\x00wsess_session_id=x"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		if v, ok := findCookie(r, DefaultIDCookieName); ok && !strings.Contains(header, v) {
			t.Fatalf("found %q, not in %q", v, header)
		}
		if strings.ContainsAny(value, "; \t\"") {
			return
		}
		r.Header["Cookie"] = []string{"other=1; " + DefaultIDCookieName + "=" + value}
		if v, ok := findCookie(r, DefaultIDCookieName); !ok || v != value {
			t.Fatalf("header with %q: found %q, %v", value, v, ok)
		}
	})
}
