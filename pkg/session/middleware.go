package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// errCommitFailed is returned from Write after the session could not be
// committed and the error handler answered instead of the handler.
var errCommitFailed = errors.New("session: response replaced by the error handler after a failed commit")

// backend is what a manager contributes to the shared middleware.
type backend interface {
	// load fills s with the request's session; an error means the store
	// failed (not that the session was missing: that is a new session).
	load(r *http.Request, s *Session) error
	// commit saves s if it changed and sets the cookie headers on h.
	commit(r *http.Request, h http.Header, s *Session) error
	// clock is the manager's Options.Clock; sessions use it (Login).
	clock() func() time.Time
}

// config is what one middleware's requests share: the backend and the
// Options it was made with. Requests point to it rather than copying it, so
// the per-request allocation stays small.
type config struct {
	b       backend
	onError func(http.ResponseWriter, *http.Request, error)
	onLate  func(*http.Request, []string)
	observe Observer // nil: no events
	store   string   // the backend's name, for events
}

// requestState is everything a request through the middleware needs, in one
// allocation: the session, the writer wrapper and the context node that
// carries the session.
type requestState struct {
	s   Session
	sw  responseWriter
	ctx sessionContext
}

// sessionContext is the request context the middleware hands on: its
// parent plus the session, as context.WithValue(parent, ctxKey{}, s) would
// be, without an allocation of its own.
type sessionContext struct {
	context.Context
	s *Session
}

// Value returns the session for ctxKey and asks the parent otherwise.
func (c *sessionContext) Value(key any) any {
	if key == (ctxKey{}) {
		return c.s
	}
	return c.Context.Value(key)
}

// middleware wraps next with the session of backend b, configured by o
// (ErrorHandler, LateChange, Observer); store names b in Events.
func middleware(b backend, o *Options, store string, next http.Handler) http.Handler {
	c := &config{b: b, onError: o.ErrorHandler, onLate: o.LateChange, observe: o.Observer, store: store}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{}
		s, sw := &st.s, &st.sw
		s.ops = s.opsBuf[:0]
		s.clock = b.clock()
		s.owner = b
		s.outer, _ = r.Context().Value(ctxKey{}).(*Session)
		var err error
		if c.observe != nil {
			start := time.Now()
			err = b.load(r, s)
			c.observe.observed(EventLoad, c.store, start, 0, err)
		} else {
			err = b.load(r, s)
		}
		if err != nil {
			c.onError(w, r, err)
			return
		}
		st.ctx.Context, st.ctx.s = r.Context(), s
		r = r.WithContext(&st.ctx)
		sw.ResponseWriter, sw.r, sw.s, sw.c = w, r, s, c
		if h := w.Header(); len(h) > 0 {
			sw.saved = saveHeader(h)
			defer sw.releaseSaved()
		}
		// The handler sees a writer that is an http.Hijacker only when the
		// connection can be hijacked (HTTP/1.x, not HTTP/2).
		var hw http.ResponseWriter = sw
		if _, ok := w.(http.Hijacker); ok {
			hw = hijackWriter{sw}
		}
		next.ServeHTTP(hw, r)
		if !sw.committed {
			sw.commit()
		}
		if c.onLate != nil {
			s.mu.Lock()
			late := s.late
			s.mu.Unlock()
			if len(late) > 0 {
				c.onLate(r, late)
			}
		}
	})
}

// responseWriter commits the session before the first byte of the response.
type responseWriter struct {
	http.ResponseWriter
	r *http.Request
	s *Session
	c *config

	committed bool // commit was attempted
	failed    bool // it failed and the error handler answered

	// saved is the response header as outer handlers left it (security
	// headers, say) before the inner handler ran, in a pooled buffer; nil
	// when it was empty.
	saved *[]headerEntry
}

// headerEntry is one header name and its values, as saved.
type headerEntry struct {
	name   string
	values []string
}

// savedPool holds the buffers of saveHeader.
var savedPool = sync.Pool{New: func() any { b := make([]headerEntry, 0, 8); return &b }}

// saveHeader returns h's entries in a buffer from savedPool. It keeps the
// value slices, not copies: Header.Set and Header.Del replace or drop a
// slice and Header.Add appends past the saved length, so the saved view
// stays what it was.
func saveHeader(h http.Header) *[]headerEntry {
	bp := savedPool.Get().(*[]headerEntry)
	buf := (*bp)[:0]
	for k, v := range h {
		buf = append(buf, headerEntry{k, v})
	}
	*bp = buf
	return bp
}

// releaseSaved returns the saved header's buffer to savedPool, emptied so
// that it holds on to none of the request's values.
func (w *responseWriter) releaseSaved() {
	if bp := w.saved; bp != nil {
		w.saved = nil
		clear((*bp)[:cap(*bp)])
		*bp = (*bp)[:0]
		savedPool.Put(bp)
	}
}

// commit saves the session once; on failure the error handler answers.
func (w *responseWriter) commit() bool {
	if w.committed {
		return !w.failed
	}
	w.committed = true
	cookies := len(w.ResponseWriter.Header()["Set-Cookie"])
	var err error
	if c := w.c; c.observe != nil {
		start := time.Now()
		err = c.b.commit(w.r, w.ResponseWriter.Header(), w.s)
		c.observe.observed(EventCommit, c.store, start, 0, err)
	} else {
		err = c.b.commit(w.r, w.ResponseWriter.Header(), w.s)
	}
	w.s.mu.Lock()
	w.s.sealed = true
	w.s.mu.Unlock()
	if err != nil {
		w.failed = true
		// Headers the inner handler set for its own answer must not leak
		// into the error response, and the session cookie must not be
		// sent; what outer handlers set (HSTS, CSP, ...) stays.
		h := w.ResponseWriter.Header()
		clear(h)
		if w.saved != nil {
			for _, e := range *w.saved {
				h[e.name] = e.values
			}
		}
		w.c.onError(w.ResponseWriter, w.r, err)
		return false
	}
	markPrivate(w.ResponseWriter.Header(), cookies, &w.s.cacheControl)
	return true
}

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: the real header comes later
		return
	}
	if w.commit() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, errCommitFailed
	}
	return w.ResponseWriter.Write(p)
}

// Flush commits the session and flushes, so streaming handlers work.
func (w *responseWriter) Flush() {
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// hijackWriter is the handler's writer when the underlying one can be
// hijacked; responseWriter alone does not claim http.Hijacker, so an
// HTTP/2 handler's type assertion fails as it would without the
// middleware.
type hijackWriter struct{ *responseWriter }

// Hijack hands the connection over, refusing with ErrHijacked when the
// session has unsaved changes: the handler writes the response bytes
// itself, so a Set-Cookie header would never reach the client. An
// unchanged session is committed first (the Redis manager applies its
// expiry), then the connection is hijacked. http.ResponseController's
// Hijack comes here too.
func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.committed && w.s.Modified() {
		return nil, nil, ErrHijacked
	}
	if !w.commit() {
		return nil, nil, errCommitFailed
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
