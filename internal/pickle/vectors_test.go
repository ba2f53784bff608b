package pickle

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// vector is one line of testdata/vectors.jsonl, a copy of
// shared/interop/vectors.jsonl (made by CPython's pickle and OpenSSL).
type vector struct {
	Format      string          `json:"format"`
	Case        string          `json:"case"`
	Key         string          `json:"key"`
	Compression int             `json:"compression"`
	Cookie      string          `json:"cookie"`
	ValueHex    string          `json:"value_hex"`
	Expected    json.RawMessage `json:"expected"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeVectors(t *testing.T) {
	n := 0
	for i, v := range loadVectors(t) {
		if v.Format != "pickle" {
			continue
		}
		n++
		t.Run(v.Case, func(t *testing.T) {
			raw, err := hex.DecodeString(v.ValueHex)
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalMap(raw)
			if err != nil {
				t.Fatalf("vector %d: %v", i, err)
			}
			assertJSONEqual(t, got, v.Expected)
		})
	}
	if n != 16 {
		t.Fatalf("found %d pickle vectors, want 16", n)
	}
}
