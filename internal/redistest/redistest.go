// Package redistest starts private redis-server processes for tests: a single
// node on a free loopback port, stopped when the test ends, and (see
// cluster.go) a local cluster of masters. It also fills a server with keys
// (Fill) and stands in for the error replies no real server gives cheaply
// (Reply); see data.go.
//
// Nothing here talks to a Redis someone else started: every test gets its own
// server in its own temporary directory. The redis-server binary is
// WSESS_REDIS_SERVER when that is set, otherwise the first redis-server on
// PATH. When there is none, Start skips the test with a message that says
// how to install it (./scripts/bootstrap does), except where a missing
// server must not go unnoticed: with CI or WSESS_REQUIRE_REDIS set (as
// ./scripts/test sets it) the test fails instead.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoServer is reported when no redis-server binary can be found.
var ErrNoServer = errors.New("redistest: redis-server not found on PATH (run ./scripts/bootstrap, or apt-get install -y redis-server)")

// Required reports whether a missing redis-server fails tests instead of
// skipping them: when CI or WSESS_REQUIRE_REDIS is set to anything but ""
// or "false".
func Required() bool {
	for _, v := range []string{"CI", "WSESS_REQUIRE_REDIS"} {
		if x := os.Getenv(v); x != "" && x != "false" {
			return true
		}
	}
	return false
}

// Options tune a server. The zero value is an in-memory server with no
// persistence.
type Options struct {
	// Persist turns on the append-only file (appendfsync always), so data
	// committed before Stop is there again after Restart.
	Persist bool
	// Args are extra redis-server arguments, e.g. "--maxmemory", "10mb".
	Args []string
}

// Server is one private redis-server process.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Port is the TCP port of Addr.
	Port int
	// Dir is the working directory (AOF and logs live there).
	Dir string

	opts Options
	bin  string
	tb   testing.TB
	conf string // a Sentinel's configuration file (sentinel.go); "" for a plain server

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Binary returns the path of redis-server: WSESS_REDIS_SERVER when set,
// otherwise the first redis-server on PATH, or ErrNoServer.
func Binary() (string, error) {
	if p := os.Getenv("WSESS_REDIS_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", ErrNoServer
	}
	return p, nil
}

// Start starts a redis-server on a free loopback port and registers its stop
// with t.Cleanup. It fails the test when the server cannot start. Without a
// redis-server binary it skips the test, or fails it when Required.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if Required() {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	s := &Server{Dir: tb.TempDir(), opts: opts, bin: bin, tb: tb}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePort()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("redistest: %v", lastErr)
	return nil
}

// Launch starts a server outside a test, for TestMain functions (Example
// tests need a server before any *testing.T exists). The caller must Stop
// it; Restart and Client need a server from Start.
func Launch(opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{Dir: dir, opts: opts, bin: bin}
	for attempt := 0; attempt < 5; attempt++ {
		if s.Port, err = FreePort(); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, fmt.Errorf("redistest: %w", err)
}

func (s *Server) args() []string {
	if s.conf != "" {
		// A Sentinel: its configuration file first (it rewrites it), no
		// persistence options.
		return []string{s.conf, "--sentinel",
			"--port", strconv.Itoa(s.Port),
			"--bind", "127.0.0.1",
			"--dir", s.Dir,
			"--daemonize", "no",
			"--logfile", filepath.Join(s.Dir, "redis.log"),
		}
	}
	a := []string{
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--dir", s.Dir,
		"--save", "",
		"--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"),
	}
	if s.opts.Persist {
		a = append(a, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		a = append(a, "--appendonly", "no")
	}
	return append(a, s.opts.Args...)
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited: %v: %s", s.Port, err, tail(log))
		default:
		}
		if ping(s.Addr) == nil {
			s.mu.Lock()
			s.cmd = cmd
			s.mu.Unlock()
			go func() { <-exited }() // reaped by the waiter above
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("redis-server on port %d did not answer PING within 10s", s.Port)
}

// Stop shuts the server down (SHUTDOWN NOSAVE, then SIGKILL after 5 s) and
// waits until its port refuses connections. Stopping a stopped server is a
// no-op.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = c.ShutdownNoSave(ctx).Err()
	cancel()
	_ = c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for ping(s.Addr) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	for deadline = time.Now().Add(5 * time.Second); ping(s.Addr) == nil && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if s.tb == nil { // from Launch: nobody else cleans up
		_ = os.RemoveAll(s.Dir)
	}
}

// Restart starts the server again on the same port and directory (with
// Persist, with the same data).
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart: %v", err)
}

// URL is a redis:// URL for the server's database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a new client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", buf[:n])
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}
