package session

import (
	"bufio"
	"errors"
	"net"
	"net/http"
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

func middleware(b backend, onError func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One allocation holds the session and the writer wrapper.
		st := &struct {
			s  Session
			sw responseWriter
		}{}
		s, sw := &st.s, &st.sw
		s.ops = s.opsBuf[:0]
		s.clock = b.clock()
		if err := b.load(r, s); err != nil {
			onError(w, r, err)
			return
		}
		r = r.WithContext(NewContext(r.Context(), s))
		*sw = responseWriter{ResponseWriter: w, r: r, s: s, b: b, onError: onError}
		next.ServeHTTP(sw, r)
		if !sw.committed {
			sw.commit()
		}
	})
}

// responseWriter commits the session before the first byte of the response.
type responseWriter struct {
	http.ResponseWriter
	r       *http.Request
	s       *Session
	b       backend
	onError func(http.ResponseWriter, *http.Request, error)

	committed bool // commit was attempted
	failed    bool // it failed and the error handler answered
}

// commit saves the session once; on failure the error handler answers.
func (w *responseWriter) commit() bool {
	if w.committed {
		return !w.failed
	}
	w.committed = true
	cookies := len(w.ResponseWriter.Header()["Set-Cookie"])
	if err := w.b.commit(w.r, w.ResponseWriter.Header(), w.s); err != nil {
		w.failed = true
		// Headers the handler set for its own answer must not leak into the
		// error response; the session cookie was not set.
		h := w.ResponseWriter.Header()
		for k := range h {
			delete(h, k)
		}
		w.onError(w.ResponseWriter, w.r, err)
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

// Hijack hands the connection over after committing the session (the
// handler is about to write its own response bytes).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.commit() {
		return nil, nil, errCommitFailed
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
