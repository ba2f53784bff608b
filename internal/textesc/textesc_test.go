package textesc_test

import (
	"testing"
	"unicode/utf8"

	"github.com/wsess/wsess/internal/textesc"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain key", "plain key"},
		{"Zoë 日本 🎉", "Zoë 日本 🎉"},
		{`back\slash "q"`, `back\slash "q"`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x1b]0;owned\x07\x1b[2J", `\x1b]0;owned\x07\x1b[2J`},
		{"del\x7f nul\x00", `del\x7f nul\x00`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"raw 8-bit CSI \x9b and \xff", `raw 8-bit CSI \x9b and \xff`},
		{"bidi \u202a\u202b\u202c\u202d\u202e", `bidi \u202a\u202b\u202c\u202d\u202e`},
		{"isolates \u2066\u2067\u2068\u2069", `isolates \u2066\u2067\u2068\u2069`},
		{"lines \u2028\u2029", `lines \u2028\u2029`},
	} {
		if got := textesc.Escape(tt.in); got != tt.want {
			t.Errorf("textesc.Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEscape: whatever the input, escaped text is valid UTF-8 and holds
// no character a terminal acts on.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;owned\x07\x1b[2J\rFAKE", "\u202e\u2066x", "\xc2\x9b31m", "\xff\xfe", "日本🎉"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := textesc.Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("textesc.Escape(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if textesc.MustEscape(r, utf8.RuneLen(r)) {
				t.Fatalf("textesc.Escape(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}
