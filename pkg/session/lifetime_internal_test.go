package session

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLifetimeTTL(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name           string
		now, created   time.Time
		idle, absolute time.Duration
		want           time.Duration
	}{
		{"no absolute", t0.Add(100 * time.Hour), t0, time.Hour, 0, time.Hour},
		{"idle shorter", t0.Add(time.Hour), t0, time.Hour, 24 * time.Hour, time.Hour},
		{"absolute cuts idle", t0.Add(23*time.Hour + 30*time.Minute), t0, time.Hour, 24 * time.Hour, 30 * time.Minute},
		{"at the limit", t0.Add(24 * time.Hour), t0, time.Hour, 24 * time.Hour, 0},
		{"past the limit", t0.Add(25 * time.Hour), t0, time.Hour, 24 * time.Hour, -time.Hour},
		{"unknown creation", t0, time.Time{}, time.Hour, 24 * time.Hour, time.Hour},
		{"sub-second left", t0.Add(24*time.Hour - 300*time.Millisecond), t0, time.Hour, 24 * time.Hour, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lifetimeTTL(tt.now, tt.created, tt.idle, tt.absolute); got != tt.want {
				t.Fatalf("lifetimeTTL = %v, want %v", got, tt.want)
			}
			wantEnded := tt.absolute > 0 && !tt.created.IsZero() && tt.want <= 0
			if got := ended(tt.now, tt.created, tt.absolute); got != wantEnded {
				t.Fatalf("ended = %v, want %v", got, wantEnded)
			}
		})
	}
}

func TestResolveAbsolute(t *testing.T) {
	tests := []struct {
		d       time.Duration
		own     bool
		want    time.Duration
		wantErr bool
	}{
		{0, true, DefaultAbsoluteTimeout, false},
		{0, false, 0, false},
		{-1, true, 0, false},
		{-1, false, 0, false},
		{time.Hour, true, time.Hour, false},
		{time.Hour, false, time.Hour, false},
		{time.Millisecond, true, 0, true},
	}
	for _, tt := range tests {
		got, err := resolveAbsolute(tt.d, tt.own)
		if got != tt.want || (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrInvalidOptions)) {
			t.Errorf("resolveAbsolute(%v, %v) = %v, %v; want %v, error %v", tt.d, tt.own, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCreatedOf(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	values := map[string]any{"counter": 1, createdKey: t0.Unix()}
	// As the JSON codec gives it back.
	enc, err := JSONCodec{}.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	back, err := JSONCodec{}.Unmarshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := createdOf(back); !ok || got.Unix() != t0.Unix() {
		t.Fatalf("createdOf after a JSON round trip = %v, %v", got, ok)
	}
	if _, ok := createdOf(map[string]any{createdKey: "x"}); ok {
		t.Fatal("createdOf accepted a string")
	}
}

func TestHashID(t *testing.T) {
	// SHA-256("abc"), base64url without padding.
	if got, want := HashID("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Fatalf("HashID = %q, want %q", got, want)
	}
}

// sealLegacy seals values in the cookie format without a creation time:
// nonce || GCM(expiry[8] || payload), no flag.
func sealLegacy(t *testing.T, m *CookieManager, values map[string]any, exp time.Time) string {
	t.Helper()
	payload, err := m.opts.Codec.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	plain := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	plain = append(plain, payload...)
	raw := m.aeads[0].Seal(nonce, nonce, plain, m.aad)
	return cookieVersion + base64.RawURLEncoding.EncodeToString(raw)
}

// TestLegacyCookieOpensAndAges: a cookie sealed before creation times
// still opens, counts as created when it was issued (expiry minus the idle
// timeout), and so ends at issue + AbsoluteTimeout, before its own sealed
// expiry when that is later; the response then drops it.
func TestLegacyCookieOpensAndAges(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	now := t0
	const idle = 4 * time.Hour
	m, err := NewCookieManager("a-test-secret-of-32-bytes-length", CookieOptions{Options: Options{
		Expire: idle, AbsoluteTimeout: 3 * time.Hour, Clock: func() time.Time { return now },
	}})
	if err != nil {
		t.Fatal(err)
	}
	legacy := sealLegacy(t, m, map[string]any{"counter": 7}, t0.Add(idle))
	if values, exp, err := m.Open(legacy); err != nil || !exp.Equal(t0.Add(idle)) || values["counter"] == nil {
		t.Fatalf("Open(legacy) = %v, %v, %v", values, exp, err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := From(r.Context())
		if c := s.Created(); !c.IsZero() && !c.Equal(t0) {
			t.Errorf("Created = %v, want the issue time %v", c, t0)
		}
		w.Write([]byte(s.String("x") + string(rune('0'+s.Int("counter")))))
	}))
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: legacy})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	now = t0.Add(3*time.Hour - time.Second)
	if rec := serve(); rec.Body.String() != "7" {
		t.Fatalf("within the absolute limit: %q, want 7", rec.Body.String())
	}
	now = t0.Add(3 * time.Hour)
	rec := serve()
	if rec.Body.String() != "0" {
		t.Fatalf("at the absolute limit (sealed expiry still 1 h away): %q, want 0", rec.Body.String())
	}
	if sc := rec.Header().Get("Set-Cookie"); sc == "" || !(strings.Contains(sc, DefaultCookieName+"=;") && strings.Contains(sc, "Max-Age=0")) {
		t.Fatalf("Set-Cookie %q, want the cookie dropped", sc)
	}
}

// sealPlain seals plain (header and payload as the cookie carries them)
// under m's current key, as an attacker who knew it could: what the decoder
// does after authentication.
func sealPlain(m *CookieManager, nonce, plain []byte) string {
	raw := m.aeads[0].Seal(append([]byte(nil), nonce...), nonce, plain, m.aad)
	return cookieVersion + base64.RawURLEncoding.EncodeToString(raw)
}

// FuzzOpenSealedHeader feeds arbitrary authenticated plaintexts (header and
// payload) to the decoder: the header parsing behind the GCM check must
// never panic, refuse a flagged header without its creation time, and
// return a sealed expiry without the flag bit.
func FuzzOpenSealedHeader(f *testing.F) {
	m, err := NewCookieManager("fuzzing-secret-0123456789", CookieOptions{Options: Options{
		Clock: func() time.Time { return time.Unix(1_800_000_000, 0) },
	}})
	if err != nil {
		f.Fatal(err)
	}
	far := uint64(1_900_000_000)
	f.Add(binary.BigEndian.AppendUint64(nil, far))                                 // legacy, empty payload
	f.Add(append(binary.BigEndian.AppendUint64(nil, far), `{"a":1}`...))           // legacy
	f.Add(binary.BigEndian.AppendUint64(nil, far|createdFlag))                     // flagged, truncated
	f.Add(append(binary.BigEndian.AppendUint64(nil, far|createdFlag), 0, 0, 0, 0)) // flagged, short
	f.Add(append(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, far|createdFlag), 1_799_000_000), `{}`...))
	nonce := make([]byte, nonceSize)
	f.Fuzz(func(t *testing.T, plain []byte) {
		values, exp, created, err := m.open(sealPlain(m, nonce, plain), new([]byte), m.opts.Clock())
		flagged := len(plain) >= 8 && binary.BigEndian.Uint64(plain)&createdFlag != 0
		if flagged && len(plain) < 16 && err == nil {
			t.Fatalf("flagged header without a creation time opened: %v", values)
		}
		if err != nil {
			return
		}
		if exp.Unix() < 0 || uint64(exp.Unix())&createdFlag != 0 {
			t.Fatalf("expiry %v carries the flag", exp)
		}
		if flagged == created.IsZero() {
			t.Fatalf("flagged %v but created %v", flagged, created)
		}
	})
}
