package inspect

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/pickle"
)

var fuzzLimits = pickle.Limits{MaxElements: 1 << 16, MaxDepth: 64}

func FuzzDecodeCookie(f *testing.F) {
	for _, v := range interop.MustVectors(f) {
		if v.Format != "pickle" {
			f.Add(v.Cookie, v.Key)
			f.Add("Cookie: a=1; emt_session_data_x="+v.Cookie, v.Key)
		}
	}
	f.Add("w1.AAAA", "a-long-enough-test-secret")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, raw, secret string) {
		s, err := DecodeCookie(raw, CookieOptions{Secrets: []string{secret}, Limits: fuzzLimits})
		if err != nil {
			return
		}
		if _, err := json.Marshal(s.Data); err != nil {
			t.Fatalf("decoded session is not plain JSON data: %v", err)
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	for _, v := range interop.MustVectors(f) {
		if v.Format == "pickle" {
			b, _ := hex.DecodeString(v.ValueHex)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"counter":7,"big":123456789012345678901234567890}`))
	f.Add([]byte("\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01aG\x7f\xf8\x00\x00\x00\x00\x00\x00s."))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decoder{Limits: fuzzLimits}.DecodeValue(b, "")
		if err != nil {
			return
		}
		if _, err := json.Marshal(s.Data); err != nil {
			t.Fatalf("decoded value is not plain JSON data: %v", err)
		}
		_ = Fields(s.Data)
	})
}
