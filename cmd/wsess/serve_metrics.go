package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/wsess/wsess/pkg/session"
)

// demoMetrics counts the session manager's events (session.Observer) and
// serves them at /metrics in the Prometheus text exposition format
// (version 0.0.4), written by hand: the demo shows how little an adapter
// takes, with no dependency.
type demoMetrics struct {
	store   string
	events  [session.EventStoreError + 1]atomic.Int64 // by kind
	seconds [session.EventStoreError + 1]atomic.Int64 // nanoseconds, by kind
	counted [session.EventStoreError + 1]atomic.Int64 // the events' Counts, by kind
}

// observe is the session.Observer.
func (dm *demoMetrics) observe(e session.Event) {
	if int(e.Kind) >= len(dm.events) {
		return // a kind added after this adapter was written
	}
	dm.events[e.Kind].Add(1)
	dm.seconds[e.Kind].Add(int64(e.Duration))
	dm.counted[e.Kind].Add(int64(e.Count))
}

// ServeHTTP writes the counters: wsess_session_events_total (every event),
// wsess_session_event_seconds_total (the time loads, commits and revokes
// took) and wsess_session_event_count_total (requests a combined commit
// wrote for, sessions a revoke ended), each labelled by store and kind.
func (dm *demoMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	type family struct {
		name, help string
		value      func(k session.EventKind) string
	}
	families := []family{
		{"wsess_session_events_total", "Session manager events, by kind.", func(k session.EventKind) string {
			return strconv.FormatInt(dm.events[k].Load(), 10)
		}},
		{"wsess_session_event_seconds_total", "Time spent in loads, commits and revocations, by kind.", func(k session.EventKind) string {
			return strconv.FormatFloat(float64(dm.seconds[k].Load())/1e9, 'g', -1, 64)
		}},
		{"wsess_session_event_count_total", "Requests written by combined commits, sessions ended by revocations.", func(k session.EventKind) string {
			return strconv.FormatInt(dm.counted[k].Load(), 10)
		}},
	}
	for _, f := range families {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", f.name, f.help, f.name)
		for k := session.EventLoad; int(k) < len(dm.events); k++ {
			fmt.Fprintf(w, "%s{store=%q,kind=%q} %s\n", f.name, dm.store, k.String(), f.value(k))
		}
	}
}
