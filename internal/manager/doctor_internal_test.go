package manager

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPacked: pack and String round-trip every handle-shaped string
// (non-canonical base64 included: the last character's low bits), packed
// values sort as their strings do, and anything else does not pack.
func TestPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var prev string
	var prevP packed
	for i := range 2000 {
		b := make([]byte, hashLen)
		for j := range b {
			b[j] = packedAlphabet[rng.IntN(len(packedAlphabet))]
		}
		if i == 0 {
			b[hashLen-1] = '_' // low bits set: not canonical base64
		}
		s := string(b)
		p, ok := pack(s)
		if !ok || p.String() != s {
			t.Fatalf("pack(%q): %v, %q", s, ok, p.String())
		}
		if i > 0 && strings.Compare(prev, s) != comparePacked(prevP, p) {
			t.Fatalf("%q vs %q: packed order differs", prev, s)
		}
		prev, prevP = s, p
	}
	for _, s := range []string{"", "short", strings.Repeat("A", hashLen-1) + "=", strings.Repeat("A", hashLen+1)} {
		if _, ok := pack(s); ok {
			t.Errorf("pack(%q) ok", s)
		}
	}
}
