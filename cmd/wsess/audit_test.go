package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/internal/redistest"
)

// auditStrongKey is a random key, as wsess keygen prints, short enough for
// weppy (31 characters).
const auditStrongKey = "Vq7nZ2xK9pR4tW8yB3mD6fH1jL5sG0c"

// auditFrameworks are the frameworks of ../shared/upstream whose real
// cookies the audit goldens judge, with the golden's short name.
// and the checks that fail: the legacy format's nonce, integrity and key
// derivation, and for every Python format its lifetimes (no expiry or
// creation time inside the cookie).
var auditFrameworks = []struct {
	id, short string
	fails     int
}{
	{"weppy-1.3.4", "weppy", 5},
	{"emmett-2.4.14-legacy", "emmett24_legacy", 5},
	{"emmett-2.4.14", "emmett24", 2},
	{"emmett-2.5.13", "emmett25", 2},
	{"emmett-2.7.1", "emmett27", 2},
	{"emmett-core-1.3.11", "emmett_core", 2},
}

// pyCookie has the real framework make a cookie of {"counter": 3} with key.
func pyCookie(t *testing.T, framework, key string) pyreal.Response {
	t.Helper()
	return pyreal.Shared(t, framework).Must(t, map[string]any{"op": "make-cookie", "key": key, "session": map[string]any{"counter": 3}})
}

// expiresAttr is the expires attribute the frameworks write: the time of
// the request plus the session's expire, which moves with the clock.
var expiresAttr = regexp.MustCompile(`(?i)expires=[^;]*`)

// pinExpires replaces a Set-Cookie line's expires attribute by one an hour
// after the tests' fixed clock, so that goldens hold still; every other
// byte stays the framework's own.
func pinExpires(line string) string {
	return expiresAttr.ReplaceAllString(line, "expires="+fixedNow.Add(time.Hour).Format(http.TimeFormat))
}

// TestAuditCookieRealFrameworks judges cookies made by the real weppy and
// Emmett code: one golden per framework with a strong key (pipe), and the
// same cookie with the frameworks' documented example key, which must
// fail the well-known-secret check.
func TestAuditCookieRealFrameworks(t *testing.T) {
	for _, fw := range auditFrameworks {
		t.Run(fw.id, func(t *testing.T) {
			r := pyCookie(t, fw.id, auditStrongKey)
			cookie := r.String("cookie_name") + "=" + r.String("cookie")
			res := runCLI(t, nil, false, cookie, "audit", "cookie")
			if want := fmt.Sprintf("wsess: %d of 9 checks fail; see the rows marked fail\n", fw.fails); res.Code != 1 || res.Stderr != want {
				t.Fatalf("exit %d, stderr %q", res.Code, res.Stderr)
			}
			golden(t, "audit/cookie_"+fw.short+"_pipe.golden", []byte(res.Stdout))

			for _, key := range []string{"myverysecretkey", "GreatScott"} {
				weak := pyCookie(t, fw.id, key)
				res := runCLI(t, nil, false, weak.String("cookie"), "audit", "cookie")
				if !strings.Contains(res.Stdout, "cookie\twell-known-secret\tfail\t13.3.1\topens with a published example secret (") || strings.Contains(res.Stdout, key) {
					t.Errorf("key %s:\n%s", key, res.Stdout)
				}
			}
		})
	}
}

// TestAuditCookieGolden: the terminal table and JSON, on a real weppy
// cookie sealed with weppy's documented key and on wsess cookies.
func TestAuditCookieGolden(t *testing.T) {
	weppy := pyCookie(t, "weppy-1.3.4", "myverysecretkey")
	wsess := sealForTest(t, `{"counter": 3}`)
	tests := []struct {
		name  string
		env   testEnv
		tty   bool
		stdin string
		args  []string
		code  int
	}{
		{"cookie_weppy_wellknown_tty.golden", nil, true, weppy.String("set_cookie"), []string{"audit", "cookie", "--name", "wpp_session_data_myapp"}, 1},
		{"cookie_weppy_wellknown_json.golden", nil, false, weppy.String("cookie"), []string{"audit", "cookie", "-o", "json"}, 1},
		{"cookie_wsess_tty.golden", nil, true, "", []string{"audit", "cookie", wsess}, 0},
		{"cookie_wsess_key_pipe.golden", testEnv{envKey: testSecret}, false, "wsess_session_data=" + wsess, []string{"audit", "cookie"}, 0},
		{"cookie_wsess_key_json.golden", testEnv{envKey: testSecret}, false, wsess, []string{"audit", "cookie", "-o", "json"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.tty, tt.stdin, tt.args...)
			if r.Code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.Code, tt.code, r.Stderr)
			}
			golden(t, "audit/"+tt.name, []byte(r.Stdout))
			if strings.Contains(r.Stdout+r.Stderr, testSecret) || strings.Contains(r.Stdout+r.Stderr, "myverysecretkey") {
				t.Error("the output shows a secret")
			}
		})
	}
}

// TestAuditSetCookieGolden judges the Set-Cookie lines the real frameworks
// write (expires pinned, see pinExpires) and whole response heads.
func TestAuditSetCookieGolden(t *testing.T) {
	weppy := pyCookie(t, "weppy-1.3.4", auditStrongKey)
	emmett := pyCookie(t, "emmett-2.7.1", auditStrongKey)
	const hostHead = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: no-store\r\n" +
		"Set-Cookie: __Host-sid=w1.abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict\r\n\r\n"
	badHead := "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=600\r\n" +
		"Set-Cookie: __Host-sid=abc; Path=/app; Domain=example.com; Max-Age=2592000; SameSite=None\r\n" +
		"Set-Cookie: __Secure-theme=dark; Secure; SameSite=Lax\r\n" +
		"Set-Cookie: big=" + strings.Repeat("x", 4000) + "; Secure; HttpOnly; SameSite=Lax; Max-Age=60\r\n\r\n"
	tests := []struct {
		name  string
		tty   bool
		stdin string
		args  []string
		code  int
	}{
		{"setcookie_weppy_pipe.golden", false, "Set-Cookie: " + pinExpires(weppy.String("set_cookie")), nil, 1},
		{"setcookie_weppy_tty.golden", true, "Set-Cookie: " + pinExpires(weppy.String("set_cookie")), nil, 1},
		{"setcookie_emmett_pipe.golden", false, pinExpires(emmett.String("set_cookie")), nil, 1},
		{"setcookie_host_json.golden", false, hostHead, []string{"-o", "json"}, 0},
		{"setcookie_bad_pipe.golden", false, badHead, []string{"--host", "app.example.org"}, 1},
		{"setcookie_name_pipe.golden", false, badHead, []string{"--name", "__Secure-theme", "--absolute", "1h"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.tty, tt.stdin, append([]string{"audit", "set-cookie"}, tt.args...)...)
			if r.Code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.Code, tt.code, r.Stderr)
			}
			golden(t, "audit/"+tt.name, []byte(r.Stdout))
		})
	}
}

// TestAuditURLDemo fetches the demo's /counter in each of its
// configurations and judges its Set-Cookie and Cache-Control.
func TestAuditURLDemo(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	tests := []struct {
		name  string
		args  []string // of serve demo
		audit []string // of audit url
		code  int
	}{
		{"url_demo_cookie", nil, nil, 1},
		{"url_demo_cookie_secure", []string{"--secure"}, nil, 0},
		{"url_demo_cookie_domain", []string{"--secure", "--domain", "example.test"}, nil, 1},
		{"url_demo_cookie_expire2h_absolute1h", []string{"--secure", "--expire", "2h"}, []string{"--absolute", "1h"}, 1},
		{"url_demo_cookie_revocations", []string{"--secure", "--revocations"}, nil, 0},
		{"url_demo_redis", []string{"--store", "redis"}, nil, 1},
		{"url_demo_redis_secure", []string{"--store", "redis", "--secure"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := startDemo(t, []string{demoKey}, testEnv{envRedisURL: rs.URL()}, tt.args...)
			r := runCLI(t, nil, false, "", append(append([]string{"audit", "url"}, tt.audit...), d.URL.JoinPath("counter").String())...)
			if r.Code != tt.code {
				t.Fatalf("exit %d, want %d; stdout\n%s\nstderr %q", r.Code, tt.code, r.Stdout, r.Stderr)
			}
			golden(t, "audit/"+tt.name+"_pipe.golden", pinRedisMaxAge(r.Stdout))
		})
	}
	t.Run("tty and json", func(t *testing.T) {
		d := startDemo(t, []string{demoKey}, nil, "--secure")
		u := d.URL.JoinPath("counter").String()
		r := runCLI(t, nil, true, "", "audit", "url", u)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
		}
		golden(t, "audit/url_demo_secure_tty.golden", []byte(r.Stdout))
		r = runCLI(t, nil, false, "", "audit", "url", "-o", "json", u)
		if r.Code != 0 {
			t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
		}
		golden(t, "audit/url_demo_secure_json.golden", []byte(r.Stdout))
		var doc auditJSON
		if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || doc.Fail != 0 || doc.Pass+doc.Warn != len(doc.Checks) {
			t.Errorf("json: %v %+v", err, doc)
		}
	})
}

// redisMaxAge is the lifetime row of the Redis store's id cookie, which
// lives until the session's absolute deadline counted from its creation
// second: 86400 s, or 86399 when the second turned during the request.
var redisMaxAge = regexp.MustCompile(`Max-Age 2(3h59m|4h00m), within`)

// pinRedisMaxAge shows both as 24h00m, so that the golden holds still.
func pinRedisMaxAge(out string) []byte {
	return []byte(redisMaxAge.ReplaceAllString(out, "Max-Age 24h00m, within"))
}

// A redirect is not followed unless asked: without --follow the redirect
// itself sets no cookie and the audit says so; with it, the cookie the
// demo sets at the end of the chain is judged.
func TestAuditURLRedirects(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil, "--secure")
	redirect := httptest.NewServer(http.RedirectHandler(d.URL.JoinPath("counter").String(), http.StatusFound))
	t.Cleanup(redirect.Close)

	r := runCLI(t, nil, false, "", "audit", "url", redirect.URL+"/go")
	wantErr := "wsess: notice: the response is a redirect (302 Found) to " + d.URL.JoinPath("counter").String() + "; not followed (--follow)\n" +
		"wsess: " + redirect.URL + "/go set no cookie; give a page that starts or changes a session (the demo's /counter, a login page), or --follow its redirects\n"
	if r.Code != 1 || r.Stdout != "" || r.Stderr != wantErr {
		t.Errorf("without --follow: exit %d stdout %q stderr %q\nwant stderr %q", r.Code, r.Stdout, r.Stderr, wantErr)
	}

	r = runCLI(t, nil, false, "", "audit", "url", "--follow", redirect.URL+"/go")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("with --follow: exit %d stderr %q", r.Code, r.Stderr)
	}
	golden(t, "audit/url_demo_cookie_secure_pipe.golden", []byte(r.Stdout)) // the same as fetched directly
}

// TestAuditURLFailures: a URL that cannot be fetched, a page that sets no
// cookie, a password in the URL never shown.
func TestAuditURLFailures(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil)
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	tests := []struct {
		name   string
		url    string
		code   int
		stderr string
	}{
		{"no cookie", d.URL.String(), 1,
			"wsess: " + d.URL.String() + " set no cookie; give a page that starts or changes a session (the demo's /counter, a login page), or --follow its redirects\n"},
		{"refused", strings.Replace(goneURL, "http://", "http://user:hunter2@", 1) + "/counter", 1, ""},
		{"not http", "ftp://127.0.0.1/", 2, "wsess: not an http or https URL; give an http:// or https:// URL\n"},
		{"no host", "http:///counter", 2, "wsess: not an http or https URL; give an http:// or https:// URL\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, false, "", "audit", "url", tt.url)
			if r.Code != tt.code || r.Stdout != "" || tt.stderr != "" && r.Stderr != tt.stderr {
				t.Errorf("exit %d stdout %q stderr %q\nwant exit %d stderr %q", r.Code, r.Stdout, r.Stderr, tt.code, tt.stderr)
			}
			if strings.Contains(r.Stderr, "hunter2") || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line without the password", r.Stderr)
			}
		})
	}
}

func TestAuditKeyGolden(t *testing.T) {
	files := map[string]string{
		"/keys/rotation.txt": "# current first\n" + auditStrongKey + "\nmyverysecretkey\n\n" + auditStrongKey + "\nshort\n",
	}
	tests := []struct {
		name string
		env  testEnv
		tty  bool
		args []string
		code int
	}{
		{"key_strong_tty.golden", testEnv{envKey: auditStrongKey}, true, nil, 0},
		{"key_strong_all_formats_pipe.golden", testEnv{envKey: auditStrongKey}, false, []string{"--format", "wsess", "--format", "emmett", "--format", "weppy"}, 1},
		{"key_rotation_pipe.golden", nil, false, []string{"--key-file", "/keys/rotation.txt", "--format", "emmett"}, 1},
		{"key_rotation_json.golden", testEnv{envKeyFile: "/keys/rotation.txt"}, false, []string{"-o", "json"}, 1},
		{"key_long_weppy_pipe.golden", testEnv{envKey: auditStrongKey + "-and-more"}, false, []string{"--format", "weppy"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, out, errOut := testIO()
			_ = in
			ios.SetStdoutTTY(tt.tty)
			f := newFactory(ios, tt.env.lookup)
			f.Now = func() time.Time { return fixedNow }
			f.ReadFile = func(p string) ([]byte, error) { return []byte(files[p]), nil }
			root := newRootCmd(f)
			root.SetArgs(append([]string{"audit", "key"}, tt.args...))
			_, err := root.ExecuteC()
			if code := exitCode(err, errOut); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			golden(t, "audit/"+tt.name, out.Bytes())
			for _, s := range []string{auditStrongKey, "myverysecretkey", "short\t"} {
				if strings.Contains(out.String()+errOut.String(), s) {
					t.Errorf("the output shows a secret (%q)", s)
				}
			}
		})
	}
}

func TestAuditUsage(t *testing.T) {
	tests := []struct {
		name   string
		env    testEnv
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"key without a key", nil, "", []string{"audit", "key"}, 1,
			"wsess: no secret key given; set WSESS_KEY, or pass --key-file FILE (one secret a line)\n"},
		{"key unknown format", testEnv{envKey: auditStrongKey}, "", []string{"audit", "key", "--format", "flask"}, 2,
			"wsess: unknown --format \"flask\"; give wsess, weppy or emmett\n"},
		{"cookie empty", nil, " ", []string{"audit", "cookie"}, 2,
			"wsess: no cookie in the input; give the cookie value, name=value or a Cookie header\n"},
		{"cookie unknown", nil, "a=1; b=2", []string{"audit", "cookie"}, 1,
			"wsess: not a session cookie in a known format; give a wsess, weppy or Emmett cookie value\n"},
		{"cookie wrong key", testEnv{envKey: "another-secret-0123456789"}, "", []string{"audit", "cookie", sealForTest(t, `{"a": 1}`)}, 1,
			"wsess: the key given does not open the cookie; check --key-file / WSESS_KEY, or leave the key out: the audit runs without it\n"},
		{"set-cookie nothing", nil, "Content-Type: text/html\n", []string{"audit", "set-cookie"}, 2,
			"wsess: no Set-Cookie in the input; give Set-Cookie lines or a response head (curl -si URL)\n"},
		{"set-cookie name absent", nil, "Set-Cookie: a=1\n", []string{"audit", "set-cookie", "--name", "b"}, 2,
			"wsess: no Set-Cookie of a cookie named \"b\" in the input; check --name, or leave it out to judge every cookie\n"},
		{"set-cookie absolute", nil, "a=1", []string{"audit", "set-cookie", "--absolute", "0s"}, 2,
			"wsess: --absolute 0s is not positive; give a duration such as 24h\n"},
		{"set-cookie argument", nil, "", []string{"audit", "set-cookie", "a=1"}, 2, ""},
		{"url two arguments", nil, "", []string{"audit", "url", "http://127.0.0.1/", "x"}, 2, ""},
		{"url timeout", nil, "", []string{"audit", "url", "--timeout", "0s", "http://127.0.0.1/"}, 2,
			"wsess: --timeout 0s is not positive; give a duration such as 10s\n"},
		{"unknown subcommand", nil, "", []string{"audit", "cokie"}, 2,
			"wsess: unknown command \"cokie\" for \"wsess audit\"; did you mean 'wsess audit cookie'?\n"},
		{"bad output", nil, "", []string{"audit", "key", "-o", "yaml"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, false, tt.stdin, tt.args...)
			if r.Code != tt.code || r.Stdout != "" || tt.stderr != "" && r.Stderr != tt.stderr || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("exit %d stdout %q stderr %q\nwant exit %d stderr %q", r.Code, r.Stdout, r.Stderr, tt.code, tt.stderr)
			}
		})
	}
}

// A bare Emmett value that starts with "-" (1 in 64) is a cookie, not
// flags.
func TestAuditCookieDashLed(t *testing.T) {
	pk, err := pickle.Marshal(map[string]any{"counter": 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		c, err := pycookie.SealEmmett(pk, auditStrongKey, 0)
		if err != nil {
			t.Fatal(err)
		}
		// One of "--"... is a long flag to pflag, as for decode: such a
		// value goes after "--" or on stdin.
		if !strings.HasPrefix(c, "-") || strings.HasPrefix(c, "--") {
			continue
		}
		res := runCLI(t, nil, false, "", "audit", "cookie", c)
		if res.Code != 1 || !strings.Contains(res.Stdout, "cookie\tformat\tpass\t\tEmmett modern") {
			t.Fatalf("exit %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
		}
		return
	}
	t.Fatal("no cookie of 2000 started with -")
}

// demoSetCookie fetches /counter from d and returns its Set-Cookie line.
func demoSetCookie(t *testing.T, d *demoServer) string {
	t.Helper()
	resp, err := http.Get(d.URL.JoinPath("counter").String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie: %q", lines)
	}
	return lines[0]
}

// TestAuditDemoCookie judges the demo's own cookie and Set-Cookie line
// with audit cookie and audit set-cookie: goldens without the key, and
// with the key the lifetime the demo sealed (its clock is the real one).
func TestAuditDemoCookie(t *testing.T) {
	d := startDemo(t, []string{demoKey}, nil, "--secure")
	line := demoSetCookie(t, d)
	cookie, _, _ := strings.Cut(line, ";")

	r := runCLI(t, nil, false, cookie, "audit", "cookie")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("audit cookie: exit %d stderr %q", r.Code, r.Stderr)
	}
	golden(t, "audit/cookie_demo_pipe.golden", []byte(r.Stdout))

	r = runCLI(t, nil, false, "Set-Cookie: "+line, "audit", "set-cookie")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("audit set-cookie: exit %d stderr %q", r.Code, r.Stderr)
	}
	golden(t, "audit/setcookie_demo_pipe.golden", []byte(r.Stdout))

	r = runCLIAt(t, time.Now(), testEnv{envKey: demoKey}, false, cookie, "audit", "cookie")
	if r.Code != 0 || !regexp.MustCompile(`idle-timeout\tpass\t7\.3\.1\tsealed expiry \S+ \(in (59m[0-9]{2}s|1h00m)\), enforced by the server\n`).MatchString(r.Stdout) ||
		!strings.Contains(r.Stdout, "absolute-lifetime\tpass\t7.3.2\tcreated ") || strings.Contains(r.Stdout, demoKey) {
		t.Errorf("with the key: exit %d\n%s", r.Code, r.Stdout)
	}

	// The demo with a published secret: the audit of its cookie fails.
	weak := startDemo(t, []string{"GreatScott"}, nil, "--secure")
	cookie, _, _ = strings.Cut(demoSetCookie(t, weak), ";")
	r = runCLI(t, nil, false, cookie, "audit", "cookie")
	if r.Code != 1 || !strings.Contains(r.Stdout, "well-known-secret\tfail\t13.3.1\topens with a published example secret (Emmett docs/tutorial.md") {
		t.Errorf("published secret: exit %d\n%s", r.Code, r.Stdout)
	}
}

func TestAuditFlags(t *testing.T) {
	ios, _, _, _ := testIO()
	f := newFactory(ios, nil)
	t.Run("cookie", func(t *testing.T) {
		tests := []struct {
			args      []string
			want      auditCookieOptions
			wantUsage bool
		}{
			{nil, auditCookieOptions{Input: "-", Output: "table"}, false},
			{[]string{"--name", "n", "-o", "json", "w1.x"}, auditCookieOptions{Input: "w1.x", Name: "n", Output: "json"}, false},
			{[]string{"-o", "jsonl"}, auditCookieOptions{}, true},
			{[]string{"a", "b"}, auditCookieOptions{}, true},
		}
		for _, tt := range tests {
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*auditCookieOptions)) *cobra.Command {
				return newCmdAuditCookie(f, func(o *auditCookieOptions) error { capture(o); return nil })
			})
			if got != nil && (got.Input != tt.want.Input || got.Name != tt.want.Name || got.Output != tt.want.Output) {
				t.Errorf("%q: got %+v, want %+v", tt.args, *got, tt.want)
			}
		}
	})
	t.Run("set-cookie", func(t *testing.T) {
		tests := []struct {
			args      []string
			want      auditSetCookieOptions
			wantUsage bool
		}{
			{nil, auditSetCookieOptions{Absolute: 24 * time.Hour, Output: "table"}, false},
			{[]string{"--name", "n", "--host", "h.example", "--absolute", "8h", "-o", "tsv"}, auditSetCookieOptions{Name: "n", Host: "h.example", Absolute: 8 * time.Hour, Output: "tsv"}, false},
			{[]string{"--absolute", "-1h"}, auditSetCookieOptions{}, true},
			{[]string{"x"}, auditSetCookieOptions{}, true},
		}
		for _, tt := range tests {
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*auditSetCookieOptions)) *cobra.Command {
				return newCmdAuditSetCookie(f, func(o *auditSetCookieOptions) error { capture(o); return nil })
			})
			if got != nil && (got.Name != tt.want.Name || got.Host != tt.want.Host || got.Absolute != tt.want.Absolute || got.Output != tt.want.Output) {
				t.Errorf("%q: got %+v, want %+v", tt.args, *got, tt.want)
			}
		}
	})
	t.Run("url", func(t *testing.T) {
		tests := []struct {
			args      []string
			want      auditURLOptions
			wantUsage bool
		}{
			{[]string{"http://127.0.0.1:8080/counter"}, auditURLOptions{Timeout: 10 * time.Second, Absolute: 24 * time.Hour, Output: "table"}, false},
			{[]string{"--follow", "--timeout", "3s", "--name", "sid", "--absolute", "2h", "-o", "json", "https://example.com/"},
				auditURLOptions{Follow: true, Timeout: 3 * time.Second, Name: "sid", Absolute: 2 * time.Hour, Output: "json"}, false},
			{nil, auditURLOptions{}, true},
			{[]string{"127.0.0.1:8080/counter"}, auditURLOptions{}, true},
			{[]string{"file:///etc/passwd"}, auditURLOptions{}, true},
		}
		for _, tt := range tests {
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*auditURLOptions)) *cobra.Command {
				return newCmdAuditURL(f, func(_ context.Context, o *auditURLOptions) error { capture(o); return nil })
			})
			if got != nil && (got.URL == nil || got.Follow != tt.want.Follow || got.Timeout != tt.want.Timeout || got.Name != tt.want.Name ||
				got.Absolute != tt.want.Absolute || got.Output != tt.want.Output) {
				t.Errorf("%q: got %+v, want %+v", tt.args, *got, tt.want)
			}
		}
	})
	t.Run("key", func(t *testing.T) {
		tests := []struct {
			args      []string
			want      []string
			wantUsage bool
		}{
			{nil, nil, false},
			{[]string{"--format", "emmett", "--format", "weppy"}, []string{"emmett", "weppy"}, false},
			{[]string{"--format", "flask"}, nil, true},
			{[]string{"key-as-argument"}, nil, true},
		}
		for _, tt := range tests {
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*auditKeyOptions)) *cobra.Command {
				return newCmdAuditKey(f, func(o *auditKeyOptions) error { capture(o); return nil })
			})
			if got != nil && strings.Join(got.Formats, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%q: got %q, want %q", tt.args, got.Formats, tt.want)
			}
		}
	})
}
