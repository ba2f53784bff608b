package audit

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/pkg/session"
)

var now = time.Date(2025, 5, 17, 13, 45, 30, 0, time.UTC)

const strong = "kq3H0n5z-Vb2QmX8yLr_T4wPeA9sJc1GdUfo7iKhNtE" // 43 base64url characters, as wsess keygen prints

// verdicts maps "subject/check" to the verdict of r's findings.
func verdicts(r *Report) map[string]Verdict {
	m := map[string]Verdict{}
	for _, f := range r.Findings {
		m[f.Subject+"/"+f.Check] = f.Verdict
	}
	return m
}

// want checks the verdicts of the checks named in w; other findings are
// not looked at.
func want(t *testing.T, r *Report, w map[string]Verdict) {
	t.Helper()
	got := verdicts(r)
	for k, v := range w {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func sealWsess(t *testing.T, secret string) string {
	t.Helper()
	m, err := session.NewCookieManager(secret, session.CookieOptions{AllowShortSecret: true,
		Options: session.Options{Clock: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Seal(map[string]any{"counter": 3}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sealPy(t *testing.T, format, secret string) string {
	t.Helper()
	pk, err := pickle.Marshal(map[string]any{"counter": 3})
	if err != nil {
		t.Fatal(err)
	}
	seal := pycookie.SealEmmett
	if format == "weppy" {
		seal = pycookie.SealWeppy
	}
	v, err := seal(pk, secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCookie(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		secrets []string
		want    map[string]Verdict
		failed  bool
	}{
		{"wsess strong secret, no key given", sealWsess(t, strong), nil, map[string]Verdict{
			"cookie/cipher": Pass, "cookie/nonce": Pass, "cookie/integrity": Pass, "cookie/key-derivation": Pass,
			"cookie/well-known-secret": Pass, "cookie/idle-timeout": Pass, "cookie/absolute-lifetime": Pass, "cookie/size": Pass}, false},
		{"wsess with the key reads the lifetime", "wsess_session_data=" + sealWsess(t, strong), []string{strong}, map[string]Verdict{
			"wsess_session_data/idle-timeout": Pass, "wsess_session_data/absolute-lifetime": Pass}, false},
		{"wsess sealed with the weppy docs' secret", sealWsess(t, "myverysecretkey"), nil, map[string]Verdict{
			"cookie/well-known-secret": Fail}, true},
		{"emmett modern", "emt_session_data_myapp=" + sealPy(t, "emmett", strong), nil, map[string]Verdict{
			"emt_session_data_myapp/cipher": Pass, "emt_session_data_myapp/key-derivation": Warn,
			"emt_session_data_myapp/well-known-secret": Pass, "emt_session_data_myapp/idle-timeout": Fail,
			"emt_session_data_myapp/absolute-lifetime": Fail}, true},
		{"emmett with the tutorial's secret", sealPy(t, "emmett", "GreatScott"), nil, map[string]Verdict{
			"cookie/well-known-secret": Fail}, true},
		{"weppy legacy", sealPy(t, "weppy", "0123456789abcdefghij"), nil, map[string]Verdict{
			"cookie/cipher": Warn, "cookie/nonce": Fail, "cookie/integrity": Fail, "cookie/key-derivation": Fail,
			"cookie/well-known-secret": Pass}, true},
		{"weppy quoted in a Cookie header", `Cookie: a=1; wpp_session_data_x="` + sealPy(t, "weppy", "changeme") + `"`, nil, map[string]Verdict{
			"wpp_session_data_x/well-known-secret": Fail}, true},
		{"too large", "w1." + strings.Repeat("A", 4200), nil, map[string]Verdict{"cookie/size": Fail}, true},
		{"near the limit", "w1." + strings.Repeat("A", 3800), nil, map[string]Verdict{"cookie/size": Warn}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Cookie(tt.raw, CookieOptions{Secrets: tt.secrets, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			want(t, r, tt.want)
			if r.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", r.Failed(), tt.failed)
			}
			for _, f := range r.Findings {
				if strings.Contains(f.Detail, strong) || strings.Contains(f.Detail, "myverysecretkey") || strings.Contains(f.Detail, "GreatScott") {
					t.Errorf("a finding shows a secret: %+v", f)
				}
			}
		})
	}
}

func TestCookieErrors(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		secrets []string
		want    error
	}{
		{"empty", "  ", nil, ErrNoCookie},
		{"not a session cookie", "a=1; b=2", nil, ErrUnknownFormat},
		{"wrong key", sealWsess(t, strong), []string{"another-secret-0123456789"}, ErrWrongSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Cookie(tt.raw, CookieOptions{Secrets: tt.secrets})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// An expired wsess cookie is still judged; its expiry is in the past.
func TestCookieExpired(t *testing.T) {
	r, err := Cookie(sealWsess(t, strong), CookieOptions{Secrets: []string{strong}, Now: func() time.Time { return now.Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Check == "idle-timeout" && !strings.Contains(f.Detail, "passed 1h00m ago") {
			t.Errorf("idle-timeout: %q", f.Detail)
		}
	}
}

func TestHeaders(t *testing.T) {
	const good = "__Host-s=v; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict"
	tests := []struct {
		name  string
		lines []string
		cache []string // Cache-Control lines; nil with cacheOff
		opts  HeaderOptions
		want  map[string]Verdict
	}{
		{"all good", []string{good}, []string{"no-store"}, HeaderOptions{CacheControl: true}, map[string]Verdict{
			"__Host-s/httponly": Pass, "__Host-s/secure": Pass, "__Host-s/prefix": Pass, "__Host-s/samesite": Pass,
			"__Host-s/lifetime": Pass, "__Host-s/domain": Pass, "__Host-s/size": Pass, "response/cache-control": Pass}},
		{"weppy's defaults", []string{`wpp_session_data_myapp="ab:cd=="; expires=Sat, 17 May 2025 14:45:30 GMT; Path=/`}, nil, HeaderOptions{CacheControl: true}, map[string]Verdict{
			"wpp_session_data_myapp/httponly": Fail, "wpp_session_data_myapp/secure": Fail, "wpp_session_data_myapp/prefix": Warn,
			"wpp_session_data_myapp/samesite": Warn, "wpp_session_data_myapp/lifetime": Pass, "response/cache-control": Fail}},
		{"__Host- broken", []string{"__Host-s=v; Path=/app; Secure; Domain=example.com"}, nil, HeaderOptions{}, map[string]Verdict{
			"__Host-s/prefix": Fail, "__Host-s/domain": Warn}},
		{"__Secure- without Secure", []string{"__Secure-s=v"}, nil, HeaderOptions{}, map[string]Verdict{"__Secure-s/prefix": Fail, "__Secure-s/lifetime": Warn}},
		{"__Secure- with Secure", []string{"__Secure-s=v; Secure"}, nil, HeaderOptions{}, map[string]Verdict{"__Secure-s/prefix": Warn}},
		{"SameSite=None without Secure", []string{"s=v; SameSite=None"}, nil, HeaderOptions{}, map[string]Verdict{"s/samesite": Fail}},
		{"SameSite=None with Secure", []string{"s=v; SameSite=None; Secure"}, nil, HeaderOptions{}, map[string]Verdict{"s/samesite": Warn}},
		{"SameSite=Lax", []string{"s=v; SameSite=Lax"}, nil, HeaderOptions{}, map[string]Verdict{"s/samesite": Pass}},
		{"SameSite garbage", []string{"s=v; SameSite=Loose"}, nil, HeaderOptions{}, map[string]Verdict{"s/samesite": Warn}},
		{"Max-Age past the absolute lifetime", []string{"s=v; Max-Age=2592000"}, nil, HeaderOptions{}, map[string]Verdict{"s/lifetime": Fail}},
		{"Max-Age within a longer absolute lifetime", []string{"s=v; Max-Age=2592000"}, nil, HeaderOptions{AbsoluteTimeout: 31 * 24 * time.Hour}, map[string]Verdict{"s/lifetime": Pass}},
		{"deleting", []string{"s=; Max-Age=0"}, nil, HeaderOptions{}, map[string]Verdict{"s/lifetime": Pass}},
		{"Domain not matching the host", []string{"s=v; Domain=example.test"}, nil, HeaderOptions{Host: "127.0.0.1"}, map[string]Verdict{"s/domain": Fail}},
		{"Domain of a parent", []string{"s=v; Domain=.example.com"}, nil, HeaderOptions{Host: "app.example.com"}, map[string]Verdict{"s/domain": Warn}},
		{"too large", []string{"s=" + strings.Repeat("x", 4096)}, nil, HeaderOptions{}, map[string]Verdict{"s/size": Fail}},
		{"private", []string{good}, []string{"private"}, HeaderOptions{CacheControl: true}, map[string]Verdict{"response/cache-control": Warn}},
		{"public", []string{good}, []string{"public, max-age=60"}, HeaderOptions{CacheControl: true}, map[string]Verdict{"response/cache-control": Fail}},
		{"max-age only", []string{good}, []string{"max-age=60"}, HeaderOptions{CacheControl: true}, map[string]Verdict{"response/cache-control": Fail}},
		{"no-cache", []string{good}, []string{"no-cache"}, HeaderOptions{CacheControl: true}, map[string]Verdict{"response/cache-control": Warn}},
		{"no-store on a second line", []string{good}, []string{"private", "no-store"}, HeaderOptions{CacheControl: true}, map[string]Verdict{"response/cache-control": Pass}},
		{"one name picked", []string{"a=1", good}, nil, HeaderOptions{Name: "__Host-s"}, map[string]Verdict{"__Host-s/secure": Pass, "a/secure": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Set-Cookie": tt.lines}
			if tt.cache != nil {
				h["Cache-Control"] = tt.cache
			}
			tt.opts.Now = func() time.Time { return now }
			r, err := Headers(h, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want(t, r, tt.want)
			if _, ok := verdicts(r)["response/cache-control"]; ok != tt.opts.CacheControl {
				t.Errorf("cache-control judged: %v, want %v", ok, tt.opts.CacheControl)
			}
		})
	}
}

// Expires counts from the response's Date when it has one.
func TestHeadersExpiresFromDate(t *testing.T) {
	h := http.Header{"Set-Cookie": {"s=v; Expires=Sat, 17 May 2025 15:45:30 GMT"}, "Date": {"Sat, 17 May 2025 14:45:30 GMT"}}
	r, err := Headers(h, HeaderOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Check == "lifetime" && f.Detail != "Expires 1h00m, within the absolute lifetime 24h00m" {
			t.Errorf("lifetime: %q", f.Detail)
		}
	}
}

func TestHeadersNothing(t *testing.T) {
	for _, h := range []http.Header{{}, {"Set-Cookie": {"a=1"}}} {
		if _, err := Headers(h, HeaderOptions{Name: "b"}); !errors.Is(err, ErrNoSetCookie) {
			t.Errorf("%v: got %v, want ErrNoSetCookie", h, err)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		in         string
		setCookies []string
		cache      string
		response   bool
	}{
		{"Set-Cookie: a=1; Path=/\n", []string{"a=1; Path=/"}, "", false},
		{"a=1; Path=/\r\nb=2", []string{"a=1; Path=/", "b=2"}, "", false},
		{`wpp_session_data_myapp="04:8D=="; Path=/`, []string{`wpp_session_data_myapp="04:8D=="; Path=/`}, "", false},
		{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nset-cookie: s=v; HttpOnly\r\nCache-Control: private\r\n\r\n", []string{"s=v; HttpOnly"}, "private", true},
	}
	for _, tt := range tests {
		h, response := ParseHeaders(tt.in)
		if strings.Join(h.Values("Set-Cookie"), "|") != strings.Join(tt.setCookies, "|") || h.Get("Cache-Control") != tt.cache || response != tt.response {
			t.Errorf("ParseHeaders(%q) = %v, %v", tt.in, h, response)
		}
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		formats []string
		want    map[string]Verdict
	}{
		{"strong, wsess", []string{strong}, nil, map[string]Verdict{
			"key/length": Pass, "key/strength": Pass, "key/well-known-secret": Pass, "key/reuse": Pass}},
		{"published", []string{"GreatScott"}, []string{"emmett"}, map[string]Verdict{
			"key/length": Pass, "key/strength": Fail, "key/well-known-secret": Fail}},
		{"short for wsess", []string{"short-secret"}, nil, map[string]Verdict{"key/length": Fail}},
		{"too long for weppy", []string{strong}, []string{"weppy"}, map[string]Verdict{"key/length": Fail}},
		{"repetitive", []string{strings.Repeat("ab", 20)}, nil, map[string]Verdict{"key/length": Pass, "key/strength": Fail}},
		{"hex, 24 characters", []string{"0123456789abcdef01234567"}, nil, map[string]Verdict{"key/strength": Warn}},
		{"shared by wsess and emmett", []string{strong}, []string{"wsess", "emmett"}, map[string]Verdict{"key/reuse": Warn}},
		{"shared with weppy", []string{"Zq8#rT2!mW4$xY6&pL0^"}, []string{"emmett", "weppy"}, map[string]Verdict{"key/reuse": Fail}},
		{"rotation list with a repeat", []string{strong, "0123456789abcdefghijklmnopqrstuv", strong}, nil, map[string]Verdict{
			"key 1/reuse": Pass, "key 2/reuse": Pass, "key 3/reuse": Warn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Keys(tt.secrets, KeyOptions{Formats: tt.formats})
			if err != nil {
				t.Fatal(err)
			}
			want(t, r, tt.want)
			for _, f := range r.Findings {
				for _, s := range tt.secrets {
					if strings.Contains(f.Detail, s) {
						t.Errorf("a finding shows the secret: %+v", f)
					}
				}
			}
		})
	}
	if _, err := Keys(nil, KeyOptions{}); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no keys: %v", err)
	}
}

func TestEstimateBits(t *testing.T) {
	tests := []struct {
		in       string
		min, max int
	}{
		{"", 0, 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaa", 0, 0},
		{"GreatScott", 20, 40},
		{"0123456789abcdef0123456789abcdef", 100, 128},
		{strong, 180, 260},
	}
	for _, tt := range tests {
		if got := EstimateBits(tt.in); got < tt.min || got > tt.max {
			t.Errorf("EstimateBits(%q) = %d, want %d..%d", tt.in, got, tt.min, tt.max)
		}
	}
}
