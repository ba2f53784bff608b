package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionsFresh fails when a script in completions/ differs from what
// the command tree generates now. Regenerate with
// `go generate ./cmd/wsess` or `go test ./cmd/wsess -run TestCompletionsFresh -update`.
func TestCompletionsFresh(t *testing.T) {
	for _, sh := range completionShells {
		t.Run(sh.Shell, func(t *testing.T) {
			ios, _, _, _ := testIO()
			root := newRootCmd(newFactory(ios, nil))
			var got bytes.Buffer
			if err := writeCompletion(root, sh.Shell, &got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "completions", sh.File)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go generate ./cmd/wsess)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s is stale: run go generate ./cmd/wsess", path)
			}
		})
	}
}

// TestCompletionCommand checks that the command prints the same script.
func TestCompletionCommand(t *testing.T) {
	ios, _, _, _ := testIO()
	var want bytes.Buffer
	if err := writeCompletion(newRootCmd(newFactory(ios, nil)), "fish", &want); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, false, "", "completion", "fish")
	if r.Code != 0 || r.Stdout != want.String() {
		t.Errorf("exit %d, output differs from writeCompletion", r.Code)
	}
}

// TestCompleteNoFiles: commands whose arguments are no files complete
// nothing rather than file names (ShellCompDirectiveNoFileComp, ":4").
func TestCompleteNoFiles(t *testing.T) {
	for _, args := range [][]string{
		{"redis", "show", ""},
		{"redis", "sessions", ""},
		{"redis", "revoke", ""},
		{"redis", "ls", ""},
		{"decode", ""},
		{"keygen", ""},
	} {
		r := runCLI(t, nil, false, "", append([]string{"__complete"}, args...)...)
		if r.Code != 0 || !strings.HasSuffix(r.Stdout, ":4\n") {
			t.Errorf("__complete %q: exit %d, stdout %q, stderr %q; want the no-file directive :4", args, r.Code, r.Stdout, r.Stderr)
		}
	}
}
