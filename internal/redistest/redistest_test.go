package redistest_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

func TestStartStopRestartPersist(t *testing.T) {
	ctx := context.Background()
	s := redistest.Start(t, redistest.Options{Persist: true})
	c := s.Client()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Get(ctx, "k").Err(); err == nil {
		t.Fatal("GET succeeded against a stopped server")
	}
	s.Restart()
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after restart: got %q, %v; want \"v\"", got, err)
	}
}

// outcomeTB records whether Start skipped or failed; both end the goroutine
// that called them, as in a real test.
type outcomeTB struct {
	testing.TB
	outcome string
}

func (o *outcomeTB) Helper()           {}
func (o *outcomeTB) Skip(args ...any)  { o.outcome = "skip"; runtime.Goexit() }
func (o *outcomeTB) Fatal(args ...any) { o.outcome = "fatal"; runtime.Goexit() }

// TestBinaryLookup checks that WSESS_REDIS_SERVER wins over PATH, and that
// without a binary Start skips, or fails where a server is required.
func TestBinaryLookup(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("WSESS_REDIS_SERVER", "")
	if _, err := redistest.Binary(); !errors.Is(err, redistest.ErrNoServer) {
		t.Fatalf("Binary with an empty PATH: %v, want ErrNoServer", err)
	}
	t.Setenv("WSESS_REDIS_SERVER", "/opt/redis/bin/redis-server")
	if got, err := redistest.Binary(); err != nil || got != "/opt/redis/bin/redis-server" {
		t.Fatalf("Binary = %q, %v; want WSESS_REDIS_SERVER's value", got, err)
	}
	t.Setenv("WSESS_REDIS_SERVER", "")

	tests := []struct {
		ci, require string
		want        string
	}{
		{"", "", "skip"},
		{"false", "false", "skip"},
		{"true", "", "fatal"},
		{"", "1", "fatal"},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.ci)
		t.Setenv("WSESS_REQUIRE_REDIS", tt.require)
		o := &outcomeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			redistest.Start(o, redistest.Options{})
			o.outcome = "started"
		}()
		<-done
		if o.outcome != tt.want {
			t.Errorf("CI=%q WSESS_REQUIRE_REDIS=%q, no redis-server: %s, want %s", tt.ci, tt.require, o.outcome, tt.want)
		}
	}
}
