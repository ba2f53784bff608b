package rediserr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/redistest"
)

// TestClassifyReplies covers the replies no test can provoke cheaply from a
// real server (LOADING needs a data set that takes long to load, TRYAGAIN a
// slot migration under a multi-key command, KVRocks's "ERR " prefixes), and
// non-Redis errors. Every reply the code distinguishes is listed here or
// provoked from a real redis-server in TestClassifyRealReplies.
func TestClassifyReplies(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want rediserr.Kind
	}{
		{"nil", nil, rediserr.None},
		{"LOADING", redistest.Reply("LOADING Redis is loading the dataset in memory"), rediserr.Unavailable},
		{"ERR LOADING (KVRocks)", redistest.Reply("ERR LOADING restoring the db from backup"), rediserr.Unavailable},
		{"READONLY", redistest.Reply("READONLY You can't write against a read only replica."), rediserr.Unavailable},
		{"READONLY from a script", redistest.Reply("ERR Error running script (call to f_1): @user_script:1: -READONLY You can't write against a read only replica."), rediserr.Unavailable},
		{"BUSY", redistest.Reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), rediserr.Unavailable},
		{"BUSYKEY is about data", redistest.Reply("BUSYKEY Target key name already exists."), rediserr.Reply},
		{"BUSYGROUP is about data", redistest.Reply("BUSYGROUP Consumer Group name already exists"), rediserr.Reply},
		{"CLUSTERDOWN", redistest.Reply("CLUSTERDOWN The cluster is down"), rediserr.Unavailable},
		{"MASTERDOWN", redistest.Reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), rediserr.Unavailable},
		{"TRYAGAIN", redistest.Reply("TRYAGAIN Multiple keys request during rehashing of slot"), rediserr.Unavailable},
		{"NOREPLICAS", redistest.Reply("NOREPLICAS Not enough good replicas to write."), rediserr.Unavailable},
		{"max clients", redistest.Reply("ERR max number of clients reached"), rediserr.Unavailable},
		{"MOVED", redistest.Reply("MOVED 3999 127.0.0.1:6381"), rediserr.Redirected},
		{"ASK", redistest.Reply("ASK 3999 127.0.0.1:6381"), rediserr.Redirected},
		{"WRONGTYPE", redistest.Reply("WRONGTYPE Operation against a key holding the wrong kind of value"), rediserr.Reply},
		{"NOSCRIPT", redis.ErrNoScript, rediserr.Reply},
		{"OOM", redistest.Reply("OOM command not allowed when used memory > 'maxmemory'."), rediserr.Reply},
		{"NOAUTH", redistest.Reply("NOAUTH Authentication required."), rediserr.Reply},
		{"unknown command", redistest.Reply("ERR unknown command 'getex', with args beginning with: "), rediserr.Reply},
		{"wrapped reply", fmt.Errorf("manager: get: %w", redistest.Reply("LOADING Redis is loading")), rediserr.Unavailable},
		{"canceled", context.Canceled, rediserr.Canceled},
		{"wrapped canceled", fmt.Errorf("x: %w", context.Canceled), rediserr.Canceled},
		{"deadline", context.DeadlineExceeded, rediserr.Unavailable},
		{"EOF", io.EOF, rediserr.Unavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, rediserr.Unavailable},
		{"client closed", redis.ErrClosed, rediserr.Unavailable},
		{"pool timeout", redis.ErrPoolTimeout, rediserr.Unavailable},
		{"dns", &net.DNSError{Err: "no such host", Name: "redis.invalid", IsNotFound: true}, rediserr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rediserr.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestClassifyRealReplies provokes each reply from a real redis-server and
// checks what Classify and the Is* helpers make of it.
func TestClassifyRealReplies(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t, redistest.Options{Args: []string{
		"--busy-reply-threshold", "100", "--maxmemory", "2mb", "--maxmemory-policy", "noeviction",
	}})
	rdb := srv.Client()
	if err := rdb.RPush(ctx, "list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "str", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	dump, err := rdb.Dump(ctx, "str").Result()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		call func() error
		want rediserr.Kind
		is   func(error) bool // a helper that must say yes, or nil
	}{
		{"WRONGTYPE", func() error { return rdb.Get(ctx, "list").Err() }, rediserr.Reply, rediserr.IsWrongType},
		{"NOSCRIPT", func() error { return rdb.EvalSha(ctx, strings.Repeat("0", 40), nil).Err() }, rediserr.Reply, nil},
		{"unknown command", func() error { return rdb.Do(ctx, "NOSUCHCOMMAND").Err() }, rediserr.Reply, rediserr.IsUnknownCommand},
		{"unknown subcommand", func() error { return rdb.Do(ctx, "CLIENT", "NOSUCHSUB").Err() }, rediserr.Reply, rediserr.IsUnknownCommand},
		{"BUSYKEY", func() error { return rdb.Restore(ctx, "str", 0, dump).Err() }, rediserr.Reply, nil},
		{"OOM", func() error { return rdb.Set(ctx, "big", strings.Repeat("x", 4<<20), 0).Err() }, rediserr.Reply, nil},
		{"script error", func() error { return rdb.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{"list"}).Err() }, rediserr.Reply, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if got := rediserr.Classify(err); got != tt.want {
				t.Errorf("Classify(%q) = %v, want %v", err, got, tt.want)
			}
			if tt.is != nil && !tt.is(err) {
				t.Errorf("helper does not recognise %q", err)
			}
		})
	}
	for _, is := range []func(error) bool{rediserr.IsWrongType, rediserr.IsUnknownCommand} {
		if is(nil) || is(errors.New("WRONGTYPE NOSCRIPT unknown command")) {
			t.Error("a helper recognises an error that is no Redis reply")
		}
	}

	t.Run("BUSY", func(t *testing.T) {
		// A script that runs for at most 10 s; every other command gets BUSY
		// once it has run for busy-reply-threshold (100 ms).
		done := make(chan error, 1)
		script := srv.Client()
		go func() {
			done <- script.Eval(ctx, `local s = tonumber(redis.call('TIME')[1])
while tonumber(redis.call('TIME')[1]) < s + 10 do end
return 1`, nil).Err()
		}()
		var err error
		for i := 0; i < 100; i++ { // up to 10 s
			if err = rdb.Ping(ctx).Err(); err != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got := rediserr.Classify(err); got != rediserr.Unavailable || !strings.HasPrefix(err.Error(), "BUSY ") {
			t.Errorf("PING during a long script: %v (%v), want a BUSY reply classified unavailable", err, got)
		}
		if err := rdb.ScriptKill(ctx).Err(); err != nil {
			t.Fatalf("SCRIPT KILL: %v", err)
		}
		<-done
	})
}

// TestClassifyReplica provokes READONLY and MASTERDOWN from a real replica.
func TestClassifyReplica(t *testing.T) {
	ctx := context.Background()
	port, err := redistest.FreePort() // nothing listens: the master is down
	if err != nil {
		t.Fatal(err)
	}
	// Made a replica after it started: redistest waits for a PONG, which a
	// replica without its master and stale data does not give.
	replica := redistest.Start(t, redistest.Options{}).Client()
	if err := replica.ConfigSet(ctx, "replica-serve-stale-data", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if err := replica.SlaveOf(ctx, "127.0.0.1", fmt.Sprint(port)).Err(); err != nil {
		t.Fatal(err)
	}
	err = replica.Set(ctx, "k", "v", 0).Err()
	if got := rediserr.Classify(err); got != rediserr.Unavailable || !strings.HasPrefix(fmt.Sprint(err), "READONLY ") {
		t.Errorf("SET on a replica: %v (%v), want a READONLY reply classified unavailable", err, got)
	}
	err = replica.Get(ctx, "k").Err()
	if got := rediserr.Classify(err); got != rediserr.Unavailable || !strings.HasPrefix(fmt.Sprint(err), "MASTERDOWN ") {
		t.Errorf("GET on a replica without its master: %v (%v), want a MASTERDOWN reply classified unavailable", err, got)
	}
}

// TestClassifyCluster provokes CLUSTERDOWN, MOVED and ASK from real cluster
// nodes talked to by a client that does not follow redirections.
func TestClassifyCluster(t *testing.T) {
	ctx := context.Background()
	lone := redistest.Start(t, redistest.Options{Args: []string{
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
	}}).Client()
	err := lone.Get(ctx, "k").Err()
	if got := rediserr.Classify(err); got != rediserr.Unavailable || !strings.HasPrefix(fmt.Sprint(err), "CLUSTERDOWN ") {
		t.Errorf("GET on a cluster node without slots: %v (%v), want CLUSTERDOWN classified unavailable", err, got)
	}

	cl := redistest.StartCluster(t, 2)
	a := redis.NewClient(&redis.Options{Addr: cl.Addrs()[0], MaxRetries: -1})
	b := redis.NewClient(&redis.Options{Addr: cl.Addrs()[1], MaxRetries: -1})
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	// Node 0 serves slots 0-8191; "a" hashes to 15495, on node 1.
	err = a.Get(ctx, "a").Err()
	if got := rediserr.Classify(err); got != rediserr.Redirected || !strings.HasPrefix(fmt.Sprint(err), "MOVED ") {
		t.Errorf("GET of another node's key: %v (%v), want MOVED classified redirected", err, got)
	}
	// "b" hashes to 3300, on node 0: mark that slot as migrating to node 1,
	// and node 0 answers ASK for a key it does not hold.
	idB, err := b.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Do(ctx, "CLUSTER", "SETSLOT", 3300, "MIGRATING", idB).Err(); err != nil {
		t.Fatal(err)
	}
	err = a.Get(ctx, "b").Err()
	if got := rediserr.Classify(err); got != rediserr.Redirected || !strings.HasPrefix(fmt.Sprint(err), "ASK ") {
		t.Errorf("GET of a key in a migrating slot: %v (%v), want ASK classified redirected", err, got)
	}
}

// TestClassifyNetwork covers errors that come from the connection, not from
// a reply: a refused connection, a server that never answers, and contexts.
func TestClassifyNetwork(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()

	// A listener that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		for c := range accepted {
			_ = c.Close()
		}
	})
	mute := redis.NewClient(&redis.Options{Addr: l.Addr().String(), MaxRetries: -1, ReadTimeout: 100 * time.Millisecond, Protocol: 2})
	t.Cleanup(func() { _ = mute.Close() })

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	tests := []struct {
		name string
		call func() error
		want rediserr.Kind
	}{
		{"no answer", func() error { return mute.Ping(context.Background()).Err() }, rediserr.Unavailable},
		{"deadline passed", func() error { return rdb.Ping(expired).Err() }, rediserr.Unavailable},
		{"canceled", func() error { return rdb.Ping(canceled).Err() }, rediserr.Canceled},
		{"refused", func() error {
			srv.Stop()
			return rdb.Ping(context.Background()).Err()
		}, rediserr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := rediserr.Classify(err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[rediserr.Kind]string{
		rediserr.None: "none", rediserr.Unavailable: "unavailable", rediserr.Redirected: "redirected",
		rediserr.Canceled: "canceled", rediserr.Reply: "reply", rediserr.Kind(99): "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
