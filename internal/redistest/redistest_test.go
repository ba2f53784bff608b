package redistest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wsess/wsess/internal/testutil"

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

	for _, tt := range testutil.RequireCases {
		t.Setenv("CI", tt.CI)
		t.Setenv("WSESS_REQUIRE_REDIS", tt.Require)
		got, _ := testutil.Outcome(t, func(tb testing.TB) { redistest.Start(tb, redistest.Options{}) })
		if got != tt.Want {
			t.Errorf("CI=%q WSESS_REQUIRE_REDIS=%q, no redis-server: %s, want %s", tt.CI, tt.Require, got, tt.Want)
		}
	}
}
