package session_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

const testSecret = "a-test-secret-of-32-bytes-length"

func newCookieServer(t *testing.T, secret string, opts session.CookieOptions) (*httptest.Server, *session.CookieManager) {
	t.Helper()
	m, err := session.NewCookieManager(secret, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(counterMux()))
	t.Cleanup(srv.Close)
	return srv, m
}

func TestCookieCounter(t *testing.T) {
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{})
	c := newClient(t, srv)
	for i := 1; i <= 3; i++ {
		want := "This is your " + string(rune('0'+i)) + " visit"
		if got := c.mustGet("/counter"); got != want {
			t.Fatalf("visit %d: %q, want %q", i, got, want)
		}
	}
}

func TestSetCookieAttributes(t *testing.T) {
	tests := []struct {
		name    string
		opts    session.Options
		want    []string
		notWant []string
	}{
		{"defaults", session.Options{},
			[]string{"wsess_session_data=w1.", "Path=/", "Max-Age=3600", "Expires=", "HttpOnly", "SameSite=Lax"},
			[]string{"Secure", "Domain=", "Partitioned"}},
		{"secure and domain", session.Options{Secure: true, Domain: "example.com", Partitioned: true, Expire: 10 * time.Minute},
			[]string{"Secure", "Domain=example.com", "Partitioned", "Max-Age=600", "HttpOnly", "SameSite=Lax"}, nil},
		{"strict, script access", session.Options{SameSite: http.SameSiteStrictMode, DisableHTTPOnly: true, CookieName: "sid", Path: "/app"},
			[]string{"sid=w1.", "SameSite=Strict", "Path=/app"}, []string{"HttpOnly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newCookieServer(t, testSecret, session.CookieOptions{Options: tt.opts})
			resp, err := http.Get(srv.URL + "/counter")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header.Get("Set-Cookie")
			for _, w := range tt.want {
				if !strings.Contains(h, w) {
					t.Errorf("Set-Cookie %q lacks %q", h, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(h, w) {
					t.Errorf("Set-Cookie %q has %q", h, w)
				}
			}
		})
	}
}

func TestCookieFlippedByteGivesNewSession(t *testing.T) {
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{})
	seed := newClient(t, srv)
	seed.mustGet("/counter")
	seed.mustGet("/counter")
	value := seed.cookie(session.DefaultCookieName)
	if value == "" {
		t.Fatal("no cookie after two visits")
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	for i := 0; i < len(value); i++ {
		b := []byte(value)
		// Replace the byte with another character a cookie can carry.
		b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
		c := newClient(t, srv)
		c.setCookie(session.DefaultCookieName, string(b))
		if got := c.mustGet("/counter"); got != "This is your 1 visit" {
			t.Fatalf("byte %d changed: %q, want a new session", i, got)
		}
	}
	// The unchanged cookie still counts on.
	c := newClient(t, srv)
	c.setCookie(session.DefaultCookieName, value)
	if got := c.mustGet("/counter"); got != "This is your 3 visit" {
		t.Fatalf("original cookie: %q", got)
	}
}

func TestCookieKeyRotation(t *testing.T) {
	old, err := session.NewCookieManager("the-old-secret-16+", session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	value, err := old.Seal(map[string]any{"counter": 5}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := newCookieServer(t, "the-new-secret-16+", session.CookieOptions{PreviousSecrets: []string{"the-old-secret-16+"}})
	c := newClient(t, rotated)
	c.setCookie(session.DefaultCookieName, value)
	if got := c.mustGet("/counter"); got != "This is your 6 visit" {
		t.Fatalf("old cookie while its secret is listed: %q", got)
	}
	// The response re-sealed it under the new secret: it keeps working
	// after the old secret is retired...
	retired, _ := newCookieServer(t, "the-new-secret-16+", session.CookieOptions{})
	c2 := newClient(t, retired)
	c2.setCookie(session.DefaultCookieName, c.cookie(session.DefaultCookieName))
	if got := c2.mustGet("/counter"); got != "This is your 7 visit" {
		t.Fatalf("re-sealed cookie after rotation: %q", got)
	}
	// ...while a cookie sealed only under the old secret does not.
	c3 := newClient(t, retired)
	c3.setCookie(session.DefaultCookieName, value)
	if got := c3.mustGet("/counter"); got != "This is your 1 visit" {
		t.Fatalf("old cookie after its secret was retired: %q", got)
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func TestCookieExpiredIsRejected(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Clock: clock.Now, Expire: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	value, err := m.Seal(map[string]any{"counter": 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, _, err := m.Open(value); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clock.Advance(time.Second)
	if _, _, err := m.Open(value); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("at expiry: err = %v, want ErrExpired", err)
	}
	// Through the middleware, the browser still sending it gets a new session.
	srv := httptest.NewServer(m.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	c.setCookie(session.DefaultCookieName, value)
	if got := c.mustGet("/counter"); got != "This is your 1 visit" {
		t.Fatalf("expired cookie: %q", got)
	}
}

func TestCookieTooLargeReachesErrorHandler(t *testing.T) {
	rec := &errorRecorder{}
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{Options: session.Options{ErrorHandler: rec.handle}})
	c := newClient(t, srv)
	code, body := c.get("/big")
	if code != http.StatusInternalServerError || strings.Contains(body, "should not be seen") {
		t.Fatalf("GET /big = %d %q, want 500 from the error handler", code, body)
	}
	errs := rec.all()
	if len(errs) != 1 || !errors.Is(errs[0], session.ErrCookieTooLarge) {
		t.Fatalf("errors = %v, want one ErrCookieTooLarge", errs)
	}
	if c.cookie(session.DefaultCookieName) != "" {
		t.Fatal("an oversized cookie was sent")
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	secret := "s3cr3t-VALUE-that-must-not-leak"
	m, err := session.NewCookieManager(secret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := session.NewCookieManager("another-secret-0123456789", session.CookieOptions{})
	foreign, _ := other.Seal(map[string]any{"a": 1}, 0)
	var errs []error
	for _, v := range []string{"", "w1.", "w1.!!!", "garbage", foreign, "w1." + strings.Repeat("A", 5000), secret} {
		_, _, err := m.Open(v)
		errs = append(errs, err)
	}
	_, err = m.Seal(map[string]any{"x": strings.Repeat("y", 5000)}, 0)
	errs = append(errs, err)
	_, err = session.NewCookieManager("Qz7#k", session.CookieOptions{})
	errs = append(errs, err)
	_, err = session.NewCookieManager(secret, session.CookieOptions{PreviousSecrets: []string{"Pw9!"}})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range []string{secret, "Qz7#k", "Pw9!"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: error %q contains the secret", i, err)
			}
		}
	}
	if !errors.Is(errs[len(errs)-2], session.ErrShortSecret) {
		t.Errorf("short secret: %v", errs[len(errs)-2])
	}
}

func TestCookieOnlyWrittenWhenNeeded(t *testing.T) {
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{})
	resp, err := http.Get(srv.URL + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Values("Set-Cookie"); len(h) != 0 {
		t.Fatalf("an empty new session set a cookie: %v", h)
	}
	c := newClient(t, srv)
	c.mustGet("/counter")
	req, _ := http.NewRequest("GET", srv.URL+"/read", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: c.cookie(session.DefaultCookieName)})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Values("Set-Cookie"); len(h) != 0 {
		t.Fatalf("a fresh unchanged session was re-sealed: %v", h)
	}
}

func TestCookieDestroyAndRenew(t *testing.T) {
	srv, _ := newCookieServer(t, testSecret, session.CookieOptions{})
	c := newClient(t, srv)
	c.mustGet("/counter")
	before := c.cookie(session.DefaultCookieName)
	c.mustGet("/renew")
	after := c.cookie(session.DefaultCookieName)
	if after == "" || after == before {
		t.Fatal("RenewID did not re-seal the cookie")
	}
	if got := c.mustGet("/counter"); got != "This is your 2 visit" {
		t.Fatalf("after renew: %q", got)
	}
	c.mustGet("/destroy")
	if c.cookie(session.DefaultCookieName) != "" {
		t.Fatal("Destroy left the cookie in the jar")
	}
	if got := c.mustGet("/counter"); got != "This is your 1 visit" {
		t.Fatalf("after destroy: %q", got)
	}
}

func TestShortSecretOptIn(t *testing.T) {
	if _, err := session.NewCookieManager("short", session.CookieOptions{AllowShortSecret: true}); err != nil {
		t.Fatalf("opted-in short secret refused: %v", err)
	}
	if _, err := session.NewCookieManager("", session.CookieOptions{AllowShortSecret: true}); !errors.Is(err, session.ErrShortSecret) {
		t.Fatalf("empty secret: %v", err)
	}
}

// TestCookiePerSessionExpiry: SetExpire changes the sealed expiry and the
// cookie's Max-Age for this session only.
func TestCookiePerSessionExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv, m := newCookieServer(t, testSecret, session.CookieOptions{Options: session.Options{Clock: clock.Now}})
	c := newClient(t, srv)
	resp, err := c.c.Get(srv.URL + "/short")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Set-Cookie"); !strings.Contains(h, "Max-Age=600; Expires=Fri, 02 Jan 2026 03:14:05 GMT;") {
		t.Fatalf("Set-Cookie %q, want Max-Age=600 and Expires 10 minutes from the clock", h)
	}
	_, exp, err := m.Open(c.cookie(session.DefaultCookieName))
	if err != nil || !exp.Equal(clock.Now().Add(10*time.Minute)) {
		t.Fatalf("sealed expiry %v, %v; want now+10m", exp, err)
	}
	clock.Advance(11 * time.Minute)
	if got := c.mustGet("/counter"); got != "This is your 1 visit" {
		t.Fatalf("after the override's expiry: %q", got)
	}
}

// cacheControlHandler sets the Cache-Control lines given as ?cc= (in
// order), and changes the session (so that a new one sets its cookie) when
// ?session=1.
func cacheControlHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, v := range q["cc"] {
		w.Header().Add("Cache-Control", v)
	}
	if q.Get("session") == "1" {
		session.From(r.Context()).Incr("counter", 1)
	}
	io.WriteString(w, "ok")
}

// TestCacheControlPrivateWithCookie: a response that sets the session
// cookie (a new session, cookie or Redis manager) leaves the middleware
// unstorable by a shared cache, whatever Cache-Control the handler set:
// exactly the header the table says is sent. A response that sets no
// cookie keeps the handler's header as it was.
func TestCacheControlPrivateWithCookie(t *testing.T) {
	cm, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	rm, err := session.NewRedisManager(rdb, session.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		handler []string // the handler's Cache-Control lines
		want    []string // sent with the session cookie
	}{
		{nil, []string{"private"}},
		{[]string{"public"}, []string{"private"}},
		{[]string{"public, max-age=60"}, []string{"private, max-age=60"}},
		{[]string{"no-store"}, []string{"no-store"}},
		{[]string{"private, max-age=5"}, []string{"private, max-age=5"}},
		{[]string{"s-maxage=30"}, []string{"private"}},
		{[]string{"Public, S-MaxAge=30, must-revalidate"}, []string{"private, must-revalidate"}},
		{[]string{"public", "max-age=60"}, []string{"private, max-age=60"}},
		{[]string{"max-age=0, No-Store"}, []string{"max-age=0, No-Store"}},
		{[]string{"no-cache"}, []string{"private, no-cache"}},
		{[]string{`no-cache="Set-Cookie, private", public`}, []string{`private, no-cache="Set-Cookie, private"`}},
		{[]string{`private="Set-Cookie", max-age=60`}, []string{"private, max-age=60"}},
		{[]string{`no-cache="a\", public", public`}, []string{`private, no-cache="a\", public"`}},
	}
	for _, mgr := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{
		{"cookie", cm.Middleware},
		{"redis", rm.Middleware},
	} {
		srv := httptest.NewServer(mgr.mw(http.HandlerFunc(cacheControlHandler)))
		t.Cleanup(srv.Close)
		for _, tt := range tests {
			for _, setsCookie := range []bool{true, false} {
				want := tt.want
				if !setsCookie {
					want = tt.handler
				}
				t.Run(fmt.Sprintf("%s/%q/cookie=%v", mgr.name, tt.handler, setsCookie), func(t *testing.T) {
					q := url.Values{"cc": tt.handler}
					if setsCookie {
						q.Set("session", "1")
					}
					resp, err := http.Get(srv.URL + "/?" + q.Encode())
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d", resp.StatusCode)
					}
					if got := len(resp.Header["Set-Cookie"]) > 0; got != setsCookie {
						t.Fatalf("Set-Cookie sent: %v, want %v", got, setsCookie)
					}
					if got := resp.Header["Cache-Control"]; !slices.Equal(got, want) {
						t.Fatalf("Cache-Control %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// rawCodec seals fixed bytes, whatever the values: a cookie that opens
// under the right secret and carries a payload the JSON codec rejects.
type rawCodec []byte

func (c rawCodec) Marshal(map[string]any) ([]byte, error)   { return c, nil }
func (c rawCodec) Unmarshal([]byte) (map[string]any, error) { return map[string]any{}, nil }

// TestCookieBadPayloadStartsAfresh: a cookie that authenticates but whose
// payload is not one JSON object gives a new session, as a tampered one
// does, although the JSON is only decoded when the handler needs it.
func TestCookieBadPayloadStartsAfresh(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{`{"a":1} x`, `{"a":1`, `[1]`, `{"a":"\q"}`, `{"a":1,"a":}`, ``} {
		foreign, err := session.NewCookieManager(testSecret, session.CookieOptions{Options: session.Options{Codec: rawCodec(payload)}})
		if err != nil {
			t.Fatal(err)
		}
		cookie, err := foreign.Seal(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var isNew bool
		var a int
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			isNew, a = s.IsNew(), s.Int("a")
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !isNew || a != 0 {
			t.Errorf("payload %q: IsNew %v, a = %d; want a new, empty session", payload, isNew, a)
		}
	}
}

// TestCookieReadsWithoutDecoding: what a handler reads from a cookie
// session is the same whether it reads a value or two (answered from the
// payload) or the whole session (decoded).
func TestCookieReadsWithoutDecoding(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := m.Seal(map[string]any{"n": 7, "s": "x", "list": []any{1, 2}, "obj": map[string]any{"k": "v"}, "_flash:f": "hi", "_expires_after": 60}, 0)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		N              int
		S              string
		List, Obj      any
		Keys           []string
		Flash          any
		Expires        bool
		Missing, Found bool
	}
	read := func(decodeFirst bool) (seen, http.Header) {
		var got seen
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			if decodeFirst {
				s.Keys()
			}
			got.N, got.S = s.Int("n"), s.String("s")
			got.List, _ = s.Get("list")
			got.Obj, _ = s.Get("obj")
			got.Keys = s.Keys()
			got.Flash, _ = s.Flash("f")
			got.Expires = s.Has("_expires_after")
			got.Missing, got.Found = s.Has("nope"), s.Has("n")
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return got, rec.Header()
	}
	lazy, lazyHeader := read(false)
	eager, eagerHeader := read(true)
	if !reflect.DeepEqual(lazy, eager) {
		t.Errorf("read from the payload: %+v\nread decoded:      %+v", lazy, eager)
	}
	if lazy.N != 7 || lazy.S != "x" || !lazy.Expires || lazy.Missing || !lazy.Found || lazy.Flash != "hi" {
		t.Errorf("read %+v", lazy)
	}
	// The flash was taken: both re-seal the cookie, with the override's Max-Age.
	for _, h := range []http.Header{lazyHeader, eagerHeader} {
		if c := h.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=60") {
			t.Errorf("Set-Cookie %q, want Max-Age=60 (the session's own expiry)", c)
		}
	}
}

// TestCookieIncrWithoutDecoding: increments of a cookie session that the
// handler never decodes count as they do on a decoded one, and the next
// request reads what they left.
func TestCookieIncrWithoutDecoding(t *testing.T) {
	m, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := m.Seal(map[string]any{"n": 41, "s": "x", "f": "1.5"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(cookie string, h func(*session.Session)) string {
		t.Helper()
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
		rec := httptest.NewRecorder()
		m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(session.From(r.Context())) })).ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			return c.Value
		}
		return cookie
	}
	var got []int64
	next := serve(cookie, func(s *session.Session) {
		got = append(got, s.Incr("n", 1), s.Incr("n", 2), s.Int64("n"), s.Incr("new", 5), s.Incr("f", 1), s.Incr("s", 1))
		s.Delete("new")
	})
	if want := []int64{42, 44, 44, 5, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Incr results %v, want %v", got, want)
	}
	var keys []string
	var n, f, str int64
	serve(next, func(s *session.Session) { keys, n, f, str = s.Keys(), s.Int64("n"), s.Int64("f"), s.Int64("s") })
	if !reflect.DeepEqual(keys, []string{"f", "n", "s"}) || n != 44 || f != 1 || str != 1 {
		t.Errorf("next request: keys %v, n %d, f %d, s %d; want [f n s], 44, 1, 1", keys, n, f, str)
	}
}
