package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// monitor records every command a Redis server receives (MONITOR), on a
// connection of its own.
type monitor struct {
	conn net.Conn
	mu   sync.Mutex
	log  strings.Builder
}

// startMonitor opens a MONITOR connection to addr, closed at the end of
// the test.
func startMonitor(t *testing.T, addr string) *monitor {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	br := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR answered %q, %v", line, err)
	}
	conn.SetReadDeadline(time.Time{})
	m := &monitor{conn: conn}
	go func() {
		for {
			line, err := br.ReadString('\n')
			m.mu.Lock()
			m.log.WriteString(line)
			m.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return m
}

// sync sends a marker through c and waits until the monitor has seen it:
// every command sent before it has been recorded (bounded: 10 s).
func (m *monitor) sync(t *testing.T, s *redistest.Server) string {
	t.Helper()
	marker := fmt.Sprintf("monitor-sync-%d", time.Now().UnixNano())
	if err := s.Client().Echo(context.Background(), marker).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		log := m.log.String()
		m.mu.Unlock()
		if strings.Contains(log, marker) {
			return log
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("MONITOR did not show the marker within 10 s")
	return ""
}

// newCookieID logs a session into srv and returns its id (the cookie's
// value).
func newCookieID(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultIDCookieName && session.ValidID(c.Value) {
			return c.Value
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
	return ""
}

// Hashed ids exist so that no key name holds a usable cookie: redis show
// given a cookie value (on the command line or on stdin, found or not)
// sends Redis only the hashed key, never prefix + the id nor the id
// itself, as every command Redis received (MONITOR) shows. With --raw-ids
// the id is looked up as it is, as weppy and Emmett store it. (Before,
// show tried prefix + id first, then the hashed key, then the id as a
// whole key.)
func TestRedisShowNeverSendsRawID(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	srv := newLibraryApp(t, s.Client(), counter41)
	id := newCookieID(t, srv)
	var b [32]byte
	rand.Read(b[:])
	missing := base64.RawURLEncoding.EncodeToString(b[:]) // a valid id no session has
	// ("--" ends the flags before an id: one may start with "-".)
	// A weppy-style session, stored under prefix + its raw UUID id.
	const uuid = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	if err := s.Client().Set(context.Background(), session.DefaultPrefix+uuid, `{"counter": 7}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	mon := startMonitor(t, s.Addr)

	url := []string{"--redis-url", s.URL(), "redis", "show", "-o", "json"}
	for _, tt := range []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   string // a part of stdout
		stderr   string // a part of stderr
		secrets  []string
		sentKeys []string // keys Redis must have been asked for
	}{
		{"cookie value", []string{"--", id}, "", 0, `"counter": 41`, "", []string{id}, []string{session.DefaultPrefix + session.HashID(id)}},
		{"cookie value on stdin", []string{"-"}, id + "\n", 0, `"counter": 41`, "", []string{id}, []string{session.DefaultPrefix + session.HashID(id)}},
		{"unknown cookie value", []string{"--", missing}, "", 1, "", "looked up hashed", []string{missing}, []string{session.DefaultPrefix + session.HashID(missing)}},
		{"unknown cookie value on stdin", []string{"-"}, missing, 1, "", "add --raw-ids", []string{missing}, []string{session.DefaultPrefix + session.HashID(missing)}},
		{"raw id without --raw-ids", []string{"--", uuid}, "", 1, "", "add --raw-ids", []string{uuid}, []string{session.DefaultPrefix + session.HashID(uuid)}},
		{"raw id with --raw-ids", []string{"--raw-ids", "--", uuid}, "", 0, `"counter": 7`, "", nil, []string{session.DefaultPrefix + uuid}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(mon.sync(t, s))
			r := runRedis(t, false, tt.stdin, append(url, tt.args...)...)
			if r.Code != tt.code || !strings.Contains(r.Stdout, tt.stdout) || !strings.Contains(r.Stderr, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, %q, %q", r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
			}
			sent := mon.sync(t, s)[before:]
			for _, k := range tt.sentKeys {
				if !strings.Contains(sent, `"`+k+`"`) {
					t.Fatalf("Redis was never asked for %q; it got:\n%s", k, sent)
				}
			}
			for _, secret := range tt.secrets {
				if strings.Contains(sent, secret) {
					t.Fatalf("the session id reached Redis; it got:\n%s", sent)
				}
				if strings.Contains(r.Stdout, secret) || strings.Contains(r.Stderr, secret) {
					t.Fatalf("the output shows the session id: %q %q", r.Stdout, r.Stderr)
				}
			}
		})
	}
}
