package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
)

// TestLoadScript runs the load script of each codec and lifetime setting on
// a real Redis against the values it meets: a session, one with an expiry
// override or a creation time, one past its absolute lifetime, a tombstone
// and values that are not the codec's (which keep their TTL and value).
func TestLoadScript(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	ctx := context.Background()
	now := time.Now().Unix()
	jsonCfg := loadConfig{expire: time.Hour, lead: JSONCodec{}.LeadingBytes(), mode: 'j'}
	jsonAbs := jsonCfg
	jsonAbs.absolute = 24 * time.Hour
	pickleCfg := loadConfig{expire: time.Hour, lead: PickleCodec{}.LeadingBytes(), mode: 'p'}
	pickleAbs := pickleCfg
	pickleAbs.absolute = 24 * time.Hour
	custom := loadConfig{expire: time.Hour, absolute: 24 * time.Hour}
	pickled := func(values map[string]any) string {
		b, err := PickleCodec{}.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	created := func(age time.Duration) int64 { return now - int64(age/time.Second) }

	tests := []struct {
		name  string
		cfg   loadConfig
		value string
		reply string // "" = nil
		ttl   time.Duration
	}{
		{"JSON session", jsonCfg, `{"a":1}`, `3600 {"a":1}`, time.Hour},
		{"JSON after white space", jsonCfg, " \n{\"a\":1}", "3600  \n{\"a\":1}", time.Hour},
		{"JSON array", jsonCfg, `[1]`, "", -1},
		{"text under JSON", jsonCfg, `plain text`, "", -1},
		{"pickle under JSON", jsonCfg, pickled(map[string]any{"a": 1}), "", -1},
		{"JSON override", jsonCfg, `{"_expires_after":600,"a":1}`, `600 {"_expires_after":600,"a":1}`, 600 * time.Second},
		{"JSON override not an integer", jsonCfg, `{"_expires_after":1.5}`, `3600 {"_expires_after":1.5}`, time.Hour},
		{"JSON creation time ignored without absolute", jsonCfg,
			fmt.Sprintf(`{"_wsess_created":%d}`, created(24*time.Hour-100*time.Second)),
			fmt.Sprintf(`3600 {"_wsess_created":%d}`, created(24*time.Hour-100*time.Second)), time.Hour},
		{"JSON absolute cuts the TTL", jsonAbs,
			fmt.Sprintf(`{"a":1,"_wsess_created":%d}`, created(24*time.Hour-100*time.Second)),
			fmt.Sprintf(`100 {"a":1,"_wsess_created":%d}`, created(24*time.Hour-100*time.Second)), 100 * time.Second},
		{"JSON past its absolute lifetime", jsonAbs, fmt.Sprintf(`{"_wsess_created":%d}`, created(24*time.Hour+time.Second)), "", -1},
		{"JSON creation time only in a string", jsonAbs, `{"a":"\"_wsess_created\":1"}`, `3600 {"a":"\"_wsess_created\":1"}`, time.Hour},
		{"tombstone", jsonAbs, tombstone + "next", "-1 " + tombstone + "next", -1},
		{"pickle session", pickleCfg, pickled(map[string]any{"a": 1}), "3600 " + pickled(map[string]any{"a": 1}), time.Hour},
		{"pickle override", pickleCfg, pickled(map[string]any{"_expires_after": 600}), "600 " + pickled(map[string]any{"_expires_after": 600}), 600 * time.Second},
		{"JSON under pickle", pickleCfg, `{"a":1}`, "", -1},
		{"pickle absolute cuts the TTL", pickleAbs, pickled(map[string]any{"_wsess_created": created(24*time.Hour - 100*time.Second)}),
			"100 " + pickled(map[string]any{"_wsess_created": created(24*time.Hour - 100*time.Second)}), 100 * time.Second},
		{"pickle past its absolute lifetime", pickleAbs, pickled(map[string]any{"_wsess_created": created(25 * time.Hour)}), "", -1},
		{"any value under a codec without a sniffer", custom, "anything", "3600 anything", time.Hour},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("load:%d", i)
			if err := rdb.Set(ctx, key, tt.value, 0).Err(); err != nil {
				t.Fatal(err)
			}
			reply, err := newLoadScript(tt.cfg).Run(ctx, rdb, []string{key}, now).Text()
			if errors.Is(err, redis.Nil) {
				reply, err = "", nil
			}
			if err != nil || reply != tt.reply {
				t.Fatalf("reply %q, %v; want %q", reply, err, tt.reply)
			}
			got, err := rdb.TTL(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if tt.ttl < 0 && got != -1 || tt.ttl > 0 && (got > tt.ttl || got < tt.ttl-time.Second) {
				t.Fatalf("TTL %v, want %v", got, tt.ttl)
			}
			if v := rdb.Get(ctx, key).Val(); v != tt.value {
				t.Fatalf("value changed to %q", v)
			}
		})
	}

	t.Run("last-seen marker", func(t *testing.T) {
		cfg := jsonAbs
		cfg.touch = 5 * time.Minute
		key := "load:user"
		marker := seenKey(key)
		value := fmt.Sprintf(`{"_wsess_created":%d,"_wsess_user":"alice"}`, created(time.Hour))
		if err := rdb.Set(ctx, key, value, 0).Err(); err != nil {
			t.Fatal(err)
		}
		script := newLoadScript(cfg)
		for _, want := range []string{"3600t ", "3600 "} { // due once per touch interval
			reply, err := script.Run(ctx, rdb, []string{key, marker}, now).Text()
			if err != nil || reply != want+value {
				t.Fatalf("reply %q, %v; want %q", reply, err, want+value)
			}
		}
		if ttl := rdb.PTTL(ctx, marker).Val(); ttl <= 0 || ttl > 5*time.Minute {
			t.Fatalf("marker TTL %v, want (0, 5m]", ttl)
		}
		// An anonymous session never sets a marker.
		anon := "load:anon"
		rdb.Set(ctx, anon, `{"a":1}`, 0)
		if reply, err := script.Run(ctx, rdb, []string{anon, seenKey(anon)}, now).Text(); err != nil || strings.Contains(reply, "t ") {
			t.Fatalf("anonymous: %q, %v", reply, err)
		}
		if n := rdb.Exists(ctx, seenKey(anon)).Val(); n != 0 {
			t.Fatal("an anonymous session set a marker")
		}
	})
}
