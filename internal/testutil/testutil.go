// Package testutil holds the small helpers that the tests of several
// packages share, and the e2e and bench modules too (they import it through
// their replace of the root module). It is for tests only, and imports
// nothing of wsess, so that any package's tests can use it.
package testutil

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a goroutine-safe buffer: a server's log writes to it while
// the test reads it. The zero value is ready to use.
type SyncBuffer struct {
	// Max, when above 0, stops the buffer from growing: a write that finds
	// Max bytes or more already there is dropped (and reported written).
	// Default 0: no limit.
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer (unless it already holds Max bytes).
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Max > 0 && s.b.Len() >= s.Max {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// JarClient returns an HTTP client with a fresh cookie jar and a 10 s
// timeout, and the jar.
func JarClient(tb testing.TB) (*http.Client, *cookiejar.Jar) {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}, jar
}

// ReadResponse returns the status and body of a response, failing tb on
// err (the request's) or a body that cannot be read. It closes the body.
func ReadResponse(tb testing.TB, resp *http.Response, err error) (int, string) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
