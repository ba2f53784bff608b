// Package reqlog is the request log of wsess's demo server (and of the
// benchmark's peer servers, so that every server measured side by side pays
// for the same log): one line per request with the time, method, path,
// status and duration. Never headers, never the query string, never a
// cookie; the method and the (unescaped) path go through textesc.Escape, so
// a request cannot write a terminal escape or a line of its own into the
// log.
package reqlog

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/wsess/wsess/internal/textesc"
)

// Handler logs each request to next on w, which it serialises (concurrent
// requests write whole lines). now is the clock; nil means time.Now.
func Handler(w io.Writer, now func() time.Time, next http.Handler) http.Handler {
	if now == nil {
		now = time.Now
	}
	lw := Locked(w)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := now()
		sr := &statusRecorder{ResponseWriter: rw}
		next.ServeHTTP(sr, r)
		status := sr.status
		if status == 0 {
			status = http.StatusOK
		}
		end := now()
		fmt.Fprintf(lw, "%s %s %s %d %s\n", end.UTC().Format(time.RFC3339), textesc.Escape(r.Method),
			textesc.Escape(r.URL.Path), status, end.Sub(start).Round(time.Microsecond))
	})
}

// statusRecorder remembers the status the handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Locked returns a writer that serialises writes to w, for streams that
// concurrent requests share. A writer Locked already returned is returned
// as it is.
func Locked(w io.Writer) io.Writer {
	if l, ok := w.(*lockedWriter); ok {
		return l
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
