package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
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
	l.lineAs(label, label, human, machine)
}

// lineAs is line with a label for the table and another (the JSON member's
// name) for tsv.
func (l labelLines) lineAs(label, tsvLabel, human, machine string) {
	if l.table {
		fmt.Fprintf(l.b, "%s %s\n", l.st.Bold.Render(padCells(label, 8, false)), human)
		return
	}
	fmt.Fprintf(l.b, "%s\t%s\n", tsvLabel, machine)
}

// timeLine writes a point in time: in a table its RFC 3339 form and how
// far it is from now (plus note, faint), in tsv its RFC 3339 form.
func (l labelLines) timeLine(label, tsvLabel string, now, t time.Time, note string) {
	at := t.UTC().Format(time.RFC3339)
	l.lineAs(label, tsvLabel, at+" "+l.st.Faint.Render("("+relativeTime(now, t)+note+")"), at)
}

// sessionMeta writes what the library stores beside a session's values
// (see inspect.Session): creation and login times, user, revocation
// generation, idle timeout override and absolute deadline.
func sessionMeta(l labelLines, s *inspect.Session, now time.Time) {
	if !s.Created.IsZero() {
		l.timeLine("created", "created", now, s.Created, "")
	}
	if !s.AuthTime.IsZero() {
		// Milliseconds in tsv, as stored; a table shows seconds.
		at := s.AuthTime.UTC()
		l.lineAs("login", "auth_time", at.Format(time.RFC3339)+" "+l.st.Faint.Render("("+relativeTime(now, at)+")"), at.Format(time.RFC3339Nano))
	}
	if s.User != "" {
		u := textesc.Escape(s.User)
		l.line("user", u, u)
	}
	if s.Generation != nil {
		g := strconv.FormatInt(*s.Generation, 10)
		l.lineAs("gen", "generation", g+l.st.Faint.Render(" (revocation generation)"), g)
	}
	if s.LoginID != "" {
		lid := textesc.Escape(s.LoginID)
		l.lineAs("login id", "login_id", lid+l.st.Faint.Render(" (a logout ends it)"), lid)
	}
	if s.BrowserSession {
		l.lineAs("cookie", "browser_session", "ends with the browser"+l.st.Faint.Render(" (no \"remember me\")"), "true")
	}
	if s.IdleTimeout > 0 {
		l.lineAs("idle", "idle_timeout_seconds", humanDuration(s.IdleTimeout)+l.st.Faint.Render(" (this session's idle timeout)"),
			strconv.FormatFloat(s.IdleTimeout.Seconds(), 'f', -1, 64))
	}
	if !s.AbsoluteDeadline.IsZero() {
		note := ""
		if s.AbsoluteAssumed {
			note = ", assuming the default 24h lifetime"
		}
		l.timeLine("absolute", "absolute_deadline", now, s.AbsoluteDeadline, note)
	}
}

// dataValue is a data value in a table: bytes as "<N bytes: hex>" (cut),
// anything else as compact JSON.
func dataValue(v any) string {
	if b, ok := inspect.Bytes(v); ok {
		return bytesText(b, 16)
	}
	return inspect.CompactJSON(v)
}

// bytesText is "<N bytes: hex>" with at most max bytes in hex ("..." after).
func bytesText(b []byte, max int) string {
	n, unit := len(b), "bytes"
	if n == 1 {
		unit = "byte"
	}
	if n == 0 {
		return "<0 bytes>"
	}
	more := ""
	if n > max {
		b, more = b[:max], "..."
	}
	return fmt.Sprintf("<%d %s: %x%s>", n, unit, b, more)
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
	sessionMeta(l, s, now)
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
		rows[i] = []string{textesc.Escape(f.Path), truncateCells(textesc.Escape(dataValue(f.Raw)), maxValueWidth)}
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
	Format             string         `json:"format"`
	Name               string         `json:"name,omitempty"`
	Data               map[string]any `json:"data"`
	Size               int            `json:"size"`
	Expires            string         `json:"expires,omitempty"`
	Created            string         `json:"created,omitempty"`
	AuthTime           string         `json:"auth_time,omitempty"`
	User               string         `json:"user,omitempty"`
	Generation         *int64         `json:"generation,omitempty"`
	LoginID            string         `json:"login_id,omitempty"`
	BrowserSession     bool           `json:"browser_session,omitempty"`
	IdleTimeoutSeconds *float64       `json:"idle_timeout_seconds,omitempty"`
	AbsoluteDeadline   string         `json:"absolute_deadline,omitempty"`
	AbsoluteAssumed    bool           `json:"absolute_deadline_assumed,omitempty"`
	Warnings           []string       `json:"warnings,omitempty"`
}

// sessionJSON returns s as one line of JSON, under the JSON policy
// (output.go): {"format", "name" (when known), "data", "size", "expires"
// (RFC 3339, when the session has an expiry), the library's own values
// taken out of "data" (each when known): "created", "auth_time" (RFC 3339,
// auth_time to the millisecond), "user", "generation", "login_id", "browser_session",
// "idle_timeout_seconds", "absolute_deadline" (RFC 3339) and
// "absolute_deadline_assumed" (true: it assumes the default 24 h
// lifetime), then "warnings" (when any)}. A bytes value in "data" is
// {"$bytes": "<standard base64>"}.
// followed by the members of extra in key order (for example "key" and
// "ttl_seconds" for a Redis session). Members of extra never replace the
// fixed ones.
func sessionJSON(s *inspect.Session, extra map[string]any) ([]byte, error) {
	doc := sessionJSONDoc{Format: s.Format, Name: s.Name, Data: s.Data, Size: s.Size,
		Expires: jsonTime(s.Expires), Created: jsonTime(s.Created), User: s.User, Generation: s.Generation, LoginID: s.LoginID, BrowserSession: s.BrowserSession,
		AbsoluteDeadline: jsonTime(s.AbsoluteDeadline), AbsoluteAssumed: s.AbsoluteAssumed, Warnings: s.Warnings}
	if !s.AuthTime.IsZero() {
		doc.AuthTime = s.AuthTime.UTC().Format(time.RFC3339Nano)
	}
	if s.IdleTimeout > 0 {
		sec := s.IdleTimeout.Seconds()
		doc.IdleTimeoutSeconds = &sec
	}
	if doc.Data == nil {
		doc.Data = map[string]any{}
	}
	out, err := marshalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("wsess: %w", err)
	}
	out = out[:len(out)-1] // the closing brace
	fixed := map[string]bool{"format": true, "name": true, "data": true, "size": true, "expires": true, "warnings": true,
		"created": true, "auth_time": true, "user": true, "generation": true, "idle_timeout_seconds": true,
		"absolute_deadline": true, "absolute_deadline_assumed": true}
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
// width cells (0: no limit): top-level keys in order, the app's first and
// the library's reserved ones (inspect.IsReserved) last, with short
// values, e.g. `_csrf={1 key} auth={5 keys} counter=7 name="Zoë"`.
func preview(data map[string]any, width int) string {
	keys := inspect.SortedKeys(data)
	sort.SliceStable(keys, func(i, j int) bool { return !inspect.IsReserved(keys[i]) && inspect.IsReserved(keys[j]) })
	var b strings.Builder
	for i, k := range keys {
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

// previewSession is preview of s's data followed by the library's own
// values (user, login and creation times: relative in a table, RFC 3339
// otherwise), within width cells (0: no limit).
func previewSession(s *inspect.Session, width int, table bool, now time.Time) string {
	var meta []string
	when := func(t time.Time) string {
		if table {
			return "(" + relativeTime(now, t) + ")"
		}
		return t.UTC().Format(time.RFC3339)
	}
	if s.User != "" {
		meta = append(meta, "user="+inspect.CompactJSON(s.User))
	}
	if !s.AuthTime.IsZero() {
		meta = append(meta, "login="+when(s.AuthTime))
	}
	if !s.Created.IsZero() {
		meta = append(meta, "created="+when(s.Created))
	}
	out := preview(s.Data, width)
	if len(meta) == 0 {
		return out
	}
	m := textesc.Escape(strings.Join(meta, " "))
	if out != "" {
		m = " " + m
	}
	if width > 0 {
		return truncateCells(out+m, width)
	}
	return out + m
}

// shortValue is a value in a preview: objects and arrays by their size,
// strings cut to 40 cells, bytes as "<N bytes: hex>" (8 bytes of hex at
// most).
func shortValue(v any) string {
	if b, ok := inspect.Bytes(v); ok {
		return bytesText(b, 8)
	}
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
