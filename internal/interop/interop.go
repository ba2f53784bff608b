// Package interop holds the interop vectors for tests: session cookies and
// Redis values written by the real session code of weppy 1.3.4 and Emmett
// 2.4.14 (legacy and modern), 2.5.13, 2.7.1 and emmett-core 1.3.11, each
// with the JSON value it must decode to; testdata/vectors.jsonl holds one
// JSON object per line (the fields of Vector) and is embedded so that every
// package's tests read the same lines.
package interop

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

//go:embed testdata/vectors.jsonl
var vectorsJSONL []byte

// Vector is one line of the vectors file.
type Vector struct {
	// Format is "weppy" or "emmett" for a cookie, "pickle" for a Redis value.
	Format string `json:"format"`
	// Case names what the sample holds ("counter", "types", "auth", ...).
	Case string `json:"case"`
	// Key is the app secret that opens Cookie.
	Key string `json:"key"`
	// Compression is the zlib level the app used (0: none).
	Compression int `json:"compression"`
	// Cookie is the cookie value (cookie formats).
	Cookie string `json:"cookie"`
	// ValueHex is the stored Redis value in hex (pickle format).
	ValueHex string `json:"value_hex"`
	// Expected is the JSON value the sample must decode to.
	Expected json.RawMessage `json:"expected"`
	// Framework is the pyreal framework id that made the sample
	// ("weppy-1.3.4", "emmett-2.4.14-legacy", "emmett-2.7.1", ...).
	Framework string `json:"framework"`
	// Source names the versions and the interpreter that made it.
	Source string `json:"source"`
	// Proto is the pickle protocol of the payload.
	Proto int `json:"proto"`
	// Classes are the Python classes the pickle names, sorted.
	Classes []string `json:"classes"`
	// CookieName is the cookie's name in the app (cookie formats).
	CookieName string `json:"cookie_name"`
	// Prefix is the Redis key prefix of the app (pickle format).
	Prefix string `json:"prefix"`
}

// zoneModules are the modules whose classes carry zone-aware or pendulum
// dates (FORMATS.md section 1a).
var zoneModules = []string{"pendulum.", "pytz.", "zoneinfo."}

// HasZonedDates reports whether the pickle names a pendulum, pytz or
// zoneinfo class: the values of FORMATS.md section 1a, which a decoder must
// show as isoformat() strings with the zone's offset.
func (v Vector) HasZonedDates() bool {
	for _, c := range v.Classes {
		for _, m := range zoneModules {
			if strings.HasPrefix(c, m) {
				return true
			}
		}
	}
	return false
}

// IsCookie reports whether v is a cookie (weppy or Emmett).
func (v Vector) IsCookie() bool { return v.Format == "weppy" || v.Format == "emmett" }

// Vectors returns every vector, in file order.
func Vectors() ([]Vector, error) {
	var out []Vector
	sc := bufio.NewScanner(bytes.NewReader(vectorsJSONL))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v Vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("interop: vectors line %d: %w", n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	return out, nil
}

// MustVectors is Vectors that fails tb when the file cannot be read.
func MustVectors(tb testing.TB) []Vector {
	tb.Helper()
	vs, err := Vectors()
	if err != nil {
		tb.Fatal(err)
	}
	return vs
}

// Canonical parses JSON for comparison as JSON values, the way the vectors'
// expected values are meant to be compared: numbers become exact rationals
// in text (1.50 and 1.5 compare equal, big integers stay exact) and
// "__class__" members of objects are dropped.
// Compare two results with reflect.DeepEqual.
func Canonical(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("interop: %w in %s", err, b)
	}
	return canonical(v), nil
}

// MustCanonical is Canonical that fails the test on malformed JSON.
func MustCanonical(tb testing.TB, b []byte) any {
	tb.Helper()
	v, err := Canonical(b)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// SameJSON reports whether the JSON texts a and b hold the same value
// once canonical (see Canonical). It fails tb on malformed JSON.
func SameJSON(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	return reflect.DeepEqual(MustCanonical(tb, a), MustCanonical(tb, b))
}

// AssertPlainJSON reports through tb.Errorf when got, made plain (Plain)
// and encoded as JSON, is not the JSON value want (see SameJSON).
func AssertPlainJSON(tb testing.TB, got any, want []byte) {
	tb.Helper()
	gb, err := json.Marshal(Plain(got))
	if err != nil {
		tb.Fatal(err)
	}
	if !SameJSON(tb, gb, want) {
		tb.Errorf("got  %s\nwant %s", gb, want)
	}
}

func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "__class__")
		for k, e := range x {
			x[k] = canonical(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonical(e)
		}
	case json.Number:
		if r, ok := new(big.Rat).SetString(string(x)); ok {
			return r.RatString()
		}
		return string(x)
	}
	return v
}

// Plain returns v with every decoded Python object replaced by its state
// (dropping the class), recursively through maps and slices, so that a
// decoded value marshals to the JSON a vector expects. An object is a struct
// with an exported State field, as pickle.Object is: this package cannot
// import internal/pickle, whose own tests use it.
func Plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = Plain(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = Plain(x)
		}
		return s
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Struct {
		if st := rv.FieldByName("State"); st.IsValid() && st.CanInterface() {
			return Plain(st.Interface())
		}
	}
	return v
}
