package pyreal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// outcomeTB records whether locate skipped or failed, and with what
// message; both end the goroutine that called them, as in a real test.
type outcomeTB struct {
	testing.TB
	outcome, msg string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Skipf(format string, args ...any) {
	o.outcome, o.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.outcome, o.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcomeTB) Fatal(args ...any) {
	o.outcome, o.msg = "fatal", fmt.Sprint(args...)
	runtime.Goexit()
}

// TestMissingUpstream: a module whose sibling shared/upstream is missing
// skips the real-framework tests for a developer, and fails them under CI
// (or WSESS_REQUIRE_UPSTREAM) with a message naming the missing path; a
// runner that is there is found.
func TestMissingUpstream(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "wsess")
	if err := os.MkdirAll(filepath.Join(mod, "pkg", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "shared", "upstream", "pyreal")
	runner := func() (string, error) { return runnerFrom(filepath.Join(mod, "pkg", "x")) }
	if _, err := runner(); !errors.Is(err, ErrAbsent) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("runnerFrom without shared/: %v, want ErrAbsent naming %s", err, missing)
	}

	tests := []struct {
		ci, require string
		want        string
	}{
		{"", "", "skip"},
		{"false", "false", "skip"},
		{"true", "", "fatal"},
		{"", "1", "fatal"},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.ci)
		t.Setenv("WSESS_REQUIRE_UPSTREAM", tt.require)
		o := &outcomeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			locate(o, runner)
			o.outcome = "found"
		}()
		<-done
		if o.outcome != tt.want || !strings.Contains(o.msg, missing) {
			t.Errorf("CI=%q WSESS_REQUIRE_UPSTREAM=%q, no shared/upstream: %s %q, want %s naming %s", tt.ci, tt.require, o.outcome, o.msg, tt.want, missing)
		}
	}

	if err := os.MkdirAll(filepath.Dir(missing), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(missing, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "true")
	if got := locate(t, runner); got != missing {
		t.Errorf("locate with the runner there = %q, want %q", got, missing)
	}
}
