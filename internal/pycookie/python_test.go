package pycookie

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/pyreal"
)

// TestPythonOpensGoCookies seals the Redis pickles that each framework's
// real code wrote (the interop vectors) into that framework's cookie
// format with Go, and has the real weppy/Emmett cookie pipe (pyreal
// read-cookie) open them: it must load the vector's expected value, with
// and (for Emmett, whose apps may set compression_level) without zlib.
func TestPythonOpensGoCookies(t *testing.T) {
	vs := interop.MustVectors(t)
	const secret = "go-sealed-secret"
	for _, fw := range pyreal.Frameworks(t) {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			seal, levels := SealEmmett, []int{0, 6}
			if py.Info().String("cookie_format") == "weppy" {
				seal = SealWeppy
			}
			if fw == "weppy-1.3.4" {
				levels = []int{0} // weppy's cookie pipe never compresses
			}
			source := fw
			if fw == "emmett-2.4.14-legacy" {
				source = "emmett-2.4.14" // the same pickles
			}
			n := 0
			for _, v := range vs {
				if v.Format != "pickle" || v.Framework != source {
					continue
				}
				pk, err := hex.DecodeString(v.ValueHex)
				if err != nil {
					t.Fatal(err)
				}
				for _, level := range levels {
					n++
					cookie, err := seal(pk, secret, level)
					if err != nil {
						t.Fatal(err)
					}
					req := map[string]any{"op": "read-cookie", "key": secret, "cookie": cookie}
					if level != 0 {
						req["compression"] = level
					}
					back := py.Must(t, req)
					if !interop.SameJSON(t, back.Data(), v.Expected) {
						t.Errorf("%s level %d: %s read %s, want %s", v.Case, level, fw, back.Data(), v.Expected)
					}
				}
			}
			if n == 0 {
				t.Fatalf("no pickle vectors made by %s", source)
			}
		})
	}
}

// TestPythonRefusesTamperedGoCookies: the real code starts an empty session
// for a Go-sealed cookie with one byte changed or under another secret,
// which shows that it checks what Go's MAC covers.
func TestPythonRefusesTamperedGoCookies(t *testing.T) {
	pk := []byte("\x80\x02}q\x00X\x07\x00\x00\x00counterq\x01K\x07s.")
	for _, fw := range []string{"weppy-1.3.4", "emmett-2.7.1"} {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			seal := SealEmmett
			if py.Info().String("cookie_format") == "weppy" {
				seal = SealWeppy
			}
			cookie, err := seal(pk, "go-sealed-secret", 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := py.Must(t, map[string]any{"op": "read-cookie", "key": "go-sealed-secret", "cookie": cookie}).Data(); string(got) != `{"counter":7}` {
				t.Fatalf("untouched cookie read as %s", got)
			}
			b := []byte(cookie)
			b[len(b)/2] ^= 1
			for what, req := range map[string]map[string]any{
				"tampered":  {"op": "read-cookie", "key": "go-sealed-secret", "cookie": string(b)},
				"wrong key": {"op": "read-cookie", "key": "another-secret", "cookie": cookie},
			} {
				r, err := py.Call(req)
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(r["data"]); r.Err() == nil && got != "map[]" {
					t.Errorf("%s cookie read as %s", what, got)
				}
			}
		})
	}
}
