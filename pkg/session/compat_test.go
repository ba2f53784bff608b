package session_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// traced wraps a codec without changing its bytes (to count its calls, as
// a metrics wrapper would) and forwards Encoding and LeadingBytes, as the
// Codec docs ask: it must behave as the codec it wraps.
type traced struct {
	inner session.Codec
	calls *atomic.Int64
}

func (c traced) Marshal(v map[string]any) ([]byte, error) {
	c.calls.Add(1)
	return c.inner.Marshal(v)
}

func (c traced) Unmarshal(b []byte) (map[string]any, error) {
	c.calls.Add(1)
	return c.inner.Unmarshal(b)
}

func (c traced) Encoding() session.Encoding {
	return c.inner.(session.EncodingReporter).Encoding()
}

func (c traced) LeadingBytes() string { return c.inner.(session.Sniffer).LeadingBytes() }

// opaque wraps a codec and reports nothing about its bytes.
type opaque struct{ inner session.Codec }

func (c opaque) Marshal(v map[string]any) ([]byte, error)   { return c.inner.Marshal(v) }
func (c opaque) Unmarshal(b []byte) (map[string]any, error) { return c.inner.Unmarshal(b) }

// TestCompatWrappedJSONCodec: a wrapped JSONCodec keeps the JSON store's
// defaults: hashed ids and the 24 h absolute lifetime. A session used every
// 50 minutes ends at 24 h, not later (the absolute lifetime must not
// depend on the codec's concrete type, or a wrapper would silently lose it).
func TestCompatWrappedJSONCodec(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	clk := newFakeClock()
	var calls atomic.Int64
	srv, m := newManagedServer(t, rdb, session.RedisOptions{Options: session.Options{
		Codec: traced{session.JSONCodec{}, &calls}, Clock: clk.Now,
	}})
	c := newClient(t, srv)
	c.mustGet("/incr")
	id := c.cookie(session.DefaultIDCookieName)
	if n := rdb.Exists(t.Context(), session.DefaultPrefix+session.HashID(id)).Val(); n != 1 {
		t.Fatal("the wrapped JSON codec's session is not stored under a hashed id")
	}
	start := clk.Now()
	for want := 2; ; want++ {
		clk.Advance(50 * time.Minute)
		got := c.mustGet("/incr")
		if clk.Now().Sub(start) < session.DefaultAbsoluteTimeout {
			if got != fmt.Sprint(want) {
				t.Fatalf("after %v: counter %s, want %d", clk.Now().Sub(start), got, want)
			}
			continue
		}
		if got != "1" {
			t.Fatalf("after %v, past the 24 h absolute lifetime: counter %s, want a new session's 1", clk.Now().Sub(start), got)
		}
		if clk.Now().Sub(start) > 25*time.Hour {
			t.Fatalf("ran past 25 h")
		}
		break
	}
	if calls.Load() == 0 {
		t.Fatal("the wrapper was never called")
	}
	if ttl := rdb.TTL(t.Context(), m.Key(c.cookie(session.DefaultIDCookieName))).Val(); ttl <= 0 {
		t.Fatalf("the new session's TTL %v", ttl)
	}
}

// TestCompatWrappedPickleCodec: a wrapped PickleCodec keeps raw ids, which
// the real weppy and Emmett code look sessions up by: Python reads and
// increments what Go wrote through the wrapper, under the cookie's id.
func TestCompatWrappedPickleCodec(t *testing.T) {
	for _, fw := range pyreal.Frameworks(t) {
		if strings.HasSuffix(fw, "-legacy") {
			continue // the same Redis pipe as emmett-2.4.14
		}
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			prefix, cookieName := py.Info().String("prefix"), py.Info().String("cookie_name")
			rs := redistest.Start(t, redistest.Options{})
			var calls atomic.Int64
			m, err := session.NewRedisManager(rs.Client(), session.RedisOptions{Prefix: prefix, Options: session.Options{
				CookieName: cookieName, Codec: traced{session.PickleCodec{Target: targets[fw]}, &calls}}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(counterMux()))
			defer srv.Close()
			c := newClient(t, srv)
			c.mustGet("/incr")
			c.mustGet("/incr")
			sid := c.cookie(cookieName)
			r := py.Must(t, map[string]any{"op": "redis-incr", "redis_url": rs.URL(), "prefix": prefix, "sid": sid, "field": "counter"})
			if r.String("sid") != sid || r["value"] != json.Number("3") {
				t.Fatalf("python read the wrapped codec's session as %v, want counter 3 under id %s", r, sid)
			}
			if got := c.mustGet("/incr"); got != "4" {
				t.Fatalf("Go after Python: %s, want 4", got)
			}
			if calls.Load() == 0 {
				t.Fatal("the wrapper was never called")
			}
		})
	}
}

// TestCompatDecidesDefaults: Compat, or the codec's Encoding when it is
// CompatAuto, decides hashed ids, the user index and the absolute lifetime;
// a codec that reports no Encoding must name its Compat.
func TestCompatDecidesDefaults(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	for _, tt := range []struct {
		name    string
		codec   session.Codec
		compat  session.Compat
		err     bool
		hashed  bool
		lifeEnd bool // the session ends at 24 h
	}{
		{"JSON", session.JSONCodec{}, session.CompatAuto, false, true, true},
		{"pickle", session.PickleCodec{}, session.CompatAuto, false, false, false},
		{"opaque", opaque{session.JSONCodec{}}, session.CompatAuto, true, false, false},
		{"opaque wsess", opaque{session.JSONCodec{}}, session.CompatWsess, false, true, true},
		{"opaque python", opaque{session.PickleCodec{}}, session.CompatPython, false, false, false},
		{"JSON as python", session.JSONCodec{}, session.CompatPython, false, false, false},
		{"pickle as wsess", session.PickleCodec{}, session.CompatWsess, false, true, true},
		{"unknown compat", session.JSONCodec{}, session.Compat(7), true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "compat:" + tt.name + ":", Options: session.Options{
				Codec: tt.codec, Compat: tt.compat, Clock: clk.Now,
			}})
			if tt.err {
				if !errors.Is(err, session.ErrInvalidOptions) || !strings.Contains(err.Error(), "Compat") {
					t.Fatalf("NewRedisManager = %v, want ErrInvalidOptions naming Compat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(managementMux()))
			defer srv.Close()
			c := newClient(t, srv)
			c.mustGet("/login?user=ana")
			id := c.cookie(session.DefaultIDCookieName)
			key := "compat:" + tt.name + ":" + id
			if tt.hashed {
				key = "compat:" + tt.name + ":" + session.HashID(id)
			}
			if rdb.Exists(t.Context(), key).Val() != 1 {
				t.Fatalf("session not stored under %q (hashed: %v)", key, tt.hashed)
			}
			_, ierr := m.UserSessions(t.Context(), "ana")
			if tt.hashed == errors.Is(ierr, session.ErrNoIndex) {
				t.Fatalf("UserSessions: %v; want the index kept exactly with hashed ids", ierr)
			}
			clk.Advance(session.DefaultAbsoluteTimeout)
			ended := !strings.HasPrefix(c.mustGet("/whoami"), "user=ana ")
			if ended != tt.lifeEnd {
				t.Fatalf("at 24 h the session ended: %v, want %v", ended, tt.lifeEnd)
			}
		})
	}
}

// TestCompatCookieFormat: the cookie manager's Format decides its Compat;
// a Compat that contradicts it is refused.
func TestCompatCookieFormat(t *testing.T) {
	for _, tt := range []struct {
		format session.CookieFormat
		compat session.Compat
		ok     bool
	}{
		{session.FormatWsess, session.CompatAuto, true},
		{session.FormatWsess, session.CompatWsess, true},
		{session.FormatWsess, session.CompatPython, false},
		{session.FormatEmmett, session.CompatPython, true},
		{session.FormatEmmett, session.CompatWsess, false},
		{session.FormatWeppy, session.CompatAuto, true},
	} {
		_, err := session.NewCookieManager("a-secret-of-24-bytes-ok!", session.CookieOptions{
			Format: tt.format, Options: session.Options{Compat: tt.compat},
		})
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, session.ErrInvalidOptions) {
			t.Errorf("Format %v, Compat %v: %v, want ok=%v", tt.format, tt.compat, err, tt.ok)
		}
	}
	if got := fmt.Sprint(session.FormatWsess, session.FormatEmmett, session.FormatWeppy, session.CompatPython); got != "wsess emmett weppy python" {
		t.Errorf("String() = %q", got)
	}
}
