package inspect

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/pkg/session"
)

func assertData(t *testing.T, got map[string]any, want json.RawMessage) {
	t.Helper()
	gb, err := json.Marshal(unmarkBytes(got))
	if err != nil {
		t.Fatal(err)
	}
	if !interop.SameJSON(t, gb, want) {
		t.Errorf("data\n got %s\nwant %s", gb, want)
	}
}

func TestDecodeCookieVectors(t *testing.T) {
	for _, v := range interop.MustVectors(t) {
		if v.Format == "pickle" {
			continue
		}
		forms := map[string]string{
			"bare":   v.Cookie,
			"named":  "emt_session_data_app=" + v.Cookie,
			"header": "Cookie: theme=dark; emt_session_data_app=" + v.Cookie + "; other=1",
		}
		for form, raw := range forms {
			name := v.Framework + "/" + v.Case + "/" + form
			if v.HasZonedDates() {
				name = "zoned-dates/" + name
			}
			t.Run(name, func(t *testing.T) {
				s, err := DecodeCookie(raw, CookieOptions{Secrets: []string{"not-the-key", v.Key}})
				if err != nil {
					t.Fatal(err)
				}
				if s.Format != v.Format {
					t.Errorf("format %q, want %q", s.Format, v.Format)
				}
				assertData(t, s.Data, v.Expected)
				wantWarnings := 0
				if v.Key == "public-example-key" {
					wantWarnings = 1
				}
				if len(s.Warnings) != wantWarnings || wantWarnings == 1 && !strings.Contains(s.Warnings[0], "well-known") {
					t.Errorf("warnings %q, want %d (the well-known secret warning)", s.Warnings, wantWarnings)
				}
				for _, w := range s.Warnings {
					if strings.Contains(w, v.Key) {
						t.Errorf("warning shows the secret: %q", w)
					}
				}
			})
		}
	}
}

func TestDecodeValueVectors(t *testing.T) {
	for _, v := range interop.MustVectors(t) {
		if v.Format != "pickle" {
			continue
		}
		name := v.Framework + "/" + v.Case
		if v.HasZonedDates() {
			name = "zoned-dates/" + name
		}
		t.Run(name, func(t *testing.T) {
			raw, _ := hex.DecodeString(v.ValueHex)
			for _, format := range []string{"", "pickle"} {
				s, err := DecodeValue(raw, format)
				if err != nil {
					t.Fatalf("%s: %v", v.Case, err)
				}
				if s.Format != FormatPickle || s.Size != len(raw) {
					t.Errorf("%s: format %q size %d", v.Case, s.Format, s.Size)
				}
				assertData(t, s.Data, v.Expected)
			}
		})
	}
}

func TestDecodeValueJSON(t *testing.T) {
	raw := []byte(`{"counter":7,"big":123456789012345678901234567890,"f":1.5}`)
	s, err := DecodeValue(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != FormatJSON {
		t.Fatalf("format %q", s.Format)
	}
	assertData(t, s.Data, raw)
	if _, err := DecodeValue([]byte("{nope"), ""); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("err = %v", err)
	}
	if _, err := DecodeValue([]byte("\x80\x04K\x01."), "pickle"); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("non-dict pickle: err = %v", err)
	}
	if _, err := DecodeValue(raw, "yaml"); err == nil {
		t.Fatal("unknown format accepted")
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sealWsess(t *testing.T, name, secret string, values map[string]any, now time.Time) string {
	t.Helper()
	mgr, err := session.NewCookieManager(secret, session.CookieOptions{
		AllowShortSecret: true,
		Options:          session.Options{CookieName: name, Clock: func() time.Time { return now }},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mgr.Seal(values, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecodeCookieWsess(t *testing.T) {
	const secret = "a-long-enough-test-secret"
	bare := sealWsess(t, session.DefaultCookieName, secret, map[string]any{"counter": 3}, t0)
	custom := sealWsess(t, "app_sess", secret, map[string]any{"user": "ann"}, t0)
	now := func() time.Time { return t0.Add(time.Minute) }
	later := func() time.Time { return t0.Add(2 * time.Hour) }

	s, err := DecodeCookie(bare, CookieOptions{Secrets: []string{"old-secret-0123456", secret}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != FormatWsess || s.Name != session.DefaultCookieName || !s.Expires.Equal(t0.Add(time.Hour)) || len(s.Warnings) != 0 {
		t.Fatalf("got %+v", s)
	}
	assertData(t, s.Data, []byte(`{"counter":3}`))

	// The cookie name is the associated data: a header gives it.
	s, err = DecodeCookie("Cookie: x=1; app_sess="+custom, CookieOptions{Secrets: []string{secret}, Now: now})
	if err != nil || s.Name != "app_sess" {
		t.Fatalf("%+v, %v", s, err)
	}
	// A bare value needs the name.
	if _, err := DecodeCookie(custom, CookieOptions{Secrets: []string{secret}, Now: now}); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("bare value under the default name: err = %v", err)
	}
	if _, err := DecodeCookie(custom, CookieOptions{Secrets: []string{secret}, Name: "app_sess", Now: now}); err != nil {
		t.Fatalf("bare value with Name: %v", err)
	}
	// Expired cookies are shown, with a warning.
	s, err = DecodeCookie(bare, CookieOptions{Secrets: []string{secret}, Now: later})
	if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "expired at 2026-01-02T04:04:05Z") {
		t.Fatalf("%+v, %v", s, err)
	}
}

func TestDecodeCookieErrors(t *testing.T) {
	var emmett, weppy string
	for _, v := range interop.MustVectors(t) {
		if v.Case == "counter" && v.Format == "emmett" {
			emmett = v.Cookie
		}
		if v.Case == "counter" && v.Format == "weppy" {
			weppy = v.Cookie
		}
	}
	tests := []struct {
		name string
		raw  string
		opts CookieOptions
		want error
	}{
		{"empty", "  ", CookieOptions{Secrets: []string{"sekrit-1"}}, ErrNoCookie},
		{"not a session", "theme=dark; lang=en", CookieOptions{Secrets: []string{"sekrit-1"}}, ErrUnknownFormat},
		{"no secret", emmett, CookieOptions{}, ErrNoSecret},
		{"wrong secret emmett", emmett, CookieOptions{Secrets: []string{"nope", "myverysecretkey"}}, ErrWrongSecret},
		{"wrong secret weppy", weppy, CookieOptions{Secrets: []string{"nope", strings.Repeat("x", 40)}}, ErrWrongSecret},
		{"format excludes it", emmett, CookieOptions{Secrets: []string{"public-example-key"}, Format: "weppy"}, ErrUnknownFormat},
		{"name excludes it", "a=" + emmett + "; c=1", CookieOptions{Secrets: []string{"public-example-key"}, Name: "b"}, ErrNoCookie},
		{"emmett bad base64", "!!:!!:!!", CookieOptions{Secrets: []string{"sekrit-1"}}, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCookie(tt.raw, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, s := range tt.opts.Secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error shows a secret: %v", err)
				}
			}
		})
	}
	if _, err := DecodeCookie(emmett, CookieOptions{Secrets: []string{"k"}, Format: "xml"}); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		raw, name string
		want      []Candidate
	}{
		{"abc", "", []Candidate{{"", "abc"}}},
		{"a=b", "", []Candidate{{"a", "b"}, {"", "a=b"}}},
		{"Cookie: a=1; b=\"2\"", "", []Candidate{{"a", "1"}, {"b", "2"}}},
		{"a=1; b=2", "b", []Candidate{{"b", "2"}}},
		{"x:y=", "", []Candidate{{"", "x:y="}}},
		{"", "", nil},
	}
	for _, tt := range tests {
		if got := Candidates(tt.raw, tt.name); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Candidates(%q, %q) = %q, want %q", tt.raw, tt.name, got, tt.want)
		}
	}
}

// unmarkBytes turns a Session's {"$bytes": base64} back into the base64
// string ToJSON gives (the form of the interop vectors' expected data).
func unmarkBytes(v any) any {
	if b, ok := Bytes(v); ok {
		return base64.StdEncoding.EncodeToString(b)
	}
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = unmarkBytes(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = unmarkBytes(x)
		}
		return s
	}
	return v
}
