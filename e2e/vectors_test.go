package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"testing"

	"github.com/wsess/wsess/internal/redistest"
)

// vectorsFile is the copy of shared/interop/vectors.jsonl the tests use:
// cookies and Redis values written by CPython and OpenSSL, each with the
// JSON value it must decode to.
const vectorsFile = "../internal/pickle/testdata/vectors.jsonl"

type vector struct {
	Format   string         `json:"format"`
	Key      string         `json:"key"`
	Case     string         `json:"case"`
	Cookie   string         `json:"cookie"`
	ValueHex string         `json:"value_hex"`
	Expected map[string]any `json:"expected"`
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v vector
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

// withoutClass drops "__class__" members, which FORMATS.md allows a decoder
// to add to objects.
func withoutClass(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k != "__class__" {
				out[k] = withoutClass(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutClass(e)
		}
		return out
	}
	return v
}

// dataOf runs the built wsess and returns the "data" member of its JSON.
func dataOf(t *testing.T, env []string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(wsessBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wsess %v: %v; stderr: %s", args[0:1], err, stderr.String())
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("wsess printed no JSON: %v", err)
	}
	return out.Data
}

// TestVectorsThroughTheBinary decodes every interop vector with the built
// wsess: cookies with "wsess decode -o json", Redis values stored in a real
// redis-server (under weppy's and Emmett's prefixes, with UUID4 ids) with
// "wsess redis show -o json".
func TestVectorsThroughTheBinary(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NO_COLOR=1", "WSESS_REDIS_URL=" + rs.URL()}
	prefixes := []string{"wppsess:", "emtsess:"}
	for i, v := range readVectors(t) {
		t.Run(fmt.Sprintf("%d-%s-%s", i, v.Format, v.Case), func(t *testing.T) {
			var got map[string]any
			switch v.Format {
			case "weppy", "emmett":
				// The key comes from the environment, never the command line.
				got = dataOf(t, append(base, "WSESS_KEY="+v.Key), "decode", "-o", "json", v.Cookie)
			case "pickle":
				raw, err := hex.DecodeString(v.ValueHex)
				if err != nil {
					t.Fatal(err)
				}
				prefix := prefixes[i%2]
				id := fmt.Sprintf("9b2f4a0e-6f4c-4e0e-8d2a-%012x", i)
				if err := rdb.Set(context.Background(), prefix+id, raw, 0).Err(); err != nil {
					t.Fatal(err)
				}
				got = dataOf(t, base, "redis", "show", "--prefix", prefix, id, "-o", "json")
			default:
				t.Fatalf("unknown vector format %q", v.Format)
			}
			// Compare as JSON values: numbers by their decimal text, so big
			// integers are compared exactly.
			if g, w := withoutClass(got), withoutClass(v.Expected); !reflect.DeepEqual(g, w) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Fatalf("decoded\n %s\nwant\n %s", gj, wj)
			}
		})
	}
}
