package pickle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

func needPython(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	return py
}

// TestDecodePython decodes what this machine's CPython pickles, for every
// protocol it supports, and compares with the JSON the script computed.
func TestDecodePython(t *testing.T) {
	py := needPython(t)
	out, err := exec.Command(py, "testdata/pyvalues.py").Output()
	if err != nil {
		t.Fatalf("pyvalues.py: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var c struct {
			Case     string          `json:"case"`
			Proto    int             `json:"proto"`
			Hex      string          `json:"hex"`
			Expected json.RawMessage `json:"expected"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		raw, _ := hex.DecodeString(c.Hex)
		got, err := UnmarshalMap(raw)
		if err != nil {
			t.Errorf("%s/proto%d: %v", c.Case, c.Proto, err)
			continue
		}
		gb, _ := json.Marshal(interop.Plain(got))
		if !interop.SameJSON(t, gb, c.Expected) {
			t.Errorf("%s/proto%d:\ngot  %s\nwant %s", c.Case, c.Proto, gb, c.Expected)
		}
	}
	if n < 30 {
		t.Fatalf("only %d cases", n)
	}
}
