package doccheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goBlock matches a fenced Go block; the body is group 1.
var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

type block struct {
	file string // README.md or docs/NAME.md
	line int
	src  string
}

// blocks returns every Go block of the README and docs/*.md under root.
func blocks(t *testing.T, root string) []block {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	var out []block
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, m := range goBlock.FindAllSubmatchIndex(b, -1) {
			out = append(out, block{file: rel, line: 1 + strings.Count(string(b[:m[0]]), "\n"), src: string(b[m[2]:m[3]])})
		}
	}
	return out
}

// TestDocBlocksCompile: every Go block in README.md and docs/ is a whole
// file that go vet accepts and go build compiles against this module; a
// whole program that serves nothing and needs no Redis also runs to a
// zero exit.
func TestDocBlocksCompile(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bs := blocks(t, root)
	if len(bs) < 3 {
		t.Fatalf("found %d Go blocks in README.md and docs/: the extraction is broken", len(bs))
	}
	for _, b := range bs {
		t.Run(fmt.Sprintf("%s:%d", b.file, b.line), func(t *testing.T) {
			if !strings.HasPrefix(strings.TrimSpace(b.src), "package ") {
				t.Fatalf("%s:%d: a Go block must be a whole file (start with a package clause), so that it compiles as pasted", b.file, b.line)
			}
			dir := t.TempDir()
			src := filepath.Join(dir, "snippet.go")
			if err := os.WriteFile(src, []byte(b.src), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(ctx context.Context, args ...string) {
				t.Helper()
				cmd := exec.CommandContext(ctx, gobin, args...)
				cmd.Dir = root
				cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s:%d: go %s: %v\n%s", b.file, b.line, strings.Join(args, " "), err, out)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			run(ctx, "vet", src)
			bin := filepath.Join(dir, "snippet")
			run(ctx, "build", "-o", bin, src)
			if strings.HasPrefix(strings.TrimSpace(b.src), "package main") && !strings.Contains(b.src, "ListenAndServe") && !strings.Contains(b.src, "redis.New") {
				cmd := exec.CommandContext(ctx, bin)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s:%d: the program failed: %v\n%s", b.file, b.line, err, out)
				}
			}
		})
	}
}
