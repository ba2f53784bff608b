package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// hostileCase is one request with hostile cookies. Unless ok is set, the
// server must answer /counter with a fresh session: 200, the first visit and
// a new session cookie.
type hostileCase struct {
	name string
	// cookie returns the Cookie header lines of the request; sessionCookie
	// is the store's cookie name.
	cookie func(t *testing.T, sessionCookie string) []string
	// raw sends the request over a plain TCP connection, for bytes that
	// Go's HTTP client refuses to send.
	raw bool
	// rejected: net/http refuses the request before the session layer sees
	// it (400), which is also a safe answer.
	rejected bool
	// wantVisit is the visit number /counter must report (default 1).
	wantVisit int
	// keepID: the answer keeps the session id sent (Redis positive control).
	keepID string
}

func one(format string, args ...any) func(*testing.T, string) []string {
	return func(_ *testing.T, name string) []string {
		return []string{name + "=" + fmt.Sprintf(format, args...)}
	}
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// commonHostileCases apply to both stores.
func commonHostileCases() []hostileCase {
	withNUL := make([]byte, 96)
	withNUL[10] = 'x'
	return []hostileCase{
		{name: "8 KB value", cookie: one("%s", randomB64(8*1024))},
		{name: "8 KB value with the w1 prefix", cookie: one("w1.%s", randomB64(8*1024))},
		{name: "invalid base64", cookie: one("w1.!!!not*base64$$$~~~")},
		{name: "invalid base64 of an id's length", cookie: one("%s", strings.Repeat("*", 43))},
		{name: "NUL bytes in the header", cookie: one("ab\x00cd\x00"), raw: true, rejected: true},
		{name: "NUL bytes inside valid base64", cookie: one("w1.%s", base64.RawURLEncoding.EncodeToString(withNUL))},
		{name: "percent-encoded NUL bytes", cookie: one("%%00%%00%%00")},
		{name: "non-UTF-8 bytes", cookie: one("\xff\xfe\x80abc"), raw: true},
		{name: "empty value", cookie: one("")},
		{name: "quoted garbage", cookie: one(`"garbage"`)},
		{name: "id abc*", cookie: one("abc*")},
		{name: "10 KB id", cookie: one("%s", strings.Repeat("a", 10*1024))},
		{name: "valid-looking id that does not exist", cookie: func(*testing.T, string) []string {
			return []string{session.DefaultIDCookieName + "=" + newValidID(), session.DefaultCookieName + "=" + newValidID()}
		}},
		{name: "UUID4 that does not exist", cookie: one("9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10")},
		{name: "many cookies", cookie: func(_ *testing.T, name string) []string {
			var b strings.Builder
			for i := range 300 {
				fmt.Fprintf(&b, "c%d=%s; ", i, randomB64(16))
			}
			b.WriteString(name + "=" + randomB64(43))
			return []string{b.String()}
		}},
		{name: "the session cookie many times", cookie: func(_ *testing.T, name string) []string {
			var parts []string
			for range 200 {
				parts = append(parts, name+"="+randomB64(43))
			}
			return []string{strings.Join(parts, "; ")}
		}},
		{name: "many Cookie headers", cookie: func(_ *testing.T, name string) []string {
			var lines []string
			for i := range 100 {
				lines = append(lines, fmt.Sprintf("x%d=1; %s=%s", i, name, randomB64(20)))
			}
			return lines
		}},
		{name: "cookie without a value", cookie: func(_ *testing.T, name string) []string {
			return []string{name + "; " + name + "=; =" + name}
		}},
	}
}

// newValidID returns an id of the shape wsess creates (43 base64url
// characters) that no server has issued.
func newValidID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestHostileCookies sends hostile cookies to the demo server of each store:
// every request gets a fresh session, never a 5xx, and the server's stderr
// shows no panic (checked when the server stops).
func TestHostileCookies(t *testing.T) {
	t.Run("cookie", func(t *testing.T) {
		t.Parallel()
		srv := startDemo(t, "--store", "cookie")
		cases := append(commonHostileCases(), cookieStoreCases(t)...)
		runHostile(t, srv, session.DefaultCookieName, cases, nil)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rs := redistest.Start(t, redistest.Options{})
		rdb := rs.Client()
		srv := startDemo(t, "--store", "redis", "--redis-url", rs.URL())
		cases := append(commonHostileCases(), redisStoreCases(t, rdb)...)
		runHostile(t, srv, session.DefaultIDCookieName, cases, rdb)
	})
}

// sealer returns a cookie manager and a sealed value for the demo's cookie.
func seal(t *testing.T, secret, name string, clock func() time.Time, values map[string]any) string {
	t.Helper()
	m, err := session.NewCookieManager(secret, session.CookieOptions{Options: session.Options{CookieName: name, Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Seal(values, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cookieStoreCases(t *testing.T) []hostileCase {
	name := session.DefaultCookieName
	counter := map[string]any{"counter": 41}
	return []hostileCase{
		{name: "sealed under another secret", cookie: one("%s", seal(t, "another-secret-0123456789abcdef", name, nil, counter))},
		{name: "sealed for another cookie name", cookie: one("%s", seal(t, testKey, "other_cookie", nil, counter))},
		{name: "expired", cookie: one("%s", seal(t, testKey, name, func() time.Time { return time.Now().Add(-2 * time.Hour) }, counter))},
		{name: "sealed, then one character changed", cookie: func(t *testing.T, name string) []string {
			v := []byte(seal(t, testKey, name, nil, counter))
			i := len(v) / 2
			if v[i] == 'A' {
				v[i] = 'B'
			} else {
				v[i] = 'A'
			}
			return []string{name + "=" + string(v)}
		}},
		// The positive control: a cookie sealed with the server's secret
		// is read, so the cases above are refused for their content.
		{name: "control: valid cookie", cookie: one("%s", seal(t, testKey, name, nil, counter)), wantVisit: 42},
		{name: "control: valid cookie among garbage", cookie: func(t *testing.T, name string) []string {
			return []string{"a=b; c; =d; " + name + "=" + seal(t, testKey, name, nil, counter) + "; " + name + "=junk"}
		}, wantVisit: 42},
	}
}

func redisStoreCases(t *testing.T, rdb *redis.Client) []hostileCase {
	ctx := context.Background()
	foreign := func(write func(key string) error) func(*testing.T, string) []string {
		return func(t *testing.T, name string) []string {
			id := newValidID()
			if err := write(sessionKey(id)); err != nil {
				t.Fatalf("write the foreign value: %v", err)
			}
			return []string{name + "=" + id}
		}
	}
	set := func(v string) func(*testing.T, string) []string {
		return foreign(func(key string) error { return rdb.Set(ctx, key, v, time.Hour).Err() })
	}
	control := newValidID()
	if err := rdb.Set(ctx, sessionKey(control), `{"counter":41}`, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	return []hostileCase{
		{name: "value that is not JSON", cookie: set("\x80\x04\x95not json at all\x00\xff")},
		{name: "value that is a pickle", cookie: set("\x80\x02}q\x00X\x07\x00\x00\x00counterq\x01K\x05s.")},
		{name: "JSON array", cookie: set(`[1,2,3]`)},
		{name: "JSON null", cookie: set(`null`)},
		{name: "JSON with trailing data", cookie: set(`{"counter":5}{"counter":6}`)},
		{name: "empty value", cookie: set(``)},
		{name: "hash under the key", cookie: foreign(func(key string) error { return rdb.HSet(ctx, key, "counter", 5).Err() })},
		{name: "list under the key", cookie: foreign(func(key string) error { return rdb.RPush(ctx, key, "a", "b").Err() })},
		// The positive control: a stored JSON session is read and kept.
		{name: "control: stored session", cookie: one("%s", control), wantVisit: 42, keepID: control},
	}
}

// runHostile runs each case against /counter and / of srv.
func runHostile(t *testing.T, srv *demoServer, name string, cases []hostileCase, rdb *redis.Client) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := tc.cookie(t, name)
			// Foreign Redis values must survive the request untouched.
			var before map[string]string
			if rdb != nil {
				before = snapshot(t, rdb)
			}

			status, header, body := get(t, srv, "/counter", lines, tc.raw)
			if tc.rejected {
				if status != http.StatusBadRequest {
					t.Fatalf("/counter: status %d, want 400 from net/http", status)
				}
				return
			}
			if status != http.StatusOK {
				t.Fatalf("/counter: status %d, want 200; body %q", status, body)
			}
			want := tc.wantVisit
			if want == 0 {
				want = 1
			}
			if wantBody := fmt.Sprintf("This is your %d visit", want); body != wantBody {
				t.Errorf("/counter: body %q, want %q", body, wantBody)
			}
			got := setCookies(header, name)
			if len(got) != 1 {
				t.Fatalf("/counter: %d Set-Cookie for %s, want 1: %q", len(got), name, header.Values("Set-Cookie"))
			}
			c := got[0]
			if c.Value == "" || c.MaxAge <= 0 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("/counter: the new cookie is not a live HttpOnly SameSite=Lax session cookie: %s", c.Raw)
			}
			for _, l := range lines {
				if strings.Contains(l, name+"="+c.Value) && tc.keepID == "" {
					t.Errorf("/counter kept the cookie value the client sent")
				}
			}
			if tc.keepID != "" && c.Value != tc.keepID {
				t.Errorf("/counter: session id %q, want the stored session's id kept", c.Value)
			}
			if rdb != nil {
				if !session.ValidID(c.Value) {
					t.Errorf("new session id %q does not have the shape of an id", c.Value)
				}
				checkRedisSession(t, rdb, c.Value, want)
				after := snapshot(t, rdb)
				for k, v := range before {
					if k == sessionKey(tc.keepID) {
						continue
					}
					if after[k] != v {
						t.Errorf("the request changed %s from %q to %q", k, v, after[k])
					}
				}
			}

			status, _, body = get(t, srv, "/", lines, tc.raw)
			if status != http.StatusOK {
				t.Fatalf("/: status %d, want 200", status)
			}
			if !strings.Contains(body, `<strong id="count">`) {
				t.Errorf("/: no count in the page:\n%s", body)
			}
		})
	}
}

// snapshot returns the values (or types, for keys that are not strings) of
// every key in Redis.
func snapshot(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if typ != "string" {
			out[k] = "<" + typ + ">"
			continue
		}
		v, err := rdb.Get(ctx, k).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

// setCookies returns the response's Set-Cookie values for name.
func setCookies(h http.Header, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// get requests path with the Cookie header lines, through net/http's client
// or, when raw, over a plain TCP connection.
func get(t *testing.T, srv *demoServer, path string, cookieLines []string, raw bool) (int, http.Header, string) {
	t.Helper()
	if raw {
		return rawGet(t, srv, path, cookieLines)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["Cookie"] = cookieLines
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: read the body: %v", path, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// rawGet writes an HTTP/1.1 request byte for byte and reads the answer.
func rawGet(t *testing.T, srv *demoServer, path string, cookieLines []string) (int, http.Header, string) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", path, u.Host)
	for _, l := range cookieLines {
		fmt.Fprintf(&b, "Cookie: %s\r\n", l)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s (raw): %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s (raw): read the body: %v", path, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}
