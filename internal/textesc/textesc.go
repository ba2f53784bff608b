// Package textesc makes text from outside (a session's keys and values, a
// Redis key, a request path) safe to print on a terminal, in a TSV field or
// in a log line. It is the one escaping function of the wsess command and
// of the demo's request log.
package textesc

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes text from outside (a session's keys and values, a Redis
// key, a request path) safe to print on a terminal, in a TSV field or in a
// log line: every character a terminal would act on instead of showing is
// written visibly, so no escape sequence, forged line or reordered text gets
// through. Tab, LF and CR become \t, \n and \r; the other C0 controls, DEL
// and bytes that are not UTF-8 become \xHH; C1 controls (U+0080 to U+009F),
// the Unicode bidi overrides and isolates (U+202A to U+202E, U+2066 to
// U+2069) and the line and paragraph separators (U+2028, U+2029) become
// \uHHHH. Everything else, backslashes included, is kept as is.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if MustEscape(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !MustEscape(r, size):
			b.WriteString(s[i : i+size])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case size == 1: // a C0 control, DEL, or a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// MustEscape reports whether Escape rewrites the rune r of size bytes
// (size 1 with utf8.RuneError: a byte that is not UTF-8).
func MustEscape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
