package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
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

func normJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return normNumbers(v)
}

// normNumbers makes 1.50 and 1.5 compare equal: numbers become exact rationals.
func normNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normNumbers(x)
		}
	case json.Number:
		r, ok := new(big.Rat).SetString(string(t))
		if !ok {
			return string(t)
		}
		return r.RatString()
	}
	return v
}

func assertJSONEqual(t testing.TB, got any, want []byte) {
	t.Helper()
	gb, err := json.Marshal(plain(got))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := normJSON(t, gb), normJSON(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", gb, want)
	}
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
