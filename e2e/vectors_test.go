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
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/redistest"
)

// dataOf runs the built wsess and returns the "data" member of its JSON,
// canonical for comparison.
func dataOf(t *testing.T, env []string, args ...string) any {
	t.Helper()
	return dataOfStdin(t, env, "", args...)
}

// dataOfStdin is dataOf with stdin.
func dataOfStdin(t *testing.T, env []string, stdin string, args ...string) any {
	t.Helper()
	cmd := exec.Command(wsessBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
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
	return plainBytes(data)
}

// plainBytes turns the CLI's marked bytes ({"$bytes": base64}) back into
// the base64 strings the vectors hold for Python bytes.
func plainBytes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["$bytes"]; ok && len(x) == 1 {
			return b
		}
		for k, e := range x {
			x[k] = plainBytes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainBytes(e)
		}
	}
	return v
}

// TestVectorsThroughTheBinary decodes every interop vector (made by the
// real weppy and Emmett code) with the built wsess: cookies with "wsess
// decode -o json" from stdin, as an argument and in a Cookie header (quoted,
// as browsers send these values back), Redis values stored in a real
// redis-server (under weppy's and Emmett's prefixes, with UUID4 ids) with
// "wsess redis show -o json". Vectors holding pendulum, pytz or zoneinfo
// dates are in the zoned-dates group.
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
		name := fmt.Sprintf("%d-%s-%s-%s", i, v.Framework, v.Format, v.Case)
		if v.HasZonedDates() {
			name = "zoned-dates/" + name
		}
		t.Run(name, func(t *testing.T) {
			var got any
			switch v.Format {
			case "weppy", "emmett":
				// The key comes from the environment, never the command line.
				env := append(base, "WSESS_KEY="+v.Key)
				got = dataOfStdin(t, env, v.Cookie+"\n", "decode", "-o", "json")
				header := "Cookie: theme=dark; " + v.CookieName + `="` + v.Cookie + `"; other=1`
				for what, alt := range map[string]any{
					"argument":      dataOf(t, env, "decode", "-o", "json", v.Cookie),
					"header":        dataOf(t, env, "decode", "-o", "json", header),
					"header, stdin": dataOfStdin(t, env, header, "decode", "-o", "json", "-"),
				} {
					if !reflect.DeepEqual(alt, got) {
						t.Errorf("from %s: %v, from stdin: %v", what, alt, got)
					}
				}
			case "pickle":
				raw, err := hex.DecodeString(v.ValueHex)
				if err != nil {
					t.Fatal(err)
				}
				// Stored under the raw id, as weppy and Emmett store
				// sessions: redis show looks ids up that way only with
				// --raw-ids (CHANGELOG, Fixed (wsess)).
				prefix := prefixes[i%2]
				id := fmt.Sprintf("9b2f4a0e-6f4c-4e0e-8d2a-%012x", i)
				if err := rdb.Set(context.Background(), prefix+id, raw, 0).Err(); err != nil {
					t.Fatal(err)
				}
				got = dataOf(t, base, "redis", "show", "--prefix", prefix, "--raw-ids", id, "-o", "json")
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

// decodeValueJSON decodes a stored pickle to its JSON data, as wsess shows it.
func decodeValueJSON(raw []byte) ([]byte, error) {
	s, err := inspect.DecodeValue(raw, "pickle")
	if err != nil {
		return nil, err
	}
	return json.Marshal(s.Data)
}
