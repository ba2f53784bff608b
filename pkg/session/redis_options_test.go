package session_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisOptionsValidation: a negative MaxRetries is refused; zero means
// the default.
func TestRedisOptionsValidation(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, tt := range []struct {
		opts session.RedisOptions
		ok   bool
	}{
		{session.RedisOptions{MaxRetries: -1}, false},
		{session.RedisOptions{Timeout: -time.Second}, false},
		{session.RedisOptions{MaxRetries: 0}, true},
		{session.RedisOptions{MaxRetries: 1}, true},
	} {
		_, err := session.NewRedisManager(rs.Client(), tt.opts)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, session.ErrInvalidOptions) {
			t.Errorf("NewRedisManager(%+v) = %v, want ok %v", tt.opts, err, tt.ok)
		}
	}
}
