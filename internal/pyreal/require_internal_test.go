package pyreal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/testutil"
)

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

	for _, tt := range testutil.RequireCases {
		t.Setenv("CI", tt.CI)
		t.Setenv("WSESS_REQUIRE_UPSTREAM", tt.Require)
		got, msg := testutil.Outcome(t, func(tb testing.TB) { locate(tb, runner) })
		if got != tt.Want || !strings.Contains(msg, missing) {
			t.Errorf("CI=%q WSESS_REQUIRE_UPSTREAM=%q, no shared/upstream: %s %q, want %s naming %s", tt.CI, tt.Require, got, msg, tt.Want, missing)
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
