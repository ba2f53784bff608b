package pycookie

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/pickle"
)

type vector = interop.Vector

func cookieVectors(t testing.TB) []vector {
	t.Helper()
	var out []vector
	for _, v := range interop.MustVectors(t) {
		if v.IsCookie() {
			out = append(out, v)
		}
	}
	if len(out) != 43 {
		t.Fatalf("%d cookie vectors, want 43", len(out))
	}
	return out
}

func open(format, cookie, key string) ([]byte, error) {
	if format == "weppy" {
		return OpenWeppy(cookie, key)
	}
	return OpenEmmett(cookie, key)
}

func checkDecodes(t *testing.T, pk []byte, want json.RawMessage) {
	t.Helper()
	got, err := pickle.UnmarshalMap(pk)
	if err != nil {
		t.Fatal(err)
	}
	interop.AssertPlainJSON(t, got, want)
}

// TestOpenVectors opens every cookie that the real weppy and Emmett code
// wrote and decodes it to its expected value. Sessions holding pendulum,
// pytz or zoneinfo dates are in the "zoned-dates" group: their decoding
// belongs to internal/pickle (FORMATS.md section 1a).
func TestOpenVectors(t *testing.T) {
	for i, v := range cookieVectors(t) {
		group := "plain"
		if v.HasZonedDates() {
			group = "zoned-dates"
		}
		name := fmt.Sprintf("%s/%s/%s/%s/%d", group, v.Framework, v.Case, v.Key, v.Compression)
		t.Run(name, func(t *testing.T) {
			pk, err := open(v.Format, v.Cookie, v.Key)
			if err != nil {
				t.Fatalf("vector %d: %v", i, err)
			}
			checkDecodes(t, pk, v.Expected)
		})
	}
}

// alternatives gives two other characters for c: its neighbour in the
// base64 alphabet (same high bits: catches non-canonical base64) and its
// other case (catches case-insensitive hex).
func alternatives(c byte) []byte {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	if i := strings.IndexByte(alpha, c); i >= 0 {
		out = append(out, alpha[i^1])
	} else {
		out = append(out, 'A')
	}
	switch {
	case c >= 'a' && c <= 'z':
		out = append(out, c-32)
	case c >= 'A' && c <= 'Z':
		out = append(out, c+32)
	case c == '=':
		out = append(out, '.')
	default:
		out = append(out, '=')
	}
	return out
}

func TestTamperedRejected(t *testing.T) {
	// One cookie of each format, every byte, two substitutes each; every
	// vector, every byte, goes through the CLI in cmd/wsess's
	// TestPythonCookiesTamperedOrWrongKey.
	var vs []vector
	seen := map[string]bool{}
	for _, v := range cookieVectors(t) {
		if !seen[v.Format] {
			seen[v.Format] = true
			vs = append(vs, v)
		}
	}
	for n, v := range vs {
		// Each Emmett attempt runs PBKDF2: spread the vectors over the CPUs.
		t.Run(fmt.Sprintf("%d-%s-%s", n, v.Format, v.Case), func(t *testing.T) {
			t.Parallel()
			for i := 0; i < len(v.Cookie); i++ {
				for _, alt := range alternatives(v.Cookie[i]) {
					b := []byte(v.Cookie)
					b[i] = alt
					if _, err := open(v.Format, string(b), v.Key); err == nil {
						t.Fatalf("byte %d changed %q->%q still opens", i, v.Cookie[i], alt)
					}
				}
			}
			for _, cut := range []int{1, len(v.Cookie) / 2, len(v.Cookie) - 1} {
				if _, err := open(v.Format, v.Cookie[:cut], v.Key); err == nil {
					t.Fatalf("truncated to %d opens", cut)
				}
			}
		})
	}
}

func TestWrongKeyRejected(t *testing.T) {
	for _, v := range cookieVectors(t) {
		for _, key := range []string{"", "public-example-kez", "Public-example-key", "myverysecretkey", v.Key + "x"} {
			_, err := open(v.Format, v.Cookie, key)
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("%s/%s with %q: err = %v, want ErrBadSignature", v.Format, v.Case, key, err)
			}
			if key != "" && strings.Contains(err.Error(), key) {
				t.Fatalf("error mentions the secret: %v", err)
			}
		}
	}
}

func TestSealOpen(t *testing.T) {
	pk := []byte("\x80\x04}\x94\x8c\x01a\x94K\x01s.")
	secrets := []string{"short", "public-example-key", "ünïcödé-sécret", strings.Repeat("x", 31)}
	for _, secret := range secrets {
		for _, level := range []int{0, 1, 9} {
			w, err := SealWeppy(pk, secret, level)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenWeppy(w, secret)
			if err != nil || !bytes.HasPrefix(got, pk) || strings.Trim(string(got[len(pk):]), ".") != "" {
				t.Fatalf("weppy %q level %d: %q, %v", secret, level, got, err)
			}
			e, err := SealEmmett(pk, secret, level)
			if err != nil {
				t.Fatal(err)
			}
			got, err = OpenEmmett(e, secret)
			if err != nil || !bytes.Equal(got, pk) {
				t.Fatalf("emmett %q level %d: %q, %v", secret, level, got, err)
			}
			if _, err := OpenEmmett(e, secret+"!"); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("emmett wrong key: %v", err)
			}
		}
	}
}

func TestWeppyLongSecret(t *testing.T) {
	if _, err := SealWeppy([]byte("N."), strings.Repeat("k", 32), 0); !errors.Is(err, ErrUnusableSecret) {
		t.Fatalf("err = %v", err)
	}
	// Only the first 32 characters count: a longer secret that is 31 runes
	// of two bytes each still cannot be a 32-byte key.
	if _, err := SealWeppy([]byte("N."), strings.Repeat("é", 20), 0); !errors.Is(err, ErrUnusableSecret) {
		t.Fatalf("err = %v", err)
	}
}

func TestDecompressionLimit(t *testing.T) {
	big := append([]byte("\x80\x04\x8e"), make([]byte, 8+4<<20)...)
	c, err := SealEmmett(big, "k", 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) > 20000 {
		t.Fatalf("cookie unexpectedly large: %d", len(c))
	}
	if _, err := OpenEmmett(c, "k"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := (Opener{MaxDecompressed: 8 << 20}).OpenEmmett(c, "k"); err != nil {
		t.Fatalf("with a larger limit: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []string{"", ":", "abc", "a:b", "a:b:c:d", "::", "AAAA:AAAA:AAAA"} {
		if _, err := OpenEmmett(c, "k"); !errors.Is(err, ErrMalformed) {
			t.Errorf("emmett %q: %v", c, err)
		}
		if _, err := OpenWeppy(c, "k"); !errors.Is(err, ErrMalformed) {
			t.Errorf("weppy %q: %v", c, err)
		}
	}
}
