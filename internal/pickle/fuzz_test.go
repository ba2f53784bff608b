package pickle

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

func FuzzDecode(f *testing.F) {
	for _, v := range interop.MustVectors(f) {
		if v.Format == "pickle" {
			raw, err := hex.DecodeString(v.ValueHex)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	f.Add([]byte("\x80\x04]\x94h\x00a."))
	f.Add([]byte("cos\nsystem\n(S'echo hi'\ntR."))
	f.Add(laughs())
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxElements: 1 << 16, MaxDepth: 64}
		v, err := Decoder{Limits: lim}.Decode(data)
		if err != nil {
			return
		}
		var ref strings.Builder
		reprRef(&ref, v)
		if got := Repr(v); got != ref.String() {
			t.Fatalf("Repr = %s, want %s", got, ref.String())
		}
	})
}
