package pickle

import (
	"encoding/hex"
	"testing"

	"github.com/wsess/wsess/internal/interop"
)

func TestDecodeVectors(t *testing.T) {
	n := 0
	for i, v := range interop.MustVectors(t) {
		if v.Format != "pickle" {
			continue
		}
		n++
		name := v.Framework + "/" + v.Case
		if v.HasZonedDates() {
			name = "zoned-dates/" + name
		}
		t.Run(name, func(t *testing.T) {
			raw, err := hex.DecodeString(v.ValueHex)
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalMap(raw)
			if err != nil {
				t.Fatalf("vector %d: %v", i, err)
			}
			interop.AssertPlainJSON(t, got, v.Expected)
		})
	}
	if n != 16 {
		t.Fatalf("found %d pickle vectors, want 16", n)
	}
}
