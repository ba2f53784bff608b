package inspect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wsess/wsess/pkg/session"
)

// The size of a cookie is its value's, however it was pasted.
func TestDecodeCookieSizeIsTheValue(t *testing.T) {
	const secret = "size-secret-0123456789"
	mgr, err := session.NewCookieManager(secret, session.CookieOptions{AllowShortSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mgr.Seal(map[string]any{"a": 1}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{v, session.DefaultCookieName + "=" + v, "Cookie: x=1; " + session.DefaultCookieName + "=" + v, `"` + v + `"`} {
		s, err := DecodeCookie(raw, CookieOptions{Secrets: []string{secret}})
		if err != nil {
			t.Fatalf("%.30q: %v", raw, err)
		}
		if s.Size != len(v) {
			t.Errorf("%.30q: size %d, want %d (the value's)", raw, s.Size, len(v))
		}
	}
}

func TestReservedKeysBecomeFields(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	const secret = "reserved-secret-0123456789"
	mgr, err := session.NewCookieManager(secret, session.CookieOptions{AllowShortSecret: true,
		Options: session.Options{Clock: func() time.Time { return t0 }}})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := mgr.Seal(map[string]any{"app": "x", "_wsess_user": "u1", "_wsess_auth": t0.Add(-time.Minute).UnixMilli() + 5,
		"_wsess_gen": 4, "_expires_after": 600, "_wsess_lid": "bG9naW4taWQtMTIzNDU2", "_wsess_persist": 0}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeCookie(cookie, CookieOptions{Secrets: []string{secret}, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	assertData(t, s.Data, json.RawMessage(`{"app":"x"}`))
	if !s.Created.Equal(t0) {
		t.Errorf("created %v, want the sealed %v", s.Created, t0)
	}
	if want := t0.Add(-time.Minute + 5*time.Millisecond); !s.AuthTime.Equal(want) {
		t.Errorf("auth time %v, want %v", s.AuthTime, want)
	}
	if s.User != "u1" || s.Generation == nil || *s.Generation != 4 || s.IdleTimeout != 10*time.Minute {
		t.Errorf("user %q gen %v idle %v", s.User, s.Generation, s.IdleTimeout)
	}
	if s.LoginID != "bG9naW4taWQtMTIzNDU2" || !s.BrowserSession {
		t.Errorf("login id %q, browser session %v", s.LoginID, s.BrowserSession)
	}
	if !s.AbsoluteDeadline.Equal(t0.Add(24*time.Hour)) || !s.AbsoluteAssumed {
		t.Errorf("absolute %v assumed %v", s.AbsoluteDeadline, s.AbsoluteAssumed)
	}

	tests := []struct {
		name, value string
		data        string
		created     time.Time
		absolute    bool
	}{
		{"json created", `{"a":1,"_wsess_created":1700000000}`, `{"a":1}`, time.Unix(1700000000, 0), true},
		// A reserved key of the wrong type stays data: nothing is lost.
		{"json wrong types", `{"_wsess_created":"soon","_wsess_auth":1.5,"_wsess_user":7,"_expires_after":-1}`,
			`{"_expires_after":-1,"_wsess_auth":1.5,"_wsess_created":"soon","_wsess_user":7}`, time.Time{}, false},
		// pickle.dumps({'_wsess_created': 1700000000, 'b': b'hi'}, protocol=3): no
		// absolute deadline (Python formats have none by default).
		{"pickle", "\x80\x03}q\x00(X\x0e\x00\x00\x00_wsess_createdq\x01J\x00\xf1SeX\x01\x00\x00\x00bq\x02C\x02hiq\x03u.",
			`{"b":{"$bytes":"aGk="}}`, time.Unix(1700000000, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeValue([]byte(tt.value), "")
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(s.Data)
			if string(gb) != tt.data {
				t.Errorf("data %s, want %s", gb, tt.data)
			}
			if !s.Created.Equal(tt.created) {
				t.Errorf("created %v, want %v", s.Created, tt.created)
			}
			if got := !s.AbsoluteDeadline.IsZero(); got != tt.absolute {
				t.Errorf("absolute deadline %v, want one: %v", s.AbsoluteDeadline, tt.absolute)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	if b, ok := Bytes(map[string]any{BytesKey: "aGk="}); !ok || string(b) != "hi" {
		t.Errorf("Bytes = %q %v", b, ok)
	}
	for _, v := range []any{"aGk=", map[string]any{BytesKey: "aGk=", "x": 1}, map[string]any{BytesKey: "!!"}, map[string]any{BytesKey: 1}} {
		if _, ok := Bytes(v); ok {
			t.Errorf("Bytes(%v) took it for bytes", v)
		}
	}
	// ToJSON keeps bytes as a base64 string (--where sees that form).
	if got := ToJSON([]byte("hi")); got != "aGk=" {
		t.Errorf("ToJSON(bytes) = %v", got)
	}
}
