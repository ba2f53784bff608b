package redistest_test

import (
	"context"
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
