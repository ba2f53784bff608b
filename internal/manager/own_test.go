package manager_test

import (
	"testing"

	"github.com/wsess/wsess/internal/manager"
)

// Classify knows the shapes of pkg/session's own keys (the CLI's
// TestRedisOwnKeys checks them against keys the library makes) and
// nothing that merely looks close.
func TestClassify(t *testing.T) {
	const (
		h = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
		u = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
	)
	for _, tt := range []struct {
		name, key, typ string
		value          string // "-": not read (nil)
		want           manager.Own
	}{
		{"tombstone", "wppsess:" + u, "string", "\x00wsess:renamed:" + h, manager.Own{Kind: manager.OwnTombstone, Target: "wppsess:" + h}},
		{"tombstone of a raw uuid id", "emtsess:7c9e6679-7425-40de-944b-e07fc1f90ae7", "", "\x00wsess:renamed:" + h, manager.Own{Kind: manager.OwnTombstone, Target: "emtsess:" + h}},
		{"tombstone naming no id", "wppsess:" + u, "string", "\x00wsess:renamed:x", manager.Own{}},
		{"tombstone unread", "wppsess:" + u, "string", "-", manager.Own{}},
		{"session", "wppsess:" + u, "string", `{"counter":1}`, manager.Own{}},
		{"index", "{wppsess:u:" + u + "}", "zset", "-", manager.Own{Kind: manager.OwnIndex, User: u}},
		{"index by name", "{wppsess:u:" + u + "}", "", "-", manager.Own{Kind: manager.OwnIndex, User: u}},
		{"index of another type", "{wppsess:u:" + u + "}", "string", "1", manager.Own{}},
		{"index meta", "{wppsess:u:" + u + "}:m", "hash", "-", manager.Own{Kind: manager.OwnIndexMeta, Target: "{wppsess:u:" + u + "}", User: u}},
		{"index meta as a zset", "{wppsess:u:" + u + "}:m", "zset", "-", manager.Own{}},
		{"index with a short hash", "{wppsess:u:abc}", "zset", "-", manager.Own{}},
		{"marker", "{wppsess:" + h + "}:seen:wppsess:" + h, "string", "1", manager.Own{Kind: manager.OwnMarker, Target: "wppsess:" + h}},
		{"marker of a hash-tagged key", "{app}:seen:{app}:sess:" + h, "string", "-", manager.Own{Kind: manager.OwnMarker, Target: "{app}:sess:" + h}},
		{"marker naming another key", "{wppsess:x}:seen:wppsess:" + h, "string", "1", manager.Own{}},
		{"marker with another value", "{wppsess:" + h + "}:seen:wppsess:" + h, "string", "2", manager.Own{}},
		{"revocation", "wsess:revoked:" + u, "string", "1747489470000", manager.Own{Kind: manager.OwnRevocation, User: u}},
		{"revocation by name", "wsess:revoked:" + u, "", "-", manager.Own{Kind: manager.OwnRevocation, User: u}},
		{"revocation with a text value", "wsess:revoked:" + u, "string", "yes", manager.Own{}},
		{"ended login", "wsess:revoked:l:" + h, "string", "1", manager.Own{Kind: manager.OwnEndedLogin}},
		{"ended login by name", "wsess:revoked:l:" + h, "", "-", manager.Own{Kind: manager.OwnEndedLogin}},
		{"ended login with another value", "wsess:revoked:l:" + h, "string", "2", manager.Own{}},
		{"an app's hash-tagged session", "{app}:sess:" + h, "string", `{"a":1}`, manager.Own{}},
		{"an app's key", "cache:user:1", "", "-", manager.Own{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v []byte
			if tt.value != "-" {
				v = []byte(tt.value)
			}
			if got := manager.Classify(tt.key, tt.typ, v); got != tt.want {
				t.Errorf("Classify(%q, %q, %q) = %+v, want %+v", tt.key, tt.typ, tt.value, got, tt.want)
			}
		})
	}
}
