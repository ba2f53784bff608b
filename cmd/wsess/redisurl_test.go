package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

// TestRedisURLNeverShowsPassword: whatever the Redis URL looks like, its
// password never appears in an error or a log line.
func TestRedisURLNeverShowsPassword(t *testing.T) {
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	closed := "127.0.0.1:" + strconv.Itoa(port)
	const pw = "Hunter2pw"
	for _, raw := range []string{
		"http://user:" + pw + "@host:1",                                   // wrong scheme
		"redis://user:" + pw + `"q@host:1`,                                // a quote: url.Error quotes the URL with %q
		"redis://user:" + pw + `\b@host:1`,                                // a backslash, doubled by %q
		"redis:/user:" + pw + "@host",                                     // a typo: one slash
		"redis:user:" + pw + "@host:1",                                    // no slashes at all
		"redis//user:" + pw + "@host:1",                                   // no colon
		"user:" + pw + "@host:1",                                          // no scheme
		"redis://:" + pw + "@host:notaport/0",                             // a bad port
		"redis://:" + pw + "@" + closed + "/" + pw,                        // the password where the db goes
		"redis://:" + pw + "%zz@host:1/0",                                 // a bad %-escape inside the password
		"redis://:" + pw + "@[::1/0",                                      // a bad IPv6 host
		"redis://" + closed + "/0?password=" + pw + "&dial_timeout=" + pw, // options in the query
		"redis://:" + pw + "\n@host:1/0",                                  // a control character
		"unix://user:" + pw + "@/nonexistent/sock?db=" + pw,
		"rediss://:" + pw + "@" + closed + "/0", // parses; the server is down
		"redis://" + pw + "@" + closed + "/0",   // a password where the user goes
	} {
		for _, args := range [][]string{
			{"redis", "ls"},
			{"redis", "stats"},
			{"serve", "demo", "--store", "redis", "--addr", "127.0.0.1:0"},
		} {
			t.Run(fmt.Sprintf("%q %s", raw, args[1]), func(t *testing.T) {
				for _, viaEnv := range []bool{false, true} {
					env := testEnv{}
					a := append([]string{"--redis-url", raw}, args...)
					if viaEnv {
						env[envRedisURL], a = raw, args
					}
					r := runCLI(t, env, false, "", a...)
					if r.Code != 1 && r.Code != 2 {
						t.Errorf("exit %d, want a failure (env %v)", r.Code, viaEnv)
					}
					if strings.Contains(r.Stderr+r.Stdout, pw) {
						t.Errorf("the password shows (env %v): %q", viaEnv, r.Stderr)
					}
					if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "wsess: ") {
						t.Errorf("want one error line (env %v): %q", viaEnv, r.Stderr)
					}
				}
			})
		}
	}
}
