package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

// dashLed are cookies written by the real Emmett 2.7.1 session code
// (../shared/upstream/pyreal, key "public-example-key") whose value starts
// with "-", as about 1 in 64 Emmett cookies do.
var dashLed = []struct{ cookie, expected string }{
	{"-m9R6VojTScGL-31igLyq5Z47MpVmdMl2PBWFVV1-sI=:gX9T3Y1fvfYvVEQdsMc14AT7YZSSYQC-HXXQvPprmqc=:I1TRJfQFMYqJk3WX2GZBFzZ689HWkK1s_pm1hCiSJJTbA6SwXjeXWCS_KFqa15dHITvohHxz5IH1onKjXF99fBhn6A==", `{"counter": 89}`},
	{"-Y9pSN89AvtVyRs_a710udEG4nL2Y0AYziPXkE8jPj0=:8JLmZe0PNXAEyQ1XnmNgSPJseI7uM2t8rBqEXo9fkpc=:BhGURlWeQFhvBwnZb2wntnQQ0sW2x9oUH93uvIHJOzyK4VW8yzfju91BTnmbVTB9JbpTB9B_7NmcDiZka9aU5TRSnuo=", `{"counter": 278}`},
}

// TestDecodeDashLedCookie: a cookie value that starts with "-" opens from
// stdin (no argument, or "-"), after "--", and as a bare argument before or
// after the flags.
func TestDecodeDashLedCookie(t *testing.T) {
	env := testEnv{envKey: "public-example-key"}
	for _, c := range dashLed {
		tests := []struct {
			name  string
			stdin string
			args  []string
		}{
			{"stdin", c.cookie + "\n", []string{"decode", "-o", "json"}},
			{"stdin dash", c.cookie, []string{"decode", "-o", "json", "-"}},
			{"stdin header", "Cookie: emt_session_data_myapp=" + c.cookie + "\n", []string{"decode", "-o", "json"}},
			{"after --", "", []string{"decode", "-o", "json", "--", c.cookie}},
			{"bare last", "", []string{"decode", "-o", "json", c.cookie}},
			{"bare first", "", []string{"decode", c.cookie, "-o", "json"}},
		}
		for _, tt := range tests {
			t.Run(c.cookie[:3]+"/"+tt.name, func(t *testing.T) {
				r := runCLI(t, env, false, tt.stdin, tt.args...)
				if r.Code != 0 {
					t.Fatalf("exit %d: %s", r.Code, r.Stderr)
				}
				var out struct {
					Format string          `json:"format"`
					Data   json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
					t.Fatalf("no JSON: %v: %q", err, r.Stdout)
				}
				if out.Format != "emmett" {
					t.Errorf("format %q, want emmett", out.Format)
				}
				if got, want := interop.MustCanonical(t, out.Data), interop.MustCanonical(t, []byte(c.expected)); !reflect.DeepEqual(got, want) {
					t.Errorf("data %s, want %s", out.Data, c.expected)
				}
			})
		}
	}
}

func TestCLIArgs(t *testing.T) {
	// Shapes only: cliArgs never decrypts.
	salt := strings.Repeat("A", 43) + "="
	oCookie := "-o" + salt[2:] + ":" + salt + ":" + "AAAA"
	hCookie := "-h" + salt[2:] + ":" + salt + ":" + "QUJD"
	dashID := "-" + strings.Repeat("A", 42) // a valid session id
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"bare -o cookie", []string{"decode", oCookie}, []string{"decode", "--", oCookie}},
		{"bare -h cookie before flags", []string{"decode", hCookie, "-o", "json"}, []string{"decode", "-o", "json", "--", hCookie}},
		{"already after --", []string{"decode", "-o", "json", "--", oCookie}, []string{"decode", "-o", "json", "--", oCookie}},
		{"value of --name", []string{"decode", "--name", oCookie}, []string{"decode", "--name", oCookie}},
		{"flags untouched", []string{"decode", "-o", "json", "--format", "emmett"}, []string{"decode", "-o", "json", "--format", "emmett"}},
		{"too short", []string{"decode", "-o:a:b"}, []string{"decode", "-o:a:b"}},
		{"no colon", []string{"decode", "-o" + salt + salt}, []string{"decode", "-o" + salt + salt}},
		{"damaged cookie still a cookie", []string{"decode", "-o=" + salt[3:] + "::" + salt + ":A"}, []string{"decode", "--", "-o=" + salt[3:] + "::" + salt + ":A"}},
		{"other command", []string{"encode", oCookie}, []string{"encode", oCookie}},
		{"no command", nil, nil},
		{"unknown command", []string{"decod", oCookie}, []string{"decod", oCookie}},
		// The command and its flags come from the command tree: flags of
		// the root, before or after the subcommand, take their values too.
		{"root flag before the subcommand", []string{"--redis-url", "redis://h/0", "decode", "--key", "K", oCookie},
			[]string{"--redis-url", "redis://h/0", "decode", "--key", "K", "--", oCookie}},
		{"value of a root flag", []string{"decode", "--redis-url", oCookie}, []string{"decode", "--redis-url", oCookie}},
		{"value of a root flag before the subcommand", []string{"--redis-url", oCookie, "decode"}, []string{"--redis-url", oCookie, "decode"}},
		{"--flag=value takes no argument", []string{"decode", "--key=K", oCookie}, []string{"decode", "--key=K", "--", oCookie}},
		{"-o value", []string{"decode", "-o", oCookie}, []string{"decode", "-o", oCookie}},
		{"-ojson takes no argument", []string{"decode", "-ojson", hCookie}, []string{"decode", "-ojson", "--", hCookie}},
		{"bool flag takes no argument", []string{"--help", hCookie, "decode"}, []string{"--help", "decode", "--", hCookie}},
		// redis show takes a session id, which starts with "-" 1 time in 64.
		{"show: dash-led id", []string{"redis", "show", "--raw-ids", dashID}, []string{"redis", "show", "--raw-ids", "--", dashID}},
		{"show: value of --prefix", []string{"redis", "show", "--prefix", dashID, "x"}, []string{"redis", "show", "--prefix", dashID, "x"}},
		{"show: not an id", []string{"redis", "show", dashID[:42]}, []string{"redis", "show", dashID[:42]}},
		{"show: a cookie is no id", []string{"redis", "show", oCookie}, []string{"redis", "show", oCookie}},
		{"ls takes no dash-led argument", []string{"redis", "ls", dashID}, []string{"redis", "ls", dashID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			if got := cliArgs(newRootCmd(newFactory(ios, nil)), tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cliArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
