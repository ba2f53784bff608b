package pickle

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

// plain turns Objects into their state (dropping the class), so decoded
// values can be compared with the vectors' JSON.
func plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = plain(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = plain(x)
		}
		return s
	case Object:
		return plain(t.State)
	}
	return v
}

func assertJSONEqual(t testing.TB, got any, want []byte) {
	t.Helper()
	gb, err := json.Marshal(plain(got))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := interop.MustCanonical(t, gb), interop.MustCanonical(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", gb, want)
	}
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
