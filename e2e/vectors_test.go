package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"testing"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/redistest"
)

// dataOf runs the built wsess and returns the "data" member of its JSON,
// canonical for comparison.
func dataOf(t *testing.T, env []string, args ...string) any {
	t.Helper()
	cmd := exec.Command(wsessBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wsess %v: %v; stderr: %s", args[0:1], err, stderr.String())
	}
	var out struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("wsess printed no JSON: %v", err)
	}
	data, err := interop.Canonical(out.Data)
	if err != nil {
		t.Fatal(err)
	}
	return data
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
	vs, err := interop.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		t.Run(fmt.Sprintf("%d-%s-%s", i, v.Format, v.Case), func(t *testing.T) {
			var got any
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
			want, err := interop.Canonical(v.Expected)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.Marshal(got)
				t.Fatalf("decoded\n %s\nwant\n %s", gj, v.Expected)
			}
		})
	}
}
