package pickle

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

func assertJSONEqual(t testing.TB, got any, want []byte) {
	t.Helper()
	gb, err := json.Marshal(interop.Plain(got))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := interop.MustCanonical(t, gb), interop.MustCanonical(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", gb, want)
	}
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
