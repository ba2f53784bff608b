package session_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/frameworks"
	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

var targets = frameworks.Targets

// TestGoAndPythonShareRedisSession: for every framework the runner offers,
// a Go handler (RedisManager with PickleCodec, through httptest) and the
// framework's real Redis pipe (pyreal redis-incr) take turns on one
// session in a real redis-server: each increments the same counter, and
// neither loses the other's values.
func TestGoAndPythonShareRedisSession(t *testing.T) {
	for _, fw := range pyreal.Frameworks(t) {
		if strings.HasSuffix(fw, "-legacy") {
			continue // the same Redis pipe as emmett-2.4.14
		}
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			prefix, cookieName := py.Info().String("prefix"), py.Info().String("cookie_name")
			rs := redistest.Start(t, redistest.Options{})
			for _, tg := range []session.Target{targets[fw], session.TargetAny} {
				t.Run(string(tg), func(t *testing.T) {
					m, err := session.NewRedisManager(rs.Client(), session.RedisOptions{Prefix: prefix, Options: session.Options{
						CookieName: cookieName, Codec: session.PickleCodec{Target: tg}}})
					if err != nil {
						t.Fatal(err)
					}
					mux := http.NewServeMux()
					mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
						s := session.From(r.Context())
						n := s.Incr("counter", 1)
						s.Set("go_turns", s.Int("go_turns")+1)
						fmt.Fprint(w, n)
					})
					srv := httptest.NewServer(m.Middleware(mux))
					defer srv.Close()
					c := newClient(t, srv)

					// Python starts the session.
					r := py.Must(t, map[string]any{"op": "redis-incr", "redis_url": rs.URL(), "prefix": prefix, "sid": nil, "field": "counter"})
					sid := r.String("sid")
					if r["value"] != json.Number("1") || sid == "" {
						t.Fatalf("python's first request: %v", r)
					}
					c.setCookie(cookieName, sid)
					for turn := 1; turn <= 3; turn++ {
						if got, want := c.mustGet("/counter"), fmt.Sprint(2*turn); got != want {
							t.Fatalf("turn %d: Go counted %s, want %s", turn, got, want)
						}
						if c.cookie(cookieName) != sid {
							t.Fatalf("turn %d: Go changed the session id", turn)
						}
						r := py.Must(t, map[string]any{"op": "redis-incr", "redis_url": rs.URL(), "prefix": prefix, "sid": sid, "field": "counter"})
						if r.String("sid") != sid || r["value"] != json.Number(fmt.Sprint(2*turn+1)) {
							t.Fatalf("turn %d: python answered %v", turn, r)
						}
						var data map[string]any
						if err := json.Unmarshal(r.Data(), &data); err != nil {
							t.Fatal(err)
						}
						if data["go_turns"] != float64(turn) {
							t.Fatalf("turn %d: python lost Go's value: %v", turn, data)
						}
					}
				})
			}
		})
	}
}

// TestPickleCodecReadsEmmettSessions: a session an Emmett app stored (a
// UUID4 id, a protocol-4 pickle written by CPython, from the interop
// vectors) is read by a Go handler.
func TestPickleCodecReadsEmmettSessions(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	// From the interop vectors: CPython's pickle.dumps(sdict(counter=7), 4),
	// sdict from weppy.datastructures.
	py, err := hex.DecodeString("80049532000000000000008c1477657070792e6461746173747275637475726573948c0573646963749493942981948c07636f756e746572944b07732e")
	if err != nil {
		t.Fatal(err)
	}
	id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	rdb.Set(context.Background(), "emtsess:"+id, py, time.Hour)
	m, _ := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "emtsess:", Options: session.Options{CookieName: "emt_session_data_app", Codec: session.PickleCodec{}}})
	srv := httptest.NewServer(m.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	c.setCookie("emt_session_data_app", id)
	if got := c.mustGet("/counter"); got != "This is your 8 visit" {
		t.Fatalf("%q", got)
	}
	if c.cookie("emt_session_data_app") != id {
		t.Fatal("the Emmett session id was not kept")
	}
}

// TestEmmettCookieFormat: a Go service sealing Emmett cookies opens cookies
// sealed the Emmett way (compressed too) and refuses them under another
// secret. That the real Emmett code reads what it writes, and the other way
// round, is TestPythonCookieFormats and internal/pyreal's matrix.
func TestEmmettCookieFormat(t *testing.T) {
	const secret = "shared-with-the-emmett-app"
	m, err := session.NewCookieManager(secret, session.CookieOptions{Format: session.FormatEmmett, Options: session.Options{CookieName: "emt_session_data_app"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	for i := 1; i <= 2; i++ {
		c.mustGet("/counter")
	}
	value := c.cookie("emt_session_data_app")
	if _, err := pycookie.OpenEmmett(value, secret); err != nil {
		t.Fatalf("the cookie is not an Emmett cookie: %v", err)
	}

	// A cookie sealed the Emmett way by someone else opens too.
	pk, _ := pickle.Marshal(map[string]any{"counter": int64(41)})
	foreign, err := pycookie.SealEmmett(pk, secret, 6) // compressed, as with compression_level
	if err != nil {
		t.Fatal(err)
	}
	c2 := newClient(t, srv)
	c2.setCookie("emt_session_data_app", foreign)
	if got := c2.mustGet("/counter"); got != "This is your 42 visit" {
		t.Fatalf("Emmett-sealed cookie: %q", got)
	}
	// Under another secret it is a new session.
	other, _ := session.NewCookieManager("not-the-shared-secret", session.CookieOptions{Format: session.FormatEmmett, Options: session.Options{CookieName: "emt_session_data_app"}})
	if _, _, err := other.Open(foreign); err == nil {
		t.Fatal("opened under another secret")
	}
}

// TestPythonCookieFormats: a Go handler with the weppy or Emmett cookie
// format and a real weppy/Emmett app (pyreal) share the session cookie:
// each reads what the other wrote and keeps counting.
func TestPythonCookieFormats(t *testing.T) {
	const secret = "shared-with-the-python-app"
	for _, fw := range pyreal.Frameworks(t) {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			format := session.FormatEmmett
			if py.Info().String("cookie_format") == "weppy" {
				format = session.FormatWeppy
			}
			name := py.Info().String("cookie_name")
			m, err := session.NewCookieManager(secret, session.CookieOptions{Format: format,
				Options: session.Options{CookieName: name, Codec: session.PickleCodec{Target: targets[fw]}}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Middleware(counterMux()))
			defer srv.Close()
			c := newClient(t, srv)
			value := ""
			for turn := 0; turn < 3; turn++ {
				// Python counts on the cookie Go wrote (none at first).
				r := py.Must(t, map[string]any{"op": "make-cookie", "key": secret, "session": map[string]any{}, "actions": []any{"counter"}})
				if value != "" {
					back := py.Must(t, map[string]any{"op": "read-cookie", "key": secret, "cookie": value})
					var data map[string]any
					if err := json.Unmarshal(back.Data(), &data); err != nil {
						t.Fatal(err)
					}
					data["counter"] = json.Number(fmt.Sprint(2*turn + 1))
					r = py.Must(t, map[string]any{"op": "make-cookie", "key": secret, "session": data})
				}
				c.setCookie(name, r.String("cookie"))
				if got, want := c.mustGet("/counter"), fmt.Sprintf("This is your %d visit", 2*turn+2); got != want {
					t.Fatalf("turn %d: Go answered %q, want %q", turn, got, want)
				}
				value = c.cookie(name)
				back := py.Must(t, map[string]any{"op": "read-cookie", "key": secret, "cookie": value})
				if got, want := string(back.Data()), fmt.Sprintf(`{"counter":%d}`, 2*turn+2); got != want {
					t.Fatalf("turn %d: %s read Go's cookie as %s, want %s", turn, fw, got, want)
				}
			}
		})
	}
}

func TestWeppyFormatRefusesLongSecrets(t *testing.T) {
	tests := []struct {
		secret string
		ok     bool
	}{
		{strings.Repeat("k", 31), true},
		{strings.Repeat("k", 32), false},
		{strings.Repeat("é", 16), false}, // 16 characters, 32 bytes
	}
	for _, tt := range tests {
		_, err := session.NewCookieManager(tt.secret, session.CookieOptions{Format: session.FormatWeppy})
		if tt.ok && err != nil || !tt.ok && !errors.Is(err, session.ErrInvalidOptions) {
			t.Errorf("secret of %d bytes: err = %v", len(tt.secret), err)
		}
	}
	var tg session.Target
	if err := tg.UnmarshalText([]byte("emmett-3")); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("UnmarshalText(emmett-3): %v", err)
	}
	if _, err := (session.PickleCodec{Target: "emmett-3"}).Marshal(map[string]any{}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("Marshal with an unknown target: %v", err)
	}
}

// TestCSRFStoreKeepsItsClass: a session holding a CSRF token store that a
// Go handler rewrote for the framework's target is loaded by the real
// framework with its CSRFStorage class (its forms call gen_token on it):
// after the framework's own Redis pipe saves the session again, the value
// still names the class. With TargetAny it becomes a plain dict, as the
// README says.
func TestCSRFStoreKeepsItsClass(t *testing.T) {
	for _, fw := range []string{"weppy-1.3.4", "emmett-2.4.14", "emmett-2.5.13", "emmett-2.7.1"} {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			prefix, cookieName := py.Info().String("prefix"), py.Info().String("cookie_name")
			class := "emmett.security"
			if fw == "weppy-1.3.4" {
				class = "weppy.security"
			}
			rs := redistest.Start(t, redistest.Options{})
			rdb := rs.Client()
			for _, tg := range []session.Target{targets[fw], session.TargetAny} {
				made := py.Must(t, map[string]any{"op": "make-redis-value", "session": map[string]any{"counter": 1}, "actions": []any{"csrf"}})
				raw, err := hex.DecodeString(made.String("value_hex"))
				if err != nil {
					t.Fatal(err)
				}
				sid := made.String("sid")
				if err := rdb.Set(context.Background(), prefix+sid, raw, time.Hour).Err(); err != nil {
					t.Fatal(err)
				}
				m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: prefix, Options: session.Options{
					CookieName: cookieName, Codec: session.PickleCodec{Target: tg}}})
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(m.Middleware(counterMux()))
				c := newClient(t, srv)
				c.setCookie(cookieName, sid)
				if got := c.mustGet("/counter"); got != "This is your 2 visit" {
					t.Fatalf("target %s: Go answered %q", tg, got)
				}
				srv.Close()
				py.Must(t, map[string]any{"op": "redis-incr", "redis_url": rs.URL(), "prefix": prefix, "sid": sid, "field": "counter"})
				saved, err := rdb.Get(context.Background(), prefix+sid).Bytes()
				if err != nil {
					t.Fatal(err)
				}
				kept := bytes.Contains(saved, []byte(class)) && bytes.Contains(saved, []byte("CSRFStorage"))
				if kept != (tg != session.TargetAny) {
					t.Errorf("target %s: after %s saved the session, CSRFStorage kept = %v", tg, fw, kept)
				}
			}
		})
	}
}

// FuzzOpenPythonCookie: the weppy and Emmett cookie formats of the cookie
// manager never panic on hostile values, and whatever opens seals again.
func FuzzOpenPythonCookie(f *testing.F) {
	const secret = "fuzzing-secret-0123456789"
	managers := map[bool]*session.CookieManager{}
	for _, weppy := range []bool{false, true} {
		format := session.FormatEmmett
		if weppy {
			format = session.FormatWeppy
		}
		m, err := session.NewCookieManager(secret, session.CookieOptions{Format: format})
		if err != nil {
			f.Fatal(err)
		}
		managers[weppy] = m
		for _, v := range []map[string]any{{}, {"counter": 1}, {"_csrf": map[string]any{"t": 1}, "n": []any{1.5, "x"}}} {
			c, err := m.Seal(v, 0)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(c, weppy)
		}
		f.Add(":", weppy)
		f.Add("::", weppy)
	}
	f.Fuzz(func(t *testing.T, cookie string, weppy bool) {
		m := managers[weppy]
		values, _, err := m.Open(cookie)
		if err != nil {
			if !errors.Is(err, session.ErrInvalidCookie) {
				t.Fatalf("error %v does not wrap ErrInvalidCookie", err)
			}
			return
		}
		if _, err := m.Seal(values, 0); err != nil && !errors.Is(err, session.ErrCookieTooLarge) {
			t.Fatalf("opened values do not seal again: %v", err)
		}
	})
}
