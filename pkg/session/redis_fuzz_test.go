package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
)

// FuzzRedisLoad stores arbitrary bytes under a session key (with no TTL)
// and sends one read-only request for it, under the JSON and the pickle
// codec. The request never fails; a value that does not start like a
// value of the codec keeps its TTL untouched (the load script's sniff); a
// value the codec reads ends with the TTL and cookie Max-Age of its own
// expiry (the override the script found, or the commit's correction where
// script and codec disagree).
func FuzzRedisLoad(f *testing.F) {
	rs := redistest.Start(f, redistest.Options{})
	rdb := rs.Client()
	managers := map[bool]*RedisManager{}
	servers := map[bool]*httptest.Server{}
	for _, pickled := range []bool{false, true} {
		var codec Codec = JSONCodec{}
		if pickled {
			codec = PickleCodec{}
		}
		m, err := NewRedisManager(rdb, RedisOptions{Options: Options{Codec: codec}})
		if err != nil {
			f.Fatal(err)
		}
		managers[pickled] = m
		servers[pickled] = httptest.NewServer(m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		f.Cleanup(servers[pickled].Close)
	}
	for _, seed := range []string{
		`{"_expires_after":30}`, `{"_expires_after":"30"}`, `{"a":{"_expires_after":30}}`,
		`{"_expires_after":30.5}`, `{"_expires_after":1e3}`, `{"_expires_after":-5}`,
		`{"\u005fexpires_after":30}`, `{"_expires_after":30,"_expires_after":60}`, `{"_expires_after":9100000000}`,
		`{"x":"\"_expires_after\""}`, `{`, "not a session", "\x00wsess:renamed:abc", "",
	} {
		f.Add([]byte(seed), false)
	}
	for _, v := range []map[string]any{{"_expires_after": 30}, {"_expires_after": 70000}, {"_expires_after": int64(1) << 31}, {"a": 1}} {
		for _, proto := range []int{2, 4} {
			b, err := PickleCodec{Protocol: proto}.Marshal(v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, true)
		}
	}
	const id = "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, value []byte, pickled bool) {
		m, srv := managers[pickled], servers[pickled]
		ctx := context.Background()
		if err := rdb.Set(ctx, m.Key(id), value, 0).Err(); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.AddCookie(&http.Cookie{Name: DefaultIDCookieName, Value: id})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		ttl := rdb.TTL(ctx, m.Key(id)).Val()
		if len(value) == 0 || !strings.Contains(m.opts.Codec.(Sniffer).LeadingBytes(), string(value[:1])) {
			if ttl != -1 {
				t.Fatalf("a value that is no session of the codec got TTL %v", ttl)
			}
			return
		}
		values, err := m.opts.Codec.Unmarshal(value)
		if err != nil {
			return // starts like one, is not: its TTL slid (not promised otherwise)
		}
		want := (&Session{values: values}).expireOrLocked(m.opts.Expire)
		var maxAge int
		for _, c := range resp.Cookies() {
			if c.Name == DefaultIDCookieName {
				maxAge = c.MaxAge
			}
		}
		// The cookie lives until the absolute deadline when there is one
		// (stored, or from this first read of a value without one).
		cookieWant := want
		if m.absolute > 0 {
			created, ok := createdOf(values)
			if !ok {
				created = time.Now()
			}
			cookieWant = time.Until(created.Add(m.absolute)).Round(time.Second)
			want = min(want, cookieWant)
		}
		if d := time.Duration(maxAge)*time.Second - cookieWant; d < -2*time.Second || d > 2*time.Second || ttl > want+time.Second || ttl < want-2*time.Second {
			t.Fatalf("session with expiry %v: TTL %v, cookie Max-Age %d", want, ttl, maxAge)
		}
	})
}
