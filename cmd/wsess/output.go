package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/textesc"
)

// This file holds the text helpers every command prints with: the one
// escaping function, widths in display cells, the one duration formatter,
// warnings, and the one -o/--output flag with its formats and JSON policy.
// Rows go through rows.go, sessions through render.go.

// jsonSafe rewrites the characters textesc.Escape escapes that JSON leaves
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
		if size > 1 && textesc.MustEscape(r, size) || r == 0x7f {
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
		if r == 0x7f || size > 1 && textesc.MustEscape(r, size) {
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
	fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Warning.Render("wsess: warning:"), textesc.Escape(msg))
}

// printNotice writes a one-line notice to stderr: something to know that
// is not a problem.
func printNotice(ios *IOStreams, msg string) {
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s %s\n", st.Faint.Render("wsess: notice:"), textesc.Escape(msg))
}

// The output formats of -o/--output. A command offers the formats it can
// print, drawn from this one set, and each means the same in every command:
//
//	table  for people: aligned columns with headers (or labelled lines),
//	       human sizes and durations, relative times. The default on a
//	       terminal; on a pipe only when asked for with -o table (then
//	       without colour, e.g. for less).
//	tsv    for programs reading lines: tab-separated fields, no header,
//	       whole numbers (seconds, bytes), RFC 3339 times, text escaped so
//	       that a field stays in its column. The default off a terminal.
//	json   one JSON document.
//	jsonl  one JSON object a line, each written as it is found (streams).
//
// JSON (json and jsonl) follows one policy in every command: a member whose
// value is absent (unknown, or not there: a key without a TTL, an unknown
// idle time, a session without an expiry) is left out, never null and
// never a -1 sentinel; times are RFC 3339 strings in UTC to the second;
// durations are whole seconds in members whose name ends in _seconds (a
// TTL rounded up, an idle time rounded down); sizes are bytes. Text is
// terminal-safe (jsonSafe). writeJSON writes a document this way.
const (
	outTable = "table"
	outTSV   = "tsv"
	outJSON  = "json"
	outJSONL = "jsonl"
)

// outputFormats is the one set every command's formats are drawn from, in
// the order help lists them.
var outputFormats = []string{outTable, outJSON, outJSONL, outTSV}

// addOutputFlag registers -o/--output on cmd, taking one of formats (a
// subset of outputFormats, listed in that order), into *p. *p starts as
// "table", which stays a table on a terminal and is tsv elsewhere (see
// isTable); -o table given explicitly asks for the table on a pipe too.
// A value not in formats is a usage error (exit 2) that lists the valid
// ones, as stringEnumFlag does; the shells complete the formats.
func addOutputFlag(cmd *cobra.Command, ios *IOStreams, p *string, formats ...string) *pflag.Flag {
	for _, f := range formats {
		if !slices.Contains(outputFormats, f) {
			panic("wsess: unknown output format " + f) // a programming error: every test builds the tree
		}
	}
	*p = outTable
	v := &outputValue{enumValue: enumValue{p: p, options: formats}, ios: ios}
	usage := fmt.Sprintf("output format: {%s}; default table on a terminal", strings.Join(formats, "|"))
	if slices.Contains(formats, outTSV) {
		usage += ", tsv otherwise"
	}
	f := cmd.Flags().VarPF(v, "output", "o", usage)
	f.DefValue = "" // the usage says what the default is: it depends on stdout
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// outputValue is -o/--output: an enumValue that also tells the streams
// whether a table was asked for explicitly.
type outputValue struct {
	enumValue
	ios *IOStreams
}

func (o *outputValue) Set(v string) error {
	if err := o.enumValue.Set(v); err != nil {
		return err
	}
	o.ios.SetTableLayout(v == outTable)
	return nil
}

// writeJSON writes v as one JSON document under the JSON policy: indented
// by two spaces, HTML characters as they are, terminal-safe, with a final
// newline. v's types say what is left out (omitempty).
func writeJSON(w io.Writer, v any) error {
	raw, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("wsess: %w", err)
	}
	return writeJSONRaw(w, raw)
}

// writeJSONRaw writes raw, one JSON value, as writeJSON does.
func writeJSONRaw(w io.Writer, raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("wsess: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(jsonSafe(b.Bytes()))
	return err
}

// jsonTTL is a TTL for JSON (ttl_seconds): whole seconds rounded up, or
// nil, left out, for a key that never expires.
func jsonTTL(d time.Duration) *int64 {
	if d < 0 {
		return nil
	}
	s := ttlSeconds(d)
	return &s
}

// jsonIdle is an idle time for JSON (idle_seconds): whole seconds, or nil,
// left out, when unknown.
func jsonIdle(d time.Duration) *int64 {
	if d < 0 {
		return nil
	}
	s := idleSeconds(d)
	return &s
}

// jsonTime is a point in time for JSON: RFC 3339 in UTC, or "", left out
// with omitempty, for the zero time.
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
