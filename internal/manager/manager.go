// Package manager administers the keys a session store keeps in Redis: it
// lists them by prefix, describes them (TTL, size, idle time), reads one,
// sets a TTL on or deletes many in batches, and summarises them.
//
// It works with any redis.UniversalClient. A single node and a Sentinel
// failover client are one node; a Cluster is every master (each master's keys
// are scanned on that master and the commands for them are sent to it
// directly); a Ring is every shard. Nodes are worked on concurrently; the
// callbacks a caller passes are never called concurrently.
//
// Key enumeration is always SCAN (never KEYS) with MATCH on the escaped
// prefix, so memory stays constant whatever the number of keys: only one or
// two batches are held at a time, and the SCAN for the next batch runs while
// the previous one is processed. SCAN may report a key more than once when
// the server resizes its hash table during the walk (for example while keys
// are being deleted); counts are then an upper bound.
//
// Reading values or lengths counts as an access for Redis (it resets the
// idle clock that OBJECT IDLETIME reports, which Expire's idle filter
// selects on). Where the server supports it (Redis 7.2 and later) every
// pipeline of this package is wrapped in CLIENT NO-TOUCH so that listing
// keys leaves their idle time alone. On older servers List, Stats and
// Describe use only commands that leave it alone (the table in
// describe.go), with MEMORY USAGE standing in for the length
// (Info.SizeIsMemory), unless they read the values (ScanOptions.Values, a
// Filter), which Get always does: ReadsTouch tells a caller when that
// resets idle times. The idle time is read before anything else, so it is
// right the first time; Expire's idle filter never reads values or sizes.
package manager

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/rediserr"
)

// Defaults used when an option is zero.
const (
	// DefaultCount is the SCAN COUNT hint (and the batch size) when none is set.
	DefaultCount = 1000
	// DefaultBatch is how many keys Expire sends in one pipeline when none is set.
	DefaultBatch = 1000
)

// pipeWorkers is how many pipelines per node are in flight at once while
// the next SCAN runs: one is encoded or decoded by the client while the
// server works on the other.
const pipeWorkers = 2

// Errors callers can test with errors.Is.
var (
	// ErrUnavailable matches (errors.Is) every *Error of Kind
	// rediserr.Unavailable: refused or broken connections, timeouts, a
	// server that cannot serve now (loading, read-only, busy with a script,
	// cluster down); rediserr.Unavailable lists them all.
	ErrUnavailable = errors.New("redis unavailable")
	// ErrNotFound is returned by Get for a key that does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrInvalidOptions is returned for options that make no sense (no
	// prefix for a destructive operation, a negative TTL, both a TTL and Delete).
	ErrInvalidOptions = errors.New("invalid options")
)

// Manager administers keys through one client. It is safe for concurrent use.
type Manager struct {
	c redis.UniversalClient

	// noTouch is noTouchUnknown until the first pipeline tells whether the
	// server knows CLIENT NO-TOUCH.
	noTouch atomic.Int32
}

const (
	noTouchUnknown int32 = iota
	noTouchYes
	noTouchNo
)

// New returns a manager over c. The manager does not own c: closing c is the
// caller's job.
func New(c redis.UniversalClient) *Manager {
	return &Manager{c: c}
}

// node is what the manager needs from one server (or, for Describe and Get
// on a cluster, from the cluster client that routes by key).
type node interface {
	redis.Cmdable
}

// nodes returns the servers that hold keys: every master of a cluster, every
// shard of a ring, or the client itself. Masters are sorted by address so
// that output is in a stable order.
func (m *Manager) nodes(ctx context.Context) ([]node, error) {
	var (
		mu  sync.Mutex
		out []*redis.Client
		err error
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
		return nil
	}
	switch c := m.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		return []node{m.c}, nil
	}
	if err != nil {
		return nil, wrap("list nodes", err)
	}
	if len(out) == 0 {
		return nil, &Error{Op: "list nodes", Kind: rediserr.Unavailable, Err: errors.New("no master known")}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Options().Addr < out[j].Options().Addr })
	ns := make([]node, len(out))
	for i, c := range out {
		ns[i] = c
	}
	return ns, nil
}

// isCluster reports whether pipelines through m.c may be split across
// servers (so a connection-level CLIENT NO-TOUCH would land elsewhere).
func (m *Manager) isCluster() bool {
	switch m.c.(type) {
	case *redis.ClusterClient, *redis.Ring:
		return true
	}
	return false
}

// Error is the error a Manager method returns when a Redis call failed.
// Test for it with errors.As to learn what kind of failure it was; it also
// matches ErrUnavailable under errors.Is when Kind is rediserr.Unavailable.
type Error struct {
	// Op is the operation that failed ("scan", "describe", "expire", ...).
	Op string
	// Kind is what the failure means, as rediserr.Classify decides.
	Kind rediserr.Kind
	// Err is the cause: the error go-redis returned.
	Err error
}

// Error is "manager: <op>: <cause>", with "redis unavailable: " before the
// cause of an outage.
func (e *Error) Error() string {
	if e.Kind == rediserr.Unavailable {
		return "manager: " + e.Op + ": " + ErrUnavailable.Error() + ": " + e.Err.Error()
	}
	return "manager: " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnavailable and e is an outage.
func (e *Error) Is(target error) bool {
	return target == ErrUnavailable && e.Kind == rediserr.Unavailable
}

// wrap returns err as an *Error for op (nil stays nil). An error that
// already is one is returned as it is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	return &Error{Op: op, Kind: rediserr.Classify(err), Err: err}
}

// pipelineFailed returns the error that stops a whole pipeline (a network
// failure, a server that cannot serve now, a cancelled context), or nil when
// Redis answered single commands with errors the caller checks one by one.
func pipelineFailed(err error) error {
	switch rediserr.Classify(err) {
	case rediserr.None, rediserr.Reply, rediserr.Redirected:
		return nil
	}
	return err
}
