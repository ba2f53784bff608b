package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/testutil"
	"github.com/wsess/wsess/pkg/session"
)

func TestRedisPutFlags(t *testing.T) {
	const uuid = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	def := redisPutOptions{JSON: "{}", Prefix: "wppsess:", TTL: time.Hour, Format: "json", Target: "any", Hashed: true, Output: "table"}
	with := func(f func(*redisPutOptions)) redisPutOptions { o := def; f(&o); return o }
	tests := []struct {
		name      string
		args      []string
		want      redisPutOptions
		wantUsage bool
	}{
		{"defaults", []string{"{}"}, def, false},
		{"stdin", []string{"-"}, with(func(o *redisPutOptions) { o.JSON = "-" }), false},
		{"pickle stores raw ids", []string{"--format", "pickle", "--target", "weppy-1.3", "{}"},
			with(func(o *redisPutOptions) { o.Format, o.Target, o.Hashed = "pickle", "weppy-1.3", false }), false},
		{"pickle hashed", []string{"--format", "pickle", "--hashed-ids", "{}"},
			with(func(o *redisPutOptions) { o.Format = "pickle" }), false},
		{"json raw", []string{"--raw-ids", "{}"}, with(func(o *redisPutOptions) { o.Hashed = false }), false},
		{"all", []string{"--prefix", "emtsess:", "--ttl", "24h", "--id", uuid, "--cookie-name", "emt_session_data_myapp", "--force", "-o", "json", "{}"},
			with(func(o *redisPutOptions) {
				o.Prefix, o.TTL, o.ID, o.CookieName, o.Force, o.Output = "emtsess:", 24*time.Hour, uuid, "emt_session_data_myapp", true, "json"
			}), false},
		{"both id flags", []string{"--raw-ids", "--hashed-ids", "{}"}, redisPutOptions{}, true},
		{"target without pickle", []string{"--target", "weppy-1.3", "{}"}, redisPutOptions{}, true},
		{"unknown target", []string{"--format", "pickle", "--target", "weppy-2", "{}"}, redisPutOptions{}, true},
		{"unknown format", []string{"--format", "xml", "{}"}, redisPutOptions{}, true},
		{"sub-second ttl", []string{"--ttl", "500ms", "{}"}, redisPutOptions{}, true},
		{"zero ttl", []string{"--ttl", "0s", "{}"}, redisPutOptions{}, true},
		{"id of no shape", []string{"--id", "abc", "{}"}, redisPutOptions{}, true},
		{"uppercase uuid", []string{"--id", strings.ToUpper(uuid), "{}"}, redisPutOptions{}, true},
		{"bad cookie name", []string{"--cookie-name", "a=b", "{}"}, redisPutOptions{}, true},
		{"empty cookie name", []string{"--cookie-name", "", "{}"}, redisPutOptions{}, true},
		{"no argument", []string{}, redisPutOptions{}, true},
		{"two arguments", []string{"{}", "{}"}, redisPutOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*redisPutOptions)) *cobra.Command {
				return newCmdRedisPut(newFactory(ios, nil), func(o *redisPutOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			g := *got
			g.IO, g.Client = nil, nil
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
		})
	}
}

// putResult is redis put -o json.
type putResult struct {
	Key        string `json:"key"`
	Cookie     string `json:"cookie"`
	CookieName string `json:"cookie_name"`
	HashedID   bool   `json:"hashed_id"`
	TTL        int64  `json:"ttl_seconds"`
	Format     string `json:"format"`
	Target     string `json:"target"`
}

// put runs wsess redis put -o json with args against url.
func put(t *testing.T, url, stdin string, args ...string) putResult {
	t.Helper()
	r := runRedis(t, false, stdin, append([]string{"--redis-url", url, "redis", "put", "-o", "json"}, args...)...)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("put %q: exit %d, %q", args, r.Code, r.Stderr)
	}
	var p putResult
	if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
		t.Fatalf("put -o json: %v\n%s", err, r.Stdout)
	}
	return p
}

var (
	wsessIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	uuid4Re   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// TestRedisPutRoundTrips: what put stores, show reads back (JSON looked up
// by the cookie value, hashed; pickle with --raw-ids), with the key, id
// shape, TTL and format put announced.
func TestRedisPutRoundTrips(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const values = `{"counter": 41, "name": "Zoë ✓", "big": 12345678901234567890, "nested": {"a": [1, 2.5, null, true]}}`
	tests := []struct {
		name    string
		args    []string
		showArg func(p putResult) []string
		idRe    *regexp.Regexp
		hashed  bool
		format  string
	}{
		{"json", []string{values}, func(p putResult) []string { return []string{p.Cookie} }, wsessIDRe, true, "json"},
		{"json raw ids", []string{"--raw-ids", "--prefix", "raw:", values}, func(p putResult) []string { return []string{"--prefix", "raw:", "--raw-ids", p.Cookie} }, wsessIDRe, false, "json"},
		{"pickle weppy", []string{"--format", "pickle", "--target", "weppy-1.3", "--ttl", "24h", values},
			func(p putResult) []string { return []string{"--raw-ids", p.Cookie} }, uuid4Re, false, "pickle"},
		{"pickle emmett hashed", []string{"--format", "pickle", "--target", "emmett-2.6+", "--hashed-ids", "-"},
			func(p putResult) []string { return []string{p.Cookie} }, wsessIDRe, true, "pickle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := put(t, srv.URL(), values, tt.args...)
			if !tt.idRe.MatchString(p.Cookie) || !session.ValidID(p.Cookie) || p.HashedID != tt.hashed || p.Format != tt.format {
				t.Fatalf("put: %+v", p)
			}
			prefix := "wppsess:"
			if strings.Contains(p.Key, "raw:") {
				prefix = "raw:"
			}
			wantKey := prefix + p.Cookie
			if tt.hashed {
				wantKey = prefix + session.HashID(p.Cookie)
			}
			if p.Key != wantKey {
				t.Fatalf("key %q, want %q", p.Key, wantKey)
			}
			r := runRedis(t, false, "", append([]string{"--redis-url", srv.URL(), "redis", "show", "-o", "json"}, tt.showArg(p)...)...)
			if r.Code != 0 {
				t.Fatalf("show: exit %d, %q", r.Code, r.Stderr)
			}
			var shown struct {
				Key    string          `json:"key"`
				TTL    int64           `json:"ttl_seconds"`
				Format string          `json:"format"`
				Data   json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &shown); err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(shown.Data, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(values), &want); err != nil {
				t.Fatal(err)
			}
			if shown.Key != p.Key || shown.Format != tt.format || !reflect.DeepEqual(got, want) {
				t.Errorf("show: key %q format %q data %s; want %q %q %s", shown.Key, shown.Format, shown.Data, p.Key, tt.format, values)
			}
			if shown.TTL <= p.TTL-60 || shown.TTL > p.TTL {
				t.Errorf("show: TTL %d, put said %d", shown.TTL, p.TTL)
			}
		})
	}
}

// TestRedisPutRefusesOverwrite: a key that exists is left alone (exit 1,
// one house-style line) unless --force; fresh ids never collide.
func TestRedisPutRefusesOverwrite(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	const id = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	p := put(t, srv.URL(), "", "--format", "pickle", "--id", id, `{"n": 1}`)
	before, err := srv.Client().Get(ctx, p.Key).Result()
	if err != nil || p.Key != "wppsess:"+id || p.Cookie != id {
		t.Fatalf("put --id: %+v, %v", p, err)
	}
	r := runRedis(t, false, "", "--redis-url", srv.URL(), "redis", "put", "--format", "pickle", "--id", id, `{"n": 2}`)
	want := "wsess: the key already exists: wppsess:" + id + "; pass --force to overwrite it, or leave --id out for a fresh id (nothing was changed)\n"
	if r.Code != 1 || r.Stdout != "" || r.Stderr != want {
		t.Fatalf("put onto an existing key: exit %d, %q %q; want exit 1, %q", r.Code, r.Stdout, r.Stderr, want)
	}
	if after, _ := srv.Client().Get(ctx, p.Key).Result(); after != before {
		t.Fatalf("refused put changed the value")
	}
	// Any type is kept, not only sessions.
	if err := srv.Client().HSet(ctx, "wppsess:"+session.HashID(id), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if r := runRedis(t, false, "", "--redis-url", srv.URL(), "redis", "put", "--id", id, `{}`); r.Code != 1 {
		t.Fatalf("put onto a hash: exit %d, %q", r.Code, r.Stderr)
	}
	p = put(t, srv.URL(), "", "--format", "pickle", "--id", id, "--force", "--ttl", "10m", `{"n": 2}`)
	r = runRedis(t, false, "", "--redis-url", srv.URL(), "redis", "show", "--raw-ids", "-o", "json", id)
	if !strings.Contains(r.Stdout, `"n": 2`) || p.TTL != 600 {
		t.Fatalf("put --force: %+v; show: %s", p, r.Stdout)
	}
	if ttl := srv.Client().TTL(ctx, p.Key).Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Fatalf("TTL after put --force --ttl 10m: %v", ttl)
	}
	// Not JSON: a usage error, nothing stored.
	n := srv.Client().DBSize(ctx).Val()
	if r := runRedis(t, false, "", "--redis-url", srv.URL(), "redis", "put", `{"a": `); r.Code != 2 || !strings.HasPrefix(r.Stderr, "wsess: invalid JSON") {
		t.Fatalf("put of bad JSON: exit %d, %q", r.Code, r.Stderr)
	}
	if srv.Client().DBSize(ctx).Val() != n {
		t.Fatalf("bad JSON stored something")
	}
}

// TestRedisPutOutput: the labelled lines on a terminal and to a pipe.
func TestRedisPutOutput(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const id = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
	key := "wppsess:" + session.HashID(id)
	r := runRedis(t, false, "", "--redis-url", srv.URL(), "redis", "put", "--id", id, "--cookie-name", "wsess_session_id", `{"a": 1}`)
	want := "key\t" + key + "\ncookie\t" + id + "\nname\twsess_session_id\nttl\t3600\nformat\tjson\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("to a pipe: exit %d\n%s\nwant\n%s", r.Code, r.Stdout, want)
	}
	r = runRedis(t, true, "", "--redis-url", srv.URL(), "redis", "put", "--force", "--id", id, "--format", "pickle", "--target", "weppy-1.3", "--hashed-ids", `{"a": 1}`)
	for _, s := range []string{key, id + " (the session id: hashed in the key)", "1h", "pickle (weppy-1.3)"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("on a terminal: no %q in\n%s", s, r.Stdout)
		}
	}
}

// TestRedisPutDemoReadsIt: a session put by the CLI is loaded by the demo
// app (pkg/session's Redis store): its counter goes on from the value put.
func TestRedisPutDemoReadsIt(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	d := startDemo(t, nil, testEnv{envRedisURL: srv.URL()}, "--store", "redis")
	p := put(t, srv.URL(), "", "--cookie-name", session.DefaultIDCookieName, `{"counter": 41}`)
	c, jar := testutil.JarClient(t)
	jar.SetCookies(d.URL, []*http.Cookie{{Name: p.CookieName, Value: p.Cookie}})
	if code, body := get(t, c, d.URL.JoinPath("counter").String()); code != http.StatusOK || body != "This is your 42 visit" {
		t.Fatalf("GET /counter with the cookie put printed: %d %q", code, body)
	}
	if code, body := get(t, c, d.URL.String()); code != http.StatusOK || !strings.Contains(body, `<strong id="count">42</strong>`) || !strings.Contains(body, session.HashID(p.Cookie)) || strings.Contains(body, p.Cookie) {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	// The demo wrote the session back under the key put made.
	var stored map[string]any
	if err := json.Unmarshal([]byte(srv.Client().Get(context.Background(), p.Key).Val()), &stored); err != nil || stored["counter"] != float64(42) {
		t.Fatalf("stored under %s: %v, %v", p.Key, stored, err)
	}
}

// TestRedisPutRealFrameworksReadIt: a session put for a weppy or Emmett
// target is loaded by that framework's real Redis session pipe (pyreal
// redis-incr: GET prefix+sid, unpickle, increment, SETEX), which keeps
// the id and every value put.
func TestRedisPutRealFrameworksReadIt(t *testing.T) {
	targets := map[string]string{
		"weppy-1.3.4":        "weppy-1.3",
		"emmett-2.4.14":      "emmett-2.4",
		"emmett-2.5.13":      "emmett-2.5",
		"emmett-2.7.1":       "emmett-2.6+",
		"emmett-core-1.3.11": "emmett-core",
	}
	srv := redistest.Start(t, redistest.Options{})
	for _, fw := range []string{"weppy-1.3.4", "emmett-2.4.14", "emmett-2.5.13", "emmett-2.7.1", "emmett-core-1.3.11"} {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			prefix, cookieName := py.Info().String("prefix"), py.Info().String("cookie_name")
			for _, target := range []string{targets[fw], "any"} {
				p := put(t, srv.URL(), "", "--prefix", prefix, "--format", "pickle", "--target", target, "--cookie-name", cookieName,
					`{"counter": 41, "name": "Zoë ✓", "items": [1, "two", null]}`)
				if !uuid4Re.MatchString(p.Cookie) || p.Key != prefix+p.Cookie {
					t.Fatalf("put for %s: %+v", target, p)
				}
				r := py.Must(t, map[string]any{"op": "redis-incr", "redis_url": srv.URL(), "prefix": prefix, "sid": p.Cookie, "field": "counter"})
				if r.String("sid") != p.Cookie || r["value"] != json.Number("42") || r["new"] == true {
					t.Fatalf("%s read the session put for %s as %v", fw, target, r)
				}
				var data map[string]any
				if err := json.Unmarshal(r.Data(), &data); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"counter": float64(42), "name": "Zoë ✓", "items": []any{float64(1), "two", nil}}
				if !reflect.DeepEqual(data, want) {
					t.Errorf("%s loaded %v, want %v", fw, data, want)
				}
			}
		})
	}
}
