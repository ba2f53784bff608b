package pickle

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// quoteRef and quoteBytesRef are the quoting of Repr as it was written
// first (a rune, or a byte, at a time through fmt): the fast versions must
// render exactly as they did.
func quoteRef(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func quoteBytesRef(p []byte) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range p {
		switch {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `''`},
		{"abc", `'abc'`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"\n\r\t", `'\n\r\t'`},
		{"\x00\x1b]0;x\x07\x7f", `'\x00\x1b]0;x\x07\x7f'`},
		{"héllo ✓", `'héllo ✓'`},
		{"a\xffb\xe2\x9c", "'a\uFFFDb\uFFFD\uFFFD'"},
	}
	for _, tt := range tests {
		if got := pyQuote(tt.in); got != tt.want {
			t.Errorf("pyQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	bytesTests := []struct{ in, want string }{
		{"", `''`},
		{"abc'\\", `'abc\'\\'`},
		{"\n\r\t\x00\x7f\x80\xff", `'\n\r\t\x00\x7f\x80\xff'`},
		{"é", `'\xc3\xa9'`},
	}
	for _, tt := range bytesTests {
		if got := pyQuoteBytes([]byte(tt.in)); got != tt.want {
			t.Errorf("pyQuoteBytes(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzQuote: the quoting renders every string and every bytes value as
// the first, slow version did.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "abc", "it's \\ \n\r\t", "\x00\x1b\x7f", "héllo ✓", "a\xffb\xe2\x9c", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := pyQuote(s), quoteRef(s); got != want {
			t.Fatalf("pyQuote(%q) = %s, want %s", s, got, want)
		}
		if got, want := pyQuoteBytes([]byte(s)), quoteBytesRef([]byte(s)); got != want {
			t.Fatalf("pyQuoteBytes(%q) = %s, want %s", s, got, want)
		}
	})
}

// reprRef is Repr as first written (through strings.Builder and fmt).
func reprRef(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case *big.Int:
		b.WriteString(t.String())
	case float64:
		b.WriteString(FormatFloat(t))
	case string:
		b.WriteString(quoteRef(t))
	case []byte:
		b.WriteByte('b')
		b.WriteString(quoteBytesRef(t))
	case []any:
		b.WriteByte('(')
		for i, it := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			reprRef(b, it)
		}
		if len(t) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case map[string]any:
		b.WriteString("{...}")
	case DateTime:
		b.WriteString(dateTimeRef(t))
	case Duration:
		b.WriteString(durationRef(t))
	case Object:
		b.WriteString(t.Class)
		b.WriteString("(...)")
	case Global:
		b.WriteString(t.String())
	default:
		fmt.Fprint(b, t)
	}
}
