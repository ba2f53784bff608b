package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

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

// TestFlagGroupError: every kind of flag-group and required-flag error
// cobra makes (cobra's own wording, produced by a real command) becomes one
// line in flag syntax pointing at the command's own help, exit 2.
func TestFlagGroupError(t *testing.T) {
	tests := []struct {
		name string
		mark func(c *cobra.Command)
		args []string
		line string
	}{
		{"exclusive", func(c *cobra.Command) { c.MarkFlagsMutuallyExclusive("aa", "bb", "cc") }, []string{"--cc", "--aa"},
			"wsess: --aa and --cc cannot be used together; see wsess tool --help\n"},
		{"one required", func(c *cobra.Command) { c.MarkFlagsOneRequired("aa", "bb", "cc") }, nil,
			"wsess: one of --aa, --bb or --cc is required; see wsess tool --help\n"},
		{"together", func(c *cobra.Command) { c.MarkFlagsRequiredTogether("aa", "bb", "cc") }, []string{"--bb"},
			"wsess: --aa, --bb and --cc go together: --aa and --cc missing; see wsess tool --help\n"},
		{"required", func(c *cobra.Command) { _ = c.MarkFlagRequired("aa"); _ = c.MarkFlagRequired("bb") }, nil,
			"wsess: --aa and --bb are required; see wsess tool --help\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := &cobra.Command{Use: "wsess", SilenceErrors: true, SilenceUsage: true}
			sub := &cobra.Command{Use: "tool", RunE: func(*cobra.Command, []string) error { return nil }}
			for _, n := range []string{"aa", "bb", "cc"} {
				sub.Flags().Bool(n, false, "")
			}
			tt.mark(sub)
			root.AddCommand(sub)
			root.SetArgs(append([]string{"tool"}, tt.args...))
			cmd, err := root.ExecuteC()
			if err == nil {
				t.Fatal("cobra accepted the flags")
			}
			var buf bytes.Buffer
			if code := exitCode(flagGroupError(cmd, err), &buf); code != exitUsage || buf.String() != tt.line {
				t.Errorf("exit %d, %q; want 2, %q", code, buf.String(), tt.line)
			}
		})
	}
}

// TestExplainRedisError: the failures a first run meets get a line that
// says what to do; other errors pass unchanged.
func TestExplainRedisError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6390},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		db   int
		line string
	}{
		{"refused", fmt.Errorf("session: store unavailable: index list: %w", refused), 0,
			"wsess: Redis refused the connection at 127.0.0.1:6390; is redis-server running? check --redis-url / WSESS_REDIS_URL (and --cluster)\n"},
		{"refused after redisError", redisError(&manager.Error{Op: "scan", Kind: rediserr.Unavailable, Err: refused}), 0,
			"wsess: Redis refused the connection at 127.0.0.1:6390; is redis-server running? check --redis-url / WSESS_REDIS_URL (and --cluster)\n"},
		{"db", &manager.Error{Op: "scan", Kind: rediserr.Reply, Err: redistest.Reply("ERR DB index is out of range")}, 20,
			"wsess: Redis database 20 does not exist; Redis has 16 (0 to 15) by default: check the /N at the end of --redis-url / WSESS_REDIS_URL\n"},
		{"db unknown", redistest.Reply("ERR DB index is out of range"), -1,
			"wsess: the Redis database the URL names does not exist; Redis has 16 (0 to 15) by default: check the /N at the end of --redis-url / WSESS_REDIS_URL\n"},
		{"wrong type", fmt.Errorf("session: store error: index list: %w", redistest.Reply("WRONGTYPE Operation against a key holding the wrong kind of value")), 0,
			"wsess: a Redis key that wsess read holds another type than the session store writes (WRONGTYPE); check that --prefix names only this app's sessions: 'wsess redis ls --prefix PREFIX' shows each key's type\n"},
		{"not a cluster", &manager.Error{Op: "list nodes", Kind: rediserr.Reply, Err: redistest.Reply("ERR This instance has cluster support disabled")}, 0,
			"wsess: the Redis server is not a cluster node; drop --cluster (and WSESS_REDIS_CLUSTER) and name the server with --redis-url / WSESS_REDIS_URL\n"},
		{"other reply", fmt.Errorf("manager: get: %w", redistest.Reply("ERR unknown command 'GETEX'")), 0,
			"wsess: Redis answered: ERR unknown command 'GETEX'; check the server's log, and that --redis-url / WSESS_REDIS_URL names the app's Redis\n"},
		{"reply with advice passes", withHint(fmt.Errorf("cannot read the session: %w", redistest.Reply("ERR odd")), "do this"), 0,
			"wsess: cannot read the session: ERR odd; do this\n"},
		{"timeout passes", errors.New("i/o timeout"), 0, "wsess: i/o timeout\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := explainRedisError(tt.err, tt.db)
			if !errors.Is(err, tt.err) {
				t.Errorf("the cause is lost: %v", err)
			}
			var buf bytes.Buffer
			if exitCode(err, &buf); buf.String() != tt.line {
				t.Errorf("got %q, want %q", buf.String(), tt.line)
			}
		})
	}
}
