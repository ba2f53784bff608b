package pycookie

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestPythonOpensGoCookies seals the vector pickles with Go and has a
// Python script that uses only hashlib, hmac and `openssl enc` open them.
func TestPythonOpensGoCookies(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not found")
	}
	const secret = "go-sealed-secret"
	var in strings.Builder
	var want []json.RawMessage
	var names []string
	for _, v := range pickleVectors(t) {
		pk, err := hex.DecodeString(v.hex)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"emmett", "weppy"} {
			for _, level := range []int{0, 6} {
				seal := SealEmmett
				if format == "weppy" {
					seal = SealWeppy
				}
				cookie, err := seal(pk, secret, level)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&in, "%s\t%s\t%s\n", format, secret, cookie)
				want = append(want, v.expected)
				names = append(names, fmt.Sprintf("%s/%s/level%d", format, v.name, level))
			}
		}
	}
	cmd := exec.Command(py, "testdata/pyopen.py")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyopen.py: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want) {
		t.Fatalf("python printed %d lines for %d cookies", len(lines), len(want))
	}
	for i, line := range lines {
		if !jsonSame(t, []byte(line), want[i]) {
			t.Errorf("%s: python read %s, want %s", names[i], line, want[i])
		}
	}
}

type pickleVector struct {
	name, hex string
	expected  json.RawMessage
}

func pickleVectors(t testing.TB) []pickleVector {
	t.Helper()
	raw := readVectorLines(t)
	var out []pickleVector
	for _, line := range raw {
		var v struct {
			Format   string          `json:"format"`
			Case     string          `json:"case"`
			ValueHex string          `json:"value_hex"`
			Expected json.RawMessage `json:"expected"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		if v.Format == "pickle" {
			out = append(out, pickleVector{v.Case, v.ValueHex, v.Expected})
		}
	}
	return out
}

func jsonSame(t testing.TB, a, b []byte) bool {
	return jsonEqual(norm(t, a), norm(t, b))
}
