package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/redistest"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		line string
	}{
		{"nil", nil, 0, ""},
		{"failure", errors.New("boom"), 1, "wsess: boom\n"},
		{"hint", withHint(errors.New("cannot reach Redis"), "start it"), 1, "wsess: cannot reach Redis; start it\n"},
		{"wrapped hint", fmt.Errorf("outer: %w", withHint(errors.New("x"), "y")), 1, "wsess: outer: x; y\n"},
		{"usage", newUsageError("use -o json", "unknown output %q", "yaml"), 2, "wsess: unknown output \"yaml\"; use -o json\n"},
		{"wrapped usage", fmt.Errorf("decode: %w", newUsageError("h", "bad")), 2, "wsess: decode: bad; h\n"},
		{"cobra unknown command", errors.New(`unknown command "x" for "wsess"`), 2, "wsess: unknown command \"x\" for \"wsess\"; run 'wsess --help' for usage\n"},
		{"exit silently", &exitError{Code: 3}, 3, ""},
		{"exit with message", &exitError{Code: 1, Msg: "said"}, 1, "wsess: said\n"},
		{"multi-line becomes one line", errors.New("a\nb\n  c"), 1, "wsess: a b c\n"},
		{"interrupted", fmt.Errorf("scan: %w", context.Canceled), 1, "wsess: interrupted; nothing more was done\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if got := exitCode(tt.err, &buf); got != tt.code {
				t.Errorf("exitCode = %d, want %d", got, tt.code)
			}
			if buf.String() != tt.line {
				t.Errorf("stderr = %q, want %q", buf.String(), tt.line)
			}
		})
	}
}

func TestUsageErrorsUnwrap(t *testing.T) {
	inner := errors.New("inner")
	if !errors.Is(&usageError{err: inner}, inner) || !errors.Is(withHint(inner, "h"), inner) {
		t.Fatal("usageError and hintError must unwrap to their cause")
	}
	if withHint(nil, "h") != nil {
		t.Fatal("withHint(nil) must be nil")
	}
}

// TestRedisError checks the one line and the hint each kind of manager
// failure gets, also when the *manager.Error is wrapped further.
func TestRedisError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		err  error
		line string
	}{
		{"refused", &manager.Error{Op: "scan", Kind: rediserr.Unavailable, Err: refused},
			"wsess: cannot reach Redis: dial tcp: connect: connection refused; check --redis-url / WSESS_REDIS_URL (and --cluster) and that the server is running\n"},
		{"wrapped twice", fmt.Errorf("ls: %w", fmt.Errorf("walk: %w", &manager.Error{Op: "scan", Kind: rediserr.Unavailable, Err: refused})),
			"wsess: cannot reach Redis: dial tcp: connect: connection refused; check --redis-url / WSESS_REDIS_URL (and --cluster) and that the server is running\n"},
		{"loading", &manager.Error{Op: "scan", Kind: rediserr.Unavailable, Err: redistest.Reply("LOADING Redis is loading the dataset in memory")},
			"wsess: Redis cannot serve now: LOADING Redis is loading the dataset in memory; try again later, and check that --redis-url / WSESS_REDIS_URL names a master\n"},
		{"moved", &manager.Error{Op: "get", Kind: rediserr.Redirected, Err: redistest.Reply("MOVED 15495 127.0.0.1:7001")},
			"wsess: Redis answered MOVED 15495 127.0.0.1:7001: the server is a cluster node; give the cluster's addresses with --cluster (or WSESS_REDIS_CLUSTER)\n"},
		{"reply passes unchanged", &manager.Error{Op: "get", Kind: rediserr.Reply, Err: redistest.Reply("WRONGTYPE Operation against a key holding the wrong kind of value")},
			"wsess: manager: get: WRONGTYPE Operation against a key holding the wrong kind of value\n"},
		{"canceled is an interruption", &manager.Error{Op: "scan", Kind: rediserr.Canceled, Err: context.Canceled},
			"wsess: interrupted; nothing more was done\n"},
		{"not from the manager", errors.New("boom"), "wsess: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redisError(tt.err)
			if !errors.Is(err, tt.err) {
				t.Errorf("redisError(%v) lost the chain", tt.err)
			}
			var buf bytes.Buffer
			if code := exitCode(err, &buf); code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if buf.String() != tt.line {
				t.Errorf("stderr\n got %q\nwant %q", buf.String(), tt.line)
			}
		})
	}
}

// TestRedisErrorsFromRealServers runs commands against a read-only replica
// and a cluster node given without --cluster.
func TestRedisErrorsFromRealServers(t *testing.T) {
	ctx := context.Background()
	master := redistest.Start(t, redistest.Options{})
	fillSessions(t, master.Client(), "wppsess:", 3)
	rs := redistest.Start(t, redistest.Options{})
	replica := rs.Client()
	if err := replica.SlaveOf(ctx, "127.0.0.1", strconv.Itoa(master.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // wait (up to 10 s) for the first sync
		if n, err := replica.DBSize(ctx).Result(); err == nil && n == 3 {
			break
		}
		if i == 200 {
			t.Fatal("the replica did not sync within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cl := redistest.StartCluster(t, 2)
	// An id whose key lives on node 1, asked of node 0.
	node0 := redis.NewClient(&redis.Options{Addr: cl.Addrs()[0]})
	t.Cleanup(func() { _ = node0.Close() })
	id := ""
	for i := 0; i < 100 && id == ""; i++ {
		slot, err := node0.ClusterKeySlot(ctx, "wppsess:id"+strconv.Itoa(i)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if slot >= 8192 {
			id = "id" + strconv.Itoa(i)
		}
	}
	if id == "" {
		t.Fatal("no id in node 1's slots among 100")
	}

	tests := []struct {
		name   string
		args   []string
		prefix string
	}{
		{"delete on a replica", []string{"--redis-url", rs.URL(), "redis", "expire", "--prefix", "wppsess:", "--delete", "--yes"},
			"wsess: Redis cannot serve now: READONLY "},
		{"cluster node without --cluster", []string{"--redis-url", "redis://" + cl.Addrs()[0], "redis", "show", id},
			"wsess: Redis answered MOVED "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runRedis(t, false, "", tt.args...)
			if r.Code != exitFailure || !strings.HasPrefix(r.Stderr, tt.prefix) || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line starting %q", r.Code, r.Stderr, tt.prefix)
			}
		})
	}
}
