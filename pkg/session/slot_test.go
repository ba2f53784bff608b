package session

import (
	"context"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

// TestSlotTag: "{" + slotTag(key) + "}" hashes to key's slot, as Redis
// itself computes slots (CLUSTER KEYSLOT on a real server), for keys with
// and without hash tags, and with the braces that break the naive tag.
func TestSlotTag(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{Args: []string{"--cluster-enabled", "yes"}}).Client()
	ctx := context.Background()
	keys := []string{
		"wppsess:abc", "{wppsess:}abc", "a}b:abc", "{}x:abc", "}{:abc", "x{y", "{{a}}b",
		"app{}{t}:abc", "{", "}", "{}", "a{b}c{d}e", "",
	}
	for i := range 200 {
		keys = append(keys, "p}"+HashID(string(rune('a'+i%26))+string(rune(i))))
	}
	for _, key := range keys {
		want, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"{" + slotTag(key) + "}:seen:" + key, seenKey(key)} {
			got, err := rdb.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("key %q: slot %d, but %q is in slot %d", key, want, k, got)
			}
		}
		if got := int64(crc16(key) % clusterSlots); !hasTag(key) && got != want {
			t.Errorf("crc16(%q) %% 16384 = %d, Redis says %d", key, got, want)
		}
	}
}

func hasTag(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					return j > i+1
				}
			}
			return false
		}
	}
	return false
}
