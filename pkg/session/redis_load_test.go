package session_test

import (
	"context"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// TestRedisLoadLeavesForeignValuesAlone: loading a value
// the codec then rejects (another app's persistent key, a value of the
// other codec, a RenewID tombstone) does not change its TTL.
func TestRedisLoadLeavesForeignValuesAlone(t *testing.T) {
	pickled, err := session.PickleCodec{}.Marshal(map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		codec session.Codec
		value string
	}{
		{"text under the JSON codec", nil, "not a session"},
		{"pickle under the JSON codec", nil, string(pickled)},
		{"JSON under the pickle codec", session.PickleCodec{}, `{"a":1}`},
		{"text under the pickle codec", session.PickleCodec{}, "not a session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := redistest.Start(t, redistest.Options{})
			admin := rs.Client()
			srv, m := newRedisServer(t, rs.Client(), session.RedisOptions{Options: session.Options{Codec: tt.codec}})
			id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
			ctx := context.Background()
			admin.Set(ctx, m.Key(id), tt.value, 0)
			c := newClient(t, srv)
			c.setCookie(session.DefaultIDCookieName, id)
			c.mustGet("/read")
			if ttl := admin.TTL(ctx, m.Key(id)).Val(); ttl != -1 {
				t.Fatalf("a rejected persistent value got TTL %v", ttl)
			}
			if v := admin.Get(ctx, m.Key(id)).Val(); v != tt.value {
				t.Fatalf("value changed to %q", v)
			}
		})
	}
}
