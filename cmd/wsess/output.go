package main

import (
	"bufio"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/wsess/wsess/internal/manager"
)

// This file holds the text helpers every command prints with: the one
// escaping function, widths in display cells, the one duration formatter,
// and warnings. Rows go through rows.go, sessions through render.go.

// escapeText makes text from outside (a session's keys and values, a Redis
// key, a request path) safe to print on a terminal, in a TSV field or in a
// log line: every character a terminal would act on instead of showing is
// written visibly, so no escape sequence, forged line or reordered text gets
// through. Tab, LF and CR become \t, \n and \r; the other C0 controls, DEL
// and bytes that are not UTF-8 become \xHH; C1 controls (U+0080 to U+009F),
// the Unicode bidi overrides and isolates (U+202A to U+202E, U+2066 to
// U+2069) and the line and paragraph separators (U+2028, U+2029) become
// \uHHHH. Everything else, backslashes included, is kept as is.
func escapeText(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if mustEscape(r, size) {
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
		case !mustEscape(r, size):
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

func mustEscape(r rune, size int) bool {
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

// jsonSafe rewrites the characters escapeText escapes that JSON leaves
// raw (DEL, C1 controls, bidi overrides and isolates) as \u escapes: the
// same JSON value, safe on a terminal. Outside strings JSON text is ASCII
// without DEL, so this may run on a whole document.
func jsonSafe(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if size > 1 && mustEscape(r, size) || r == 0x7f {
			break
		}
		i += size
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || size > 1 && mustEscape(r, size) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// cellWidth is the width of s on a terminal, in cells: wide CJK characters
// and most emoji take two, combining marks none.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s) // printable ASCII: one cell a byte
}

// truncateCells cuts s to at most width cells, ending it with "…" when
// anything was cut.
func truncateCells(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// padCells cuts s to width cells (see truncateCells) and pads it with
// spaces to exactly width cells, on the right (left false) or the left.
func padCells(s string, width int, left bool) string {
	s = truncateCells(s, width)
	pad := strings.Repeat(" ", max(0, width-cellWidth(s)))
	if left {
		return pad + s
	}
	return s + pad
}

// humanDuration is the one duration format for people: 45s, 12m05s, 5h07m,
// 3d04h. Sub-second parts are rounded up, so a key about to expire shows 1s,
// not 0s.
func humanDuration(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// relativeTime says how far t is from now, for people: "2h00m from now",
// "45s ago".
func relativeTime(now, t time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return humanDuration(-d) + " ago"
	}
	return humanDuration(d) + " from now"
}

// humanTTL shows a TTL for people ("none" for a key that never expires).
func humanTTL(d time.Duration) string {
	if d == manager.NoExpiry || d < 0 {
		return "none"
	}
	return humanDuration(d)
}

// humanIdle shows an idle time for people ("-" when unknown).
func humanIdle(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return humanDuration(d)
}

// humanSize shows a byte count for people: 33 B, 1.9 KiB, 12.0 MiB.
func humanSize(n int64) string {
	switch {
	case n < 0:
		return "-"
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}

// ttlSeconds is a TTL in whole seconds for machines (rounded up; -1 none).
func ttlSeconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(math.Ceil(d.Seconds()))
}

// idleSeconds is an idle time in whole seconds for machines (-1 unknown).
func idleSeconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Second)
}

// expiryTime is the time a key with TTL d expires, in whole seconds (the
// zero time for a key without a TTL).
func expiryTime(now time.Time, d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(ttlSeconds(d)) * time.Second)
}

// plural is "1 key" or "N keys".
func plural(n int64, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// outBuffer is the buffered writer every listing writes through; the
// caller flushes it.
func outBuffer(ios *IOStreams) *bufio.Writer { return bufio.NewWriterSize(ios.Out, 64<<10) }

// printWarning writes a one-line warning to stderr. It never changes the
// exit code.
func printWarning(ios *IOStreams, msg string) {
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Warning.Render("wsess: warning:"), escapeText(msg))
}

// printNotice writes a one-line notice to stderr: something to know that
// is not a problem.
func printNotice(ios *IOStreams, msg string) {
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Faint.Render("wsess: notice:"), escapeText(msg))
}
