package modgraph

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// denied are module path prefixes that must not appear anywhere in the
// module graph of a program that imports pkg/session: the browser-test
// stack (e2e's module) and the other session libraries the benchmarks
// compare with (bench's module).
var denied = []string{
	"github.com/chromedp/",           // chromedp, cdproto, sysutil
	"github.com/gobwas/",             // chromedp's websocket
	"github.com/go-json-experiment/", // cdproto's JSON
	"github.com/orisano/pixelmatch",
	"github.com/ledongthuc/pdf",
	"github.com/alexedwards/scs",
	"github.com/gorilla/",
	"github.com/gomodule/redigo",
}

// compiled are the only modules whose packages a build of such a program
// compiles (besides the standard library and the program itself).
var compiled = []string{
	"github.com/wsess/wsess",
	"github.com/redis/go-redis/v9",
	"github.com/cespare/xxhash/v2",
	"go.uber.org/atomic",
	"golang.org/x/sys", // go-redis imports x/sys/cpu
}

const consumerMain = `package main

import (
	"fmt"
	"net/http"

	"github.com/wsess/wsess/pkg/session"
)

func main() {
	mgr, err := session.NewCookieManager("a secret of at least 16 bytes", session.CookieOptions{})
	if err != nil {
		panic(err)
	}
	h := mgr.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		s.Set("counter", s.Int("counter")+1)
		fmt.Fprintf(w, "This is your %d visit", s.Int("counter"))
	}))
	_ = h
}
`

func TestConsumerModuleGraph(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("modgraph: the go command is not on PATH (%v): cannot build a consumer module", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/consumer\n\ngo 1.26.0\n\n" +
		"require github.com/wsess/wsess v0.0.0\n\n" +
		"replace github.com/wsess/wsess => " + root + "\n"
	for name, body := range map[string][]byte{
		"go.mod":  []byte(gomod),
		"go.sum":  sum, // the checkout's sums: tidy needs no checksum database
		"main.go": []byte(consumerMain),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, args...)
		cmd.Dir = dir
		// Offline: everything must come from the shared module cache.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return string(out)
	}

	goCmd("mod", "tidy")
	graph := goCmd("mod", "graph")
	inGraph := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(graph), "\n") {
		for _, node := range strings.Fields(line) {
			path, _, _ := strings.Cut(node, "@")
			inGraph[path] = true
		}
	}
	if !inGraph["github.com/wsess/wsess"] || !inGraph["github.com/redis/go-redis/v9"] {
		t.Fatalf("the graph lacks wsess or go-redis: the consumer was not built as meant:\n%s", graph)
	}
	for path := range inGraph {
		for _, d := range denied {
			if strings.HasPrefix(path, d) {
				t.Errorf("a module that imports only pkg/session has %s in its module graph", path)
			}
		}
	}

	deps := goCmd("list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", ".")
	for _, m := range strings.Fields(deps) {
		if m != "example.com/consumer" && !slices.Contains(compiled, m) {
			t.Errorf("building a program that imports pkg/session compiles packages of %s", m)
		}
	}
	goCmd("build", "-o", filepath.Join(dir, "consumer"), ".")
}
