package session

import (
	"errors"
	"time"
)

// Observer receives an Event for each thing a manager did: loads, commits,
// conflicts and retries, combined commits, revocations, store errors. Set it
// in Options to feed metrics or traces (see the README for Prometheus and
// OpenTelemetry). It is called synchronously, on the goroutine that did the
// work (a request's, or RevokeUser's caller's): keep it quick and never
// block. It must be safe for concurrent use. A nil Observer (the default)
// costs nothing: no clock is read and nothing is allocated.
type Observer func(Event)

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event. New kinds may be added; an Observer should ignore
// kinds it does not know.
const (
	// EventLoad: the middleware loaded the request's session (opened the
	// cookie, or read Redis). Duration is the load's; Err is set when the
	// store failed (the error handler answered).
	EventLoad EventKind = iota + 1
	// EventCommit: the middleware committed the session before the
	// response (saved it when it changed, set the cookie). Duration is the
	// commit's, retries and waits for a combined commit included; Err is
	// set when it failed.
	EventCommit
	// EventConflict: a Redis compare-and-set found the stored session
	// changed by another writer since the request loaded it. Count is the
	// attempt that met it (1 for the first).
	EventConflict
	// EventRetry: after a conflict, the commit replays the request's
	// changes onto the stored value and tries again. Count is the attempt
	// about to run (2 for the first retry).
	EventRetry
	// EventCombined: one compare-and-set wrote the changes of several
	// concurrent requests of the same session, handled in this process.
	// Count is how many requests it wrote for.
	EventCombined
	// EventRevoke: RevokeUser or Revoke returned. Count is the sessions
	// ended (Redis store; 0 for the cookie store, which cannot count
	// them); Duration the call's; Err set when it failed.
	EventRevoke
	// EventStoreError: a load, commit or revocation failed because of the
	// store (the error wraps ErrUnavailable or ErrStore, or ErrConflict
	// when the retries ran out). It follows the EventLoad, EventCommit or
	// EventRevoke that carries the same Err.
	EventStoreError
)

// String returns the kind's name in lower case ("load", "commit", ...),
// for metric labels.
func (k EventKind) String() string {
	switch k {
	case EventLoad:
		return "load"
	case EventCommit:
		return "commit"
	case EventConflict:
		return "conflict"
	case EventRetry:
		return "retry"
	case EventCombined:
		return "combined"
	case EventRevoke:
		return "revoke"
	case EventStoreError:
		return "store_error"
	}
	return "unknown"
}

// Event is what an Observer receives. It is passed by value and holds no
// session data, no id and no user id.
type Event struct {
	Kind EventKind
	// Store is "cookie" or "redis".
	Store string
	// Duration is how long the reported work took, where the kind says
	// so; 0 otherwise.
	Duration time.Duration
	// Err is the failure, for the kinds that can fail; nil otherwise.
	Err error
	// Count is a number the kind defines (sessions revoked, requests
	// combined, an attempt); 0 otherwise.
	Count int
}

// Store names of Event.Store.
const (
	storeCookie = "cookie"
	storeRedis  = "redis"
)

// observed reports a finished piece of work that started at start: the
// event itself, then EventStoreError when err comes from the store.
func (o Observer) observed(kind EventKind, store string, start time.Time, count int, err error) {
	o(Event{Kind: kind, Store: store, Duration: time.Since(start), Err: err, Count: count})
	if err != nil && (errors.Is(err, ErrUnavailable) || errors.Is(err, ErrStore) || errors.Is(err, ErrConflict)) {
		o(Event{Kind: EventStoreError, Store: store, Err: err})
	}
}
