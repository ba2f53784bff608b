// Package pyreal drives ../shared/upstream/pyreal, which runs the real
// session code of weppy and Emmett, from Go tests: it makes cookies and
// Redis values as those frameworks do and reads back what wsess writes,
// answering with what the framework's own code loaded (see the runner's
// README). It is for tests only.
//
// One server per framework is started per test binary and kept for the
// rest of it (requests take 1-3 ms, a start 0.1-0.5 s); it exits when the
// test binary closes its stdin at exit, or at CloseAll.
package pyreal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ErrAbsent is returned by Runner when ../shared/upstream is not there; the
// error wrapping it names the path that is missing.
var ErrAbsent = errors.New("pyreal: ../shared/upstream is absent")

// Runner returns the path of the pyreal script: ../shared/upstream/pyreal
// beside the module root (the directory holding go.mod, found upwards from
// the working directory).
func Runner() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("pyreal: %w", err)
	}
	return runnerFrom(dir)
}

// runnerFrom is Runner from the directory dir.
func runnerFrom(dir string) (string, error) {
	for i := 0; i < 20; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(filepath.Dir(dir), "shared", "upstream", "pyreal")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("%w: %s does not exist", ErrAbsent, bin)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("pyreal: no go.mod above the working directory")
}

// Required reports whether a missing ../shared/upstream fails the tests that
// need it instead of skipping them: when CI or WSESS_REQUIRE_UPSTREAM is set
// to anything but "" or "false". CI must run the real weppy/Emmett tests; a
// developer's quick run may go without them (./scripts/test then says, in
// one line, that they did not run).
func Required() bool {
	for _, v := range []string{"CI", "WSESS_REQUIRE_UPSTREAM"} {
		if x := os.Getenv(v); x != "" && x != "false" {
			return true
		}
	}
	return false
}

var (
	setupOnce sync.Once
	setupErr  error
	mu        sync.Mutex
	servers   = map[string]*Server{}
)

// Require returns the runner, after running "pyreal setup" once per test
// binary. When ../shared/upstream is absent it skips tb, saying so, or,
// when Required, fails it with a message naming the missing path. It fails
// tb when setup fails.
func Require(tb testing.TB) string {
	tb.Helper()
	bin := locate(tb, Runner)
	setupOnce.Do(func() {
		out, err := exec.Command(bin, "setup").CombinedOutput()
		if err != nil {
			setupErr = fmt.Errorf("pyreal setup: %w: %s", err, out)
		}
	})
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
	return bin
}

// locate returns what runner finds, skipping or failing tb (see Require)
// when it finds nothing.
func locate(tb testing.TB, runner func() (string, error)) string {
	tb.Helper()
	bin, err := runner()
	if errors.Is(err, ErrAbsent) {
		if Required() {
			tb.Fatalf("%v: the real weppy/Emmett tests must run under CI (or WSESS_REQUIRE_UPSTREAM); put the runner there (see its README.md)", err)
		}
		tb.Skipf("%v: the real weppy/Emmett tests cannot run", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// Frameworks lists the framework ids the runner offers.
func Frameworks(tb testing.TB) []string {
	tb.Helper()
	bin := Require(tb)
	out, err := exec.Command(bin, "frameworks").Output()
	if err != nil {
		tb.Fatalf("pyreal frameworks: %v", err)
	}
	return strings.Fields(string(out))
}

// Server is one "pyreal serve FRAMEWORK" process. Calls are serialised.
type Server struct {
	Framework string
	mu        sync.Mutex
	cmd       *exec.Cmd
	in        io.WriteCloser
	out       *bufio.Scanner
	info      Response
}

// Shared returns the server for framework, starting it on first use.
func Shared(tb testing.TB, framework string) *Server {
	tb.Helper()
	bin := Require(tb)
	mu.Lock()
	defer mu.Unlock()
	if s, ok := servers[framework]; ok {
		return s
	}
	cmd := exec.Command(bin, "serve", framework)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("pyreal serve %s: %v", framework, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	s := &Server{Framework: framework, cmd: cmd, in: in, out: sc}
	info, err := s.Call(map[string]any{"op": "info"})
	if err == nil {
		err = info.Err()
	}
	if err != nil {
		in.Close()
		cmd.Wait()
		tb.Fatalf("pyreal serve %s: %v", framework, err)
	}
	s.info = info
	servers[framework] = s
	return s
}

// CloseAll stops every shared server (call it from TestMain after m.Run).
func CloseAll() {
	mu.Lock()
	defer mu.Unlock()
	for k, s := range servers {
		s.in.Close()
		s.cmd.Wait()
		delete(servers, k)
	}
}

// Info is the server's answer to "info": cookie_name, prefix, sdict,
// cookie_format ("weppy" or "emmett"), actions, ...
func (s *Server) Info() Response { return s.info }

// Response is one answer, numbers kept as json.Number.
type Response map[string]any

// Err is the request's failure as the real code reported it, or nil.
func (r Response) Err() error {
	e, ok := r["error"]
	if !ok {
		return nil
	}
	if o, ok := r["outcome"]; ok {
		return fmt.Errorf("pyreal: %v (%v)", e, o)
	}
	return fmt.Errorf("pyreal: %v", e)
}

// String returns member k as a string ("" when absent).
func (r Response) String(k string) string {
	s, _ := r[k].(string)
	return s
}

// Data returns the "data" member as JSON.
func (r Response) Data() []byte {
	b, _ := json.Marshal(r["data"])
	return b
}

// Call sends one request and returns its answer.
func (s *Server) Call(req map[string]any) (Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("pyreal: %w", err)
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("pyreal serve %s: %w", s.Framework, err)
	}
	if !s.out.Scan() {
		return nil, fmt.Errorf("pyreal serve %s stopped: %v", s.Framework, s.out.Err())
	}
	dec := json.NewDecoder(bytes.NewReader(s.out.Bytes()))
	dec.UseNumber()
	var resp Response
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("pyreal serve %s: %w", s.Framework, err)
	}
	return resp, nil
}

// Must is Call that fails tb on a transport error or an "error" answer.
func (s *Server) Must(tb testing.TB, req map[string]any) Response {
	tb.Helper()
	r, err := s.Call(req)
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		tb.Fatalf("%s %v: %v", s.Framework, req["op"], err)
	}
	return r
}
