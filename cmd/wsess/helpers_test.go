package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and completions/ with the current output")

// fixedNow is the clock of in-process tests.
var fixedNow = time.Date(2025, 5, 17, 13, 45, 30, 0, time.UTC)

// testEnv is an environment for in-process runs.
type testEnv map[string]string

func (e testEnv) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// cliResult is what one in-process run produced.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs wsess in-process, like run() but with a fixed clock and the
// terminal flags given.
func runCLI(t *testing.T, env testEnv, tty bool, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLIAt(t, fixedNow, env, tty, stdin, args...)
}

// runCLIAt is runCLI with the clock stopped at now.
func runCLIAt(t *testing.T, now time.Time, env testEnv, tty bool, stdin string, args ...string) cliResult {
	t.Helper()
	ios, in, out, errOut := testIO()
	in.WriteString(stdin)
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	f := newFactory(ios, env.lookup)
	f.Now = func() time.Time { return now }
	defer f.CloseRedis()
	root := newRootCmd(f)
	root.SetArgs(cliArgs(root, append([]string{}, args...))) // never nil: cobra would read os.Args
	_, err := root.ExecuteContextC(context.Background())
	code := exitCode(err, errOut)
	return cliResult{Stdout: out.String(), Stderr: errOut.String(), Code: code}
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
