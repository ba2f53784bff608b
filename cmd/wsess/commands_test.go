package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// execCmd runs one command built with a runF, as the root would.
func execCmd(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(flagError)
	_, err := cmd.ExecuteContextC(context.Background())
	return err
}

// parseFlags builds a command whose runF captures its options (build gets
// the capture function), runs it on args and returns the options. With
// wantUsage it checks that parsing failed with a usage error and returns nil;
// otherwise the options are never nil.
func parseFlags[O any](t *testing.T, args []string, wantUsage bool, build func(capture func(*O)) *cobra.Command) *O {
	t.Helper()
	var got *O
	err := execCmd(t, build(func(o *O) { got = o }), args...)
	if wantUsage {
		// Flag groups (MarkFlagsMutuallyExclusive) are checked by cobra
		// itself; exitCode maps its messages to exit 2.
		var ue *usageError
		if !errors.As(err, &ue) && (err == nil || !isCobraUsageError(err)) {
			t.Fatalf("err = %v, want a usage error", err)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("the command did not reach its run function")
	}
	return got
}

func TestDecodeFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      decodeOptions
		wantUsage bool
	}{
		{"no arg reads stdin", nil, decodeOptions{Input: "-", Format: "auto", Output: "table"}, false},
		{"value", []string{"w1.abc"}, decodeOptions{Input: "w1.abc", Format: "auto", Output: "table"}, false},
		{"all flags", []string{"--name", "n", "--format", "weppy", "-o", "json", "x"}, decodeOptions{Input: "x", Name: "n", Format: "weppy", Output: "json"}, false},
		{"bad format", []string{"--format", "xml", "x"}, decodeOptions{}, true},
		{"bad output", []string{"-o", "yaml", "x"}, decodeOptions{}, true},
		{"two args", []string{"a", "b"}, decodeOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*decodeOptions)) *cobra.Command {
				return newCmdDecode(newFactory(ios, nil), func(o *decodeOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			if got.Input != tt.want.Input || got.Name != tt.want.Name || got.Format != tt.want.Format || got.Output != tt.want.Output {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestEncodeFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantJSON   string
		wantExpire time.Duration
		wantName   string
		wantUsage  bool
	}{
		{"defaults", []string{`{"a":1}`}, `{"a":1}`, time.Hour, "wsess_session_data", false},
		{"stdin", nil, "-", time.Hour, "wsess_session_data", false},
		{"flags", []string{"--expire", "90m", "--name", "wpp_session_data_app", "--format", "weppy", "{}"}, "{}", 90 * time.Minute, "wpp_session_data_app", false},
		{"negative expire", []string{"--expire", "-1h", "{}"}, "", 0, "", true},
		{"bad name", []string{"--name", "a=b", "{}"}, "", 0, "", true},
		{"two args", []string{"{}", "{}"}, "", 0, "", true},
		{"bad format", []string{"--format", "django", "{}"}, "", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*encodeOptions)) *cobra.Command {
				return newCmdEncode(newFactory(ios, nil), func(o *encodeOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			if got.JSON != tt.wantJSON || got.Expire != tt.wantExpire || got.Name != tt.wantName {
				t.Errorf("got %q %v %q, want %q %v %q", got.JSON, got.Expire, got.Name, tt.wantJSON, tt.wantExpire, tt.wantName)
			}
		})
	}
}

func TestServeDemoFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		check     func(*serveDemoOptions) bool
		wantUsage bool
	}{
		{"defaults", nil, func(o *serveDemoOptions) bool {
			return o.Addr == "127.0.0.1:8080" && o.Store == "cookie" && o.Prefix == "wppsess:" && o.Expire == time.Hour && !o.Secure && o.Domain == ""
		}, false},
		{"redis", []string{"--store", "redis", "--prefix", "demo:", "--expire", "10m", "--secure", "--domain", "example.com", "--addr", "127.0.0.1:0"}, func(o *serveDemoOptions) bool {
			return o.Addr == "127.0.0.1:0" && o.Store == "redis" && o.Prefix == "demo:" && o.Expire == 10*time.Minute && o.Secure && o.Domain == "example.com"
		}, false},
		{"bad store", []string{"--store", "disk"}, nil, true},
		{"prefix with cookie store", []string{"--prefix", "x:"}, nil, true},
		{"short expire", []string{"--expire", "10ms"}, nil, true},
		{"bad addr", []string{"--addr", "8080"}, nil, true},
		{"argument", []string{"extra"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			got := parseFlags(t, tt.args, tt.wantUsage, func(capture func(*serveDemoOptions)) *cobra.Command {
				return newCmdServeDemo(newFactory(ios, nil), func(_ context.Context, o *serveDemoOptions) error { capture(o); return nil })
			})
			if got == nil {
				return
			}
			if !tt.check(got) {
				t.Errorf("unexpected options %+v", *got)
			}
		})
	}
}

func TestKeygen(t *testing.T) {
	ios, _, out, _ := testIO()
	opts := &keygenOptions{IO: ios, Rand: bytes.NewReader(make([]byte, 32)), Bytes: 32}
	if err := keygenRun(opts); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), strings.Repeat("A", 43)+"\n"; got != want {
		t.Errorf("keygen = %q, want %q", got, want)
	}
	opts.Rand = bytes.NewReader(nil)
	if err := keygenRun(opts); err == nil {
		t.Error("keygen must fail when no random bytes can be read")
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, "wsess v1.2.3 (go1.26.0)\n"},
		{"devel with vcs", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, "wsess (devel) 0123456789ab+dirty (go1.26.0)\n"},
		{"devel", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, "wsess (devel) (go1.26.0)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := testIO()
			err := versionRun(&versionOptions{IO: ios, BuildInfo: func() (*debug.BuildInfo, bool) { return tt.bi, true }})
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}
