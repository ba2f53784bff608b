package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a private redis-server on a loopback port, without
// persistence.
type RedisServer struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
}

// StartRedis starts redis-server on a free 127.0.0.1 port and waits until it
// answers PING.
func StartRedis(ctx context.Context) (*RedisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "wsess-bench-redis-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: start redis-server: %w", err)
	}
	s := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, dir: dir}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("bench: redis-server on %s did not answer: %w", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the server and removes its directory.
func (s *RedisServer) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(s.dir)
}

// CommandStats returns INFO commandstats as command name -> calls. Commands
// that Lua scripts run count too (Redis 7 counts them under their own name).
func CommandStats(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("bench: info commandstats: %w", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		// cmdstat_get:calls=3,usec=...
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			continue
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out, nil
}

// CommandDiff returns after - before per command, leaving out INFO itself.
func CommandDiff(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 && k != "info" {
			out[k] = d
		}
	}
	return out
}

// Proxy forwards loopback TCP connections to a Redis server and counts round
// trips: each time a client starts sending after it last received (or for
// the first time), that is one round trip. A pipeline or a MULTI block sent
// in one go counts once, whatever the client library.
type Proxy struct {
	Addr     string
	upstream string
	ln       net.Listener
	trips    atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

// StartProxy listens on a free 127.0.0.1 port and forwards to upstream.
func StartProxy(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: proxy listen: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// RoundTrips returns the round trips counted so far.
func (p *Proxy) RoundTrips() int64 { return p.trips.Load() }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		var lastFromClient atomic.Bool
		p.wg.Add(2)
		go p.pipe(u, c, func() {
			if !lastFromClient.Swap(true) {
				p.trips.Add(1)
			}
		})
		go p.pipe(c, u, func() { lastFromClient.Store(false) })
	}
}

// pipe copies src to dst, calling seen before forwarding each chunk.
func (p *Proxy) pipe(dst, src net.Conn, seen func()) {
	defer p.wg.Done()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = src.Close()
			}
			return
		}
	}
}

// Admin is a connection for FLUSHALL and INFO beside the benchmarked apps'
// clients.
type Admin struct{ rdb *redis.Client }

// NewAdmin connects to the Redis server at addr and checks that it answers.
func NewAdmin(ctx context.Context, addr string) (*Admin, error) {
	rdb, err := NewGoRedis(ctx, addr, 1)
	if err != nil {
		return nil, err
	}
	return &Admin{rdb: rdb}, nil
}

// FlushAll empties the server.
func (a *Admin) FlushAll(ctx context.Context) error {
	if err := a.rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("bench: flushall: %w", err)
	}
	return nil
}

// CommandStats is CommandStats on the admin connection.
func (a *Admin) CommandStats(ctx context.Context) (map[string]int64, error) {
	return CommandStats(ctx, a.rdb)
}

// Close closes the connection.
func (a *Admin) Close() error { return a.rdb.Close() }
