package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/textesc"
)

// This file renders a decoded session (decode, redis show) and its one-line
// preview (redis ls --decode). internal/inspect returns the data; how it
// looks is decided here only.

// labelLines writes "label value" lines: in a table (see isTable) a bold
// label padded to 8 cells and the value for people; otherwise (tsv)
// "label<TAB>value" for programs. Values from outside are escaped by the
// caller.
type labelLines struct {
	b     *strings.Builder
	st    *styles
	table bool
}

func (l labelLines) line(label, human, machine string) {
	if l.table {
		fmt.Fprintf(l.b, "%s %s\n", l.st.Bold.Render(padCells(label, 8, false)), human)
		return
	}
	fmt.Fprintf(l.b, "%s\t%s\n", label, machine)
}

// maxValueWidth is the widest a value is shown in the data table, in cells.
const maxValueWidth = 60

// renderSession writes s as -o table or tsv. head comes first (e.g. the key
// and TTL of a Redis session). As a table (asTable, see isTable):
// labelled lines, the expiry with a relative time, warnings, and a table of
// the data. As tsv: "field<TAB>value" lines (format, name, size, expires in
// RFC 3339, warning, then data.<path>), which cut and awk can read. Keys,
// names and values are escaped (textesc.Escape).
func renderSession(w io.Writer, s *inspect.Session, st *styles, asTable bool, now time.Time, head func(labelLines)) error {
	var b strings.Builder
	l := labelLines{b: &b, st: st, table: asTable}
	if head != nil {
		head(l)
	}
	l.line("format", s.Format, s.Format)
	if s.Name != "" {
		l.line("name", textesc.Escape(s.Name), textesc.Escape(s.Name))
	}
	l.line("size", fmt.Sprintf("%d bytes", s.Size), strconv.Itoa(s.Size))
	if !s.Expires.IsZero() {
		at := s.Expires.UTC().Format(time.RFC3339)
		l.line("expires", at+" "+st.Faint.Render("("+relativeTime(now, s.Expires)+")"), at)
	}
	for _, wn := range s.Warnings {
		if asTable {
			fmt.Fprintf(&b, "%s\n", st.Warning.Render("! "+textesc.Escape(wn)))
		} else {
			fmt.Fprintf(&b, "warning\t%s\n", textesc.Escape(wn))
		}
	}
	fields := inspect.Fields(s.Data)
	if !asTable {
		for _, f := range fields {
			fmt.Fprintf(&b, "data.%s\t%s\n", textesc.Escape(f.Path), textesc.Escape(f.Value))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(fields) == 0 {
		fmt.Fprintf(&b, "%s\n", st.Faint.Render("(no data)"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	rows := make([][]string, len(fields))
	for i, f := range fields {
		rows[i] = []string{textesc.Escape(f.Path), truncateCells(textesc.Escape(f.Value), maxValueWidth)}
	}
	t := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(st.Border).
		Headers("KEY", "VALUE").
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			switch {
			case row == table.HeaderRow:
				return st.Header.Padding(0, 1)
			case col == 0:
				return st.Key.Padding(0, 1)
			}
			return st.Value.Padding(0, 1)
		})
	b.WriteString(t.Render())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// sessionJSONDoc is the fixed part of a session in JSON, in print order.
type sessionJSONDoc struct {
	Format   string         `json:"format"`
	Name     string         `json:"name,omitempty"`
	Data     map[string]any `json:"data"`
	Size     int            `json:"size"`
	Expires  string         `json:"expires,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

// sessionJSON returns s as one line of JSON, under the JSON policy
// (output.go): {"format", "name" (when known), "data", "size", "expires"
// (RFC 3339, when the session has an expiry), "warnings" (when any)},
// followed by the members of extra in key order (for example "key" and
// "ttl_seconds" for a Redis session). Members of extra never replace the
// fixed ones.
func sessionJSON(s *inspect.Session, extra map[string]any) ([]byte, error) {
	doc := sessionJSONDoc{Format: s.Format, Name: s.Name, Data: s.Data, Size: s.Size,
		Expires: jsonTime(s.Expires), Warnings: s.Warnings}
	if doc.Data == nil {
		doc.Data = map[string]any{}
	}
	out, err := marshalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("wsess: %w", err)
	}
	out = out[:len(out)-1] // the closing brace
	fixed := map[string]bool{"format": true, "name": true, "data": true, "size": true, "expires": true, "warnings": true}
	for _, k := range inspect.SortedKeys(extra) {
		if fixed[k] {
			continue
		}
		v, err := marshalJSON(extra[k])
		if err != nil {
			return nil, fmt.Errorf("wsess: %s: %w", k, err)
		}
		out = append(out, ',')
		out = appendJSONString(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}'), nil
}

// writeSessionJSON writes sessionJSON(s, extra) as writeJSON does.
func writeSessionJSON(w io.Writer, s *inspect.Session, extra map[string]any) error {
	raw, err := sessionJSON(s, extra)
	if err != nil {
		return err
	}
	return writeJSONRaw(w, raw)
}

// preview is a one-line summary of data for listings, escaped, at most
// width cells (0: no limit): top-level keys in order with short values,
// e.g. `_csrf={1 key} auth={5 keys} counter=7 name="Zoë"`.
func preview(data map[string]any, width int) string {
	var b strings.Builder
	for i, k := range inspect.SortedKeys(data) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(shortValue(data[k]))
		if width > 0 && b.Len() > 4*width {
			break // enough to fill the width; the rest is cut anyway
		}
	}
	s := textesc.Escape(b.String())
	if width > 0 {
		s = truncateCells(s, width)
	}
	return s
}

// shortValue is a value in a preview: objects and arrays by their size,
// strings cut to 40 cells.
func shortValue(v any) string {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			return "{1 key}"
		}
		return fmt.Sprintf("{%d keys}", len(t))
	case []any:
		if len(t) == 1 {
			return "[1 item]"
		}
		return fmt.Sprintf("[%d items]", len(t))
	case string:
		s := inspect.CompactJSON(t)
		if cellWidth(s) > 40 {
			s = truncateCells(s, 39) + `"`
		}
		return s
	}
	return inspect.CompactJSON(v)
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
