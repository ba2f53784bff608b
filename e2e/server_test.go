package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testKey is the demo server's secret (WSESS_KEY); the tests seal cookies
// with it too.
const testKey = "e2e-secret-0123456789abcdefghijkl"

// binDir holds the wsess binary built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsess-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return
	}
	binDir = dir
	defer os.RemoveAll(dir)
	m.Run()
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// wsessBinary builds ./cmd/wsess once (with -race when the tests run with
// it) and returns the path of the binary.
func wsessBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("e2e: the go command is needed to build wsess: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out := filepath.Join(binDir, "wsess")
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/wsess")
		cmd := exec.CommandContext(ctx, gobin, args...)
		// Built in the root module, with its go.mod: what go install gives
		// users (e2e is a module of its own that does not require the CLI's
		// dependencies).
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("e2e: go %s: %w\n%s", strings.Join(args, " "), err, b)
			return
		}
		buildPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// demoServer is a running "wsess serve demo" process.
type demoServer struct {
	URL string // "http://127.0.0.1:PORT" (no trailing slash)

	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{} // closed when the process has exited
	err    error         // of cmd.Wait, once exited is closed
}

var listenRE = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/ `)

// startDemo runs "wsess serve demo --addr 127.0.0.1:0 args..." and waits for
// its listening URL. At cleanup it stops the server with SIGINT, checks that
// it exited cleanly, and fails the test if the server's stderr shows a panic,
// a data race or a 5xx answer.
func startDemo(t *testing.T, args ...string) *demoServer {
	t.Helper()
	bin := wsessBinary(t)
	argv := append([]string{"serve", "demo", "--addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, argv...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"NO_COLOR=1",
		"WSESS_KEY=" + testKey,
		// A data race in the server ends it at once, with the report on
		// stderr.
		"GORACE=halt_on_error=1",
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start wsess: %v", err)
	}
	pw.Close()
	s := &demoServer{cmd: cmd, exited: make(chan struct{})}
	urlc := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line)
			s.stderr.WriteByte('\n')
			s.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		pr.Close()
	}()
	go func() {
		<-readDone
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })

	select {
	case s.URL = <-urlc:
	case <-s.exited:
		t.Fatalf("wsess %s exited before listening (%v); stderr:\n%s", strings.Join(argv, " "), s.err, s.Stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("wsess %s printed no URL in 30s; stderr:\n%s", strings.Join(argv, " "), s.Stderr())
	}
	return s
}

// Stderr returns what the server has written to stderr so far.
func (s *demoServer) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop ends the server gracefully (SIGINT, then SIGKILL after 10 s) and
// checks its exit and its stderr.
func (s *demoServer) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("wsess did not stop within 10s of SIGINT")
		}
	}
	stderr := s.Stderr()
	var exitErr *exec.ExitError
	if errors.As(s.err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("wsess exited with %v after SIGINT, want 0", s.err)
		}
	} else if s.err != nil {
		t.Errorf("wsess: %v", s.err)
	}
	for _, bad := range []string{"panic", "DATA RACE", "fatal error", "goroutine "} {
		if strings.Contains(stderr, bad) {
			t.Errorf("wsess stderr contains %q:\n%s", bad, stderr)
		}
	}
	for _, r := range parseRequestLog(stderr) {
		if r.status >= 500 {
			t.Errorf("wsess answered %s %s with %d", r.method, r.path, r.status)
		}
	}
	if t.Failed() {
		t.Logf("wsess stderr:\n%s", stderr)
	}
}

type logLine struct {
	method, path string
	status       int
}

var logRE = regexp.MustCompile(`^\S+ (GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) (\S+) (\d{3}) `)

// parseRequestLog returns the request lines of the server's stderr
// ("<time> GET /counter 200 1.2ms").
func parseRequestLog(stderr string) []logLine {
	var out []logLine
	for _, line := range strings.Split(stderr, "\n") {
		m := logRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		status, _ := strconv.Atoi(m[3])
		out = append(out, logLine{method: m[1], path: m[2], status: status})
	}
	return out
}
