package pyreal_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/frameworks"
	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/pkg/session"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pyreal.CloseAll()
	os.Exit(code)
}

var targets = frameworks.Targets

// sessionCase is one session of the matrix: what pyreal stores (its
// tagged JSON) and the framework actions run on it.
type sessionCase struct {
	name    string
	session map[string]any
	actions []any
	// zoned: holds pendulum, pytz or zoneinfo dates (FORMATS.md 1a).
	zoned bool
	// only: run for these frameworks only (nil: all).
	only func(fw string) bool
	// cookieOnly: run the cookie directions for these frameworks only (nil:
	// all that only allows).
	cookieOnly func(fw string) bool
	// sets are the members holding a set: Python's iteration order is not
	// the runner's (it sorts), so they compare as sorted.
	sets []string
	// allKeys: run the cookie directions with every key (else the first).
	allKeys bool
}

func isWeppy(fw string) bool       { return fw == "weppy-1.3.4" }
func notEmmettCore(fw string) bool { return fw != "emmett-core-1.3.11" }
func onPython39(fw string) bool    { return !isWeppy(fw) } // the runner has no pytz/zoneinfo for weppy's CPython 3.7

// onPendulum3 is true for the frameworks that pickle pendulum 3 (Emmett 2.5
// and later), whose named zones pickle as their name.
func onPendulum3(fw string) bool { return !isWeppy(fw) && !strings.HasPrefix(fw, "emmett-2.4.") }

// authSession is the shape weppy's and Emmett's auth modules store.
var authSession = map[string]any{"auth": map[string]any{"$sdict": map[string]any{
	"user":         map[string]any{"id": 42, "email": "ann@example.com", "first_name": "Ann"},
	"last_visit":   map[string]any{"$datetime": "2024-05-17T13:45:30.123456"},
	"last_dbcheck": map[string]any{"$datetime": "2024-05-17T13:45:30.123456"},
	"expiration":   3600, "remember": true,
}}}

var cases = []sessionCase{
	{name: "counter", allKeys: true, session: map[string]any{"counter": 41}, actions: []any{"counter"}},
	{name: "flash-stored", session: map[string]any{"_flashes": []any{map[string]any{"$tuple": []any{"success", "Saved ✓"}}, map[string]any{"$tuple": []any{"message", "Second"}}}}},
	{name: "flash", only: notEmmettCore, session: map[string]any{"user_id": 7}, actions: []any{"flash", map[string]any{"name": "flash", "message": "Ünïcode 😀", "category": "error"}}},
	{name: "csrf", session: map[string]any{}, actions: []any{"csrf"}, only: notEmmettCore},
	{name: "login", session: map[string]any{}, actions: []any{"login"}, only: isWeppy},
	{name: "auth-shape", session: authSession},
	{name: "unicode", allKeys: true, session: map[string]any{"name": "Zoë ✓ 😀 𝄞", "ключ": "значение", "日本語": "テキスト", "emoji 🎉": "", "ctrl": "tab\tnl\n\"q\"\\"}},
	{name: "nested", session: map[string]any{"n": map[string]any{"a": map[string]any{"b": []any{1, map[string]any{"c": []any{2, []any{3, "x"}}}}}}, "l": []any{[]any{}, map[string]any{}, []any{1.5}}}},
	{name: "floats", session: map[string]any{"f": 1.5, "neg": -0.25, "e": 1e21, "small": 1.0e-7, "third": 0.3333333333333333, "max": 1.7976931348623157e308, "negzero": map[string]any{"$float": "-0.0"}}},
	{name: "none-bools", session: map[string]any{"none": nil, "t": true, "f": false, "list": []any{nil, true, false}}},
	{name: "bytes", allKeys: true, session: map[string]any{"b": map[string]any{"$bytes": "AP8QgA=="}, "empty": map[string]any{"$bytes": ""}, "ba": map[string]any{"$bytearray": "YWJj"}, "latin": map[string]any{"$bytes": "6eDk/w=="}}},
	{name: "dates", session: map[string]any{
		"dt": map[string]any{"$datetime": "2024-05-17T13:45:30.123456"}, "dt0": map[string]any{"$datetime": "2000-01-01T00:00:00"},
		"utc": map[string]any{"$datetime": "2024-05-17T13:45:30Z"}, "plus2": map[string]any{"$datetime": "2024-05-17T13:45:30+02:00"},
		"minus0530": map[string]any{"$datetime": "2024-05-17T13:45:30.000500-05:30"}, "d": map[string]any{"$date": "2024-02-29"},
		"t": map[string]any{"$time": "13:45:30.500000"}, "last": map[string]any{"$datetime": "9999-12-31T23:59:59.999999"},
	}},
	{name: "bigints", session: map[string]any{"big": json.Number("1180591620717411303424"), "neg": json.Number("-1180591620717411303424"), "i64": json.Number("9223372036854775807"), "i64min": json.Number("-9223372036854775808"), "zero": 0, "b2": 65535}},
	{name: "sets-tuples", sets: []string{"s", "fs"}, session: map[string]any{"s": map[string]any{"$set": []any{3, 1, 2}}, "fs": map[string]any{"$frozenset": []any{"b", "a"}}, "t": map[string]any{"$tuple": []any{1, "x", nil}}, "empty": map[string]any{"$tuple": []any{}}}},
	{name: "pendulum", zoned: true, session: map[string]any{
		"p": map[string]any{"$pendulum": "2024-05-17T13:45:30.500000"}, "p_fixed": map[string]any{"$pendulum": "2024-05-17T13:45:30-03:00"},
		"pd": map[string]any{"$pendulum_date": "2024-05-17"}, "pt": map[string]any{"$pendulum_time": "13:45:30"},
	}},
	// pendulum 2 (weppy, Emmett 2.4) pickles a named zone with its whole
	// transition table: about 90 kB for Europe/Rome, far past the 4096
	// bytes a browser keeps for a cookie, so that cookie only exists in
	// Redis (the cookie manager refuses it as too long; TestPendulum2ZoneCookieRefused).
	{name: "pendulum-named-zone", zoned: true, cookieOnly: onPendulum3, session: map[string]any{
		"p_rome": map[string]any{"$pendulum": "2024-05-17T13:45:30", "tz": "Europe/Rome"},
	}},
	{name: "now", zoned: true, session: map[string]any{}, actions: []any{"now"}},
	{name: "pytz", zoned: true, only: onPython39, session: map[string]any{
		"rome": map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "pytz:Europe/Rome"},
		"ny":   map[string]any{"$datetime": "2024-01-17T13:45:30", "tz": "pytz:America/New_York"},
	}},
	{name: "zoneinfo", zoned: true, only: onPython39, session: map[string]any{
		"rome":  map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "zoneinfo:Europe/Rome"},
		"tokyo": map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "zoneinfo:Asia/Tokyo"},
	}},
}

// keys are the app secrets of the cookie directions: weppy's format cannot
// use 32 bytes or more.
func keys(s *pyreal.Server) []string {
	ks := []string{"public-example-key", "pübl1c-kéy-ünicode", "a-31-character-secret-for-weppy"}
	if s.Info().String("cookie_format") == "emmett" {
		ks = append(ks, "a-32-character-secret-for-emmett", strings.Repeat("0123456789abcdef", 4))
	}
	return ks
}

func cookieFormat(s *pyreal.Server) session.CookieFormat {
	if s.Info().String("cookie_format") == "weppy" {
		return session.FormatWeppy
	}
	return session.FormatEmmett
}

// goJSON renders decoded session values as FORMATS.md does, canonical.
func goJSON(t *testing.T, values map[string]any) any {
	t.Helper()
	b, err := json.Marshal(inspect.ToJSON(values))
	if err != nil {
		t.Fatal(err)
	}
	return interop.MustCanonical(t, b)
}

// plainBytes turns the CLI's marked bytes ({"$bytes": base64}) back into
// the base64 strings the runner writes for Python bytes, so that what the
// CLI shows compares with what Python holds.
func plainBytes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["$bytes"]; ok && len(x) == 1 {
			return b
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainBytes(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainBytes(e)
		}
		return out
	}
	return v
}

func same(t *testing.T, c sessionCase, what string, got any, want []byte) {
	t.Helper()
	w := interop.MustCanonical(t, want)
	for _, k := range c.sets {
		sortMember(got, k)
		sortMember(w, k)
	}
	if !reflect.DeepEqual(got, w) {
		gb, _ := json.Marshal(got)
		t.Errorf("%s:\n got  %s\n want %s", what, gb, want)
	}
}

// sortMember sorts the array v[k] by the JSON of its elements.
func sortMember(v any, k string) {
	m, _ := v.(map[string]any)
	a, _ := m[k].([]any)
	sort.Slice(a, func(i, j int) bool {
		x, _ := json.Marshal(a[i])
		y, _ := json.Marshal(a[j])
		return string(x) < string(y)
	})
}

func manager(t *testing.T, s *pyreal.Server, key string, target session.Target) *session.CookieManager {
	t.Helper()
	m, err := session.NewCookieManager(key, session.CookieOptions{
		Format:           cookieFormat(s),
		AllowShortSecret: true,
		Options:          session.Options{CookieName: s.Info().String("cookie_name"), Codec: session.PickleCodec{Target: target}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRealFrameworks is the interop matrix: for every framework the
// runner offers, every session case, both directions for cookies (every
// key) and Redis values. "theirs": the real code writes, wsess reads (the
// library and the CLI's decoder) and must show what the real code itself
// reads back. "ours": wsess writes for the framework's target (and for
// TargetAny), the real code reads, and must load the same values. Cases
// with pendulum/pytz/zoneinfo dates are in the zoned-dates group.
func TestRealFrameworks(t *testing.T) {
	for _, fw := range pyreal.Frameworks(t) {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			s := pyreal.Shared(t, fw)
			target, ok := targets[fw]
			if !ok {
				t.Fatalf("no pickle target known for %s: add it to the table", fw)
			}
			for _, c := range cases {
				if c.only != nil && !c.only(fw) {
					continue
				}
				group := "plain"
				if c.zoned {
					group = "zoned-dates"
				}
				t.Run(group+"/"+c.name, func(t *testing.T) {
					ks := keys(s)
					if !c.allKeys {
						ks = ks[:1] // the cipher does not depend on the contents
					}
					if c.cookieOnly != nil && !c.cookieOnly(fw) {
						ks = nil
					}
					for _, key := range ks {
						t.Run("cookie/"+key, func(t *testing.T) { cookieBothWays(t, s, c, key, target) })
					}
					t.Run("redis", func(t *testing.T) { redisBothWays(t, s, c, target) })
				})
			}
		})
	}
}

func cookieBothWays(t *testing.T, s *pyreal.Server, c sessionCase, key string, target session.Target) {
	made := s.Must(t, map[string]any{"op": "make-cookie", "key": key, "session": c.session, "actions": c.actions})
	want := made.Data()
	// Theirs, through the library's cookie manager.
	m := manager(t, s, key, target)
	values, _, err := m.Open(made.String("cookie"))
	if err != nil {
		t.Fatalf("the cookie manager cannot open %s's cookie: %v", s.Framework, err)
	}
	same(t, c, "library reads their cookie", goJSON(t, values), want)
	// Theirs, through the CLI's decoder, as the Set-Cookie header's value.
	pair, _, _ := strings.Cut(made.String("set_cookie"), ";")
	got, err := inspect.DecodeCookie("Cookie: theme=dark; "+pair, inspect.CookieOptions{Secrets: []string{key}})
	if err != nil {
		t.Fatalf("wsess decode cannot open %s's cookie: %v", s.Framework, err)
	}
	same(t, c, "wsess decode reads their cookie", goJSON(t, plainBytes(got.Data).(map[string]any)), want)
	// Ours, for the framework's target and for TargetAny.
	for _, tg := range []session.Target{target, session.TargetAny} {
		ours, err := manager(t, s, key, tg).Seal(withoutObjects(values), 0)
		if err != nil {
			t.Fatal(err)
		}
		back := s.Must(t, map[string]any{"op": "read-cookie", "key": key, "cookie": ours})
		same(t, c, fmt.Sprintf("%s reads our cookie (target %s)", s.Framework, tg), interop.MustCanonical(t, back.Data()), want)
	}
}

func redisBothWays(t *testing.T, s *pyreal.Server, c sessionCase, target session.Target) {
	if len(c.session) == 0 && len(c.actions) == 0 {
		return
	}
	made := s.Must(t, map[string]any{"op": "make-redis-value", "session": c.session, "actions": c.actions})
	want := made.Data()
	raw, err := hex.DecodeString(made.String("value_hex"))
	if err != nil {
		t.Fatal(err)
	}
	values, err := session.PickleCodec{}.Unmarshal(raw)
	if err != nil {
		t.Fatalf("PickleCodec cannot read %s's Redis value: %v", s.Framework, err)
	}
	same(t, c, "PickleCodec reads their value", goJSON(t, values), want)
	shown, err := inspect.DecodeValue(raw, "")
	if err != nil {
		t.Fatalf("wsess redis show cannot read %s's Redis value: %v", s.Framework, err)
	}
	same(t, c, "wsess redis show reads their value", goJSON(t, plainBytes(shown.Data).(map[string]any)), want)
	for _, tg := range []session.Target{target, session.TargetAny} {
		ours, err := session.PickleCodec{Target: tg}.Marshal(withoutObjects(values))
		if err != nil {
			t.Fatal(err)
		}
		back := s.Must(t, map[string]any{"op": "read-redis-value", "value_hex": hex.EncodeToString(ours)})
		same(t, c, fmt.Sprintf("%s reads our value (target %s)", s.Framework, tg), interop.MustCanonical(t, back.Data()), want)
	}
}

// withoutObjects replaces the objects of other classes in decoded values
// (weppy's auth user Row, CSRFStorage) by their state, as a Go app that
// builds the same session holds them: the encoder writes no foreign class.
func withoutObjects(v map[string]any) map[string]any {
	return plainValue(v).(map[string]any)
}

func plainValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = plainValue(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = plainValue(x)
		}
		return s
	case pickle.Object:
		return plainValue(t.State)
	}
	return v
}

// TestPendulum2ZoneCookieRefused: a pendulum 2 date in a named zone makes a
// cookie of about 90 kB (the zone's transition table is pickled with it),
// which no browser keeps; the cookie manager refuses it as invalid rather
// than spending a decode on it, and the Redis value of the same session
// reads exactly (the pendulum-named-zone case of TestRealFrameworks).
func TestPendulum2ZoneCookieRefused(t *testing.T) {
	for _, fw := range []string{"weppy-1.3.4", "emmett-2.4.14"} {
		t.Run(fw, func(t *testing.T) {
			s := pyreal.Shared(t, fw)
			key := keys(s)[0]
			made := s.Must(t, map[string]any{"op": "make-cookie", "key": key, "session": map[string]any{
				"p_rome": map[string]any{"$pendulum": "2024-05-17T13:45:30", "tz": "Europe/Rome"},
			}})
			cookie := made.String("cookie")
			if len(cookie) <= 4096 {
				t.Fatalf("%s's cookie is %d bytes; this test expects pendulum 2 to pickle the zone's table", fw, len(cookie))
			}
			if _, _, err := manager(t, s, key, targets[fw]).Open(cookie); !errors.Is(err, session.ErrInvalidCookie) {
				t.Fatalf("Open of a %d-byte cookie: %v, want ErrInvalidCookie", len(cookie), err)
			}
		})
	}
}
