// Package rediserr is the one place that decides what an error from a Redis
// call means. The session library (pkg/session), the store manager
// (internal/manager) and the CLI all ask Classify, so a reply that one of
// them calls an outage is an outage for all of them.
//
// Classify is built on go-redis's own predicates (redis.IsLoadingError,
// redis.IsReadOnlyError, redis.IsMovedError, ...), which recognise both the
// typed errors go-redis parses replies into and the plain reply text, and on
// redis.HasErrorPrefix, which also accepts the "ERR " that KVRocks puts in
// front of LOADING and the like.
package rediserr

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Kind is what an error from a Redis call means for the caller.
type Kind int

const (
	// None is the Kind of a nil error.
	None Kind = iota

	// Unavailable means no answer could be had from Redis now, but the same
	// command may work later: the network failed (refused, reset, closed,
	// timed out, an unresolvable or unreachable host, a TLS failure), the
	// deadline of the context passed, the client's pool was closed or
	// exhausted, or the server answered that it cannot serve now:
	//
	//	LOADING      still loading its data set after a restart
	//	READONLY     a replica (a failover moved the master elsewhere, or the
	//	             address names a replica)
	//	BUSY         a Lua script or function is running past its time limit
	//	CLUSTERDOWN  the cluster (or the key's slot) is down
	//	MASTERDOWN   a replica lost its master and serves no stale data
	//	TRYAGAIN     a multi-key command during a slot migration
	//	NOREPLICAS   not enough replicas acknowledged a write
	//	ERR max number of clients reached
	//
	// each also with the "ERR " prefix KVRocks adds. BUSYKEY and BUSYGROUP
	// are replies about data, not BUSY.
	Unavailable

	// Redirected means a MOVED or ASK reply reached the caller: the server
	// is a Redis Cluster node and the client does not follow redirections
	// (a single-node client given a cluster node's address), or a cluster
	// client ran out of redirections. Retrying the same call does not help;
	// the client configuration has to change.
	Redirected

	// Canceled means the caller's context was canceled: the caller gave up,
	// Redis did not fail.
	Canceled

	// Reply means Redis answered this one command with an error about the
	// command or the data: WRONGTYPE, NOSCRIPT, an unknown command, OOM,
	// NOAUTH, NOPERM, BUSYKEY, a script error and any reply not listed
	// above. The server is up; other commands may well succeed. redis.Nil
	// ("key not found") is a reply too: test for it before classifying.
	Reply
)

// String returns the Kind's name in lower case ("unavailable", ...).
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Unavailable:
		return "unavailable"
	case Redirected:
		return "redirected"
	case Canceled:
		return "canceled"
	case Reply:
		return "reply"
	}
	return "unknown"
}

// unavailableReplies are the reply prefixes (without "ERR ") that mean the
// server cannot serve now; the trailing space keeps BUSYKEY and BUSYGROUP
// out of BUSY.
var unavailableReplies = []string{
	"LOADING ", "READONLY ", "BUSY ", "CLUSTERDOWN ", "MASTERDOWN ",
	"TRYAGAIN ", "NOREPLICAS ", "max number of clients reached",
}

// Classify says what err, returned by a go-redis call (possibly wrapped),
// means. Any error that is neither a Redis reply nor a canceled context is
// Unavailable: no answer could be had from the server.
func Classify(err error) Kind {
	if err == nil {
		return None
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return Unavailable
	}
	if _, ok := redis.IsMovedError(err); ok {
		return Redirected
	}
	if _, ok := redis.IsAskError(err); ok {
		return Redirected
	}
	if redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsNoReplicasError(err) ||
		redis.IsMaxClientsError(err) {
		return Unavailable
	}
	for _, p := range unavailableReplies {
		if redis.HasErrorPrefix(err, p) {
			return Unavailable
		}
	}
	return Reply
}

// IsWrongType reports a WRONGTYPE reply: the key holds a value of another
// type (a list, a hash, ...) than the command works on.
func IsWrongType(err error) bool { return redis.HasErrorPrefix(err, "WRONGTYPE ") }

// IsUnknownCommand reports the reply of a server that does not know a
// command or subcommand (an older Redis without GETEX or CLIENT NO-TOUCH, or
// a command renamed away): "ERR unknown command 'x', ..." and
// "ERR unknown subcommand 'x'. Try CLIENT HELP.".
func IsUnknownCommand(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := strings.ToLower(rerr.Error())
	return strings.Contains(msg, "unknown command") || strings.Contains(msg, "unknown subcommand")
}
