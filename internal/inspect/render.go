package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// Styles are the looks of Render on one output stream. Build them with
// NewStyles from a renderer bound to that stream; logic never builds styles
// inline.
type Styles struct {
	// TTY selects the terminal layout (labels, relative times, a table);
	// otherwise Render writes tab-separated lines with RFC 3339 times.
	// Colour is the renderer's business: an ASCII profile writes none.
	TTY bool
	// Now is used for relative times on a terminal (default time.Now).
	Now func() time.Time
	// MaxValueWidth truncates values in the terminal table (0: 60 cells).
	MaxValueWidth int

	Label   lipgloss.Style
	Key     lipgloss.Style
	Value   lipgloss.Style
	Faint   lipgloss.Style
	Warning lipgloss.Style
	Header  lipgloss.Style
	Border  lipgloss.Style
}

// NewStyles returns the styles for the stream r renders to; tty says
// whether that stream is a terminal.
func NewStyles(r *lipgloss.Renderer, tty bool) Styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	return Styles{
		TTY:     tty,
		Label:   r.NewStyle().Bold(true),
		Key:     r.NewStyle().Foreground(accent),
		Value:   r.NewStyle(),
		Faint:   r.NewStyle().Faint(true),
		Warning: r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#F49B00", Dark: "#FFB000"}),
		Header:  r.NewStyle().Bold(true).Foreground(accent).Padding(0, 1),
		Border:  r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#9B9B9B", Dark: "#5C5C5C"}),
	}
}

// Field is one rendered data line: a dotted path to a value that is not a
// non-empty object, and that value as compact JSON.
type Field struct {
	Path, Value string
}

// Fields flattens data for display: nested objects become dotted paths
// ("auth.user.id"), every other value (arrays included) is compact JSON.
// Paths are sorted.
func Fields(data map[string]any) []Field {
	var out []Field
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := sortedKeys(m)
		for _, k := range keys {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
				walk(path, sub)
				continue
			}
			out = append(out, Field{Path: path, Value: compactJSON(m[k])})
		}
	}
	walk("", data)
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Render writes s for people. On a terminal (st.TTY): labelled lines, the
// expiry with a relative time, warnings, and a table of the data. Otherwise:
// "field<TAB>value" lines (format, name, size, expires in RFC 3339, warning,
// then data.<path>), which cut and awk can read.
func Render(w io.Writer, s *Session, st Styles) error {
	now := time.Now
	if st.Now != nil {
		now = st.Now
	}
	var b strings.Builder
	fields := Fields(s.Data)
	if !st.TTY {
		fmt.Fprintf(&b, "format\t%s\n", s.Format)
		if s.Name != "" {
			fmt.Fprintf(&b, "name\t%s\n", s.Name)
		}
		fmt.Fprintf(&b, "size\t%d\n", s.Size)
		if !s.Expires.IsZero() {
			fmt.Fprintf(&b, "expires\t%s\n", s.Expires.UTC().Format(time.RFC3339))
		}
		for _, wn := range s.Warnings {
			fmt.Fprintf(&b, "warning\t%s\n", wn)
		}
		for _, f := range fields {
			fmt.Fprintf(&b, "data.%s\t%s\n", f.Path, f.Value)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	label := func(k, v string) {
		fmt.Fprintf(&b, "%s %s\n", st.Label.Render(fmt.Sprintf("%-8s", k)), v)
	}
	label("format", s.Format)
	if s.Name != "" {
		label("name", s.Name)
	}
	label("size", fmt.Sprintf("%d bytes", s.Size))
	if !s.Expires.IsZero() {
		label("expires", s.Expires.UTC().Format(time.RFC3339)+" "+st.Faint.Render("("+relTime(now(), s.Expires)+")"))
	}
	for _, wn := range s.Warnings {
		fmt.Fprintf(&b, "%s\n", st.Warning.Render("! "+wn))
	}
	if len(fields) == 0 {
		fmt.Fprintf(&b, "%s\n", st.Faint.Render("(no data)"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	maxw := st.MaxValueWidth
	if maxw <= 0 {
		maxw = 60
	}
	rows := make([][]string, len(fields))
	for i, f := range fields {
		rows[i] = []string{f.Path, truncate(f.Value, maxw)}
	}
	t := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(st.Border).
		Headers("KEY", "VALUE").
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			switch {
			case row == table.HeaderRow:
				return st.Header
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

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// relTime says how far t is from now, for people.
func relTime(now, t time.Time) string {
	d := t.Sub(now)
	suffix := "from now"
	if d < 0 {
		d, suffix = -d, "ago"
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds %s", int(d.Seconds()), suffix)
	case d < time.Hour:
		return fmt.Sprintf("%dm %s", int(d.Minutes()), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm %s", int(d.Hours()), int(d.Minutes())%60, suffix)
	}
	return fmt.Sprintf("%dd %s", int(d.Hours()/24), suffix)
}

// jsonDoc is the fixed part of WriteJSON's output, in print order.
type jsonDoc struct {
	Format   string         `json:"format"`
	Name     string         `json:"name,omitempty"`
	Data     map[string]any `json:"data"`
	Size     int            `json:"size"`
	Expires  *string        `json:"expires"`
	Warnings []string       `json:"warnings,omitempty"`
}

// JSON returns s as one line of JSON: {"format", "name" (when known),
// "data", "size", "expires" (RFC 3339 or null), "warnings" (when any)},
// followed by the members of extra in key order (for example "key" and
// "ttl" for a Redis session). Members of extra never replace the fixed
// ones.
func JSON(s *Session, extra map[string]any) ([]byte, error) {
	doc := jsonDoc{Format: s.Format, Name: s.Name, Data: s.Data, Size: s.Size, Warnings: s.Warnings}
	if doc.Data == nil {
		doc.Data = map[string]any{}
	}
	if !s.Expires.IsZero() {
		e := s.Expires.UTC().Format(time.RFC3339)
		doc.Expires = &e
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	out := append([]byte(nil), bytes.TrimSuffix(b.Bytes(), []byte("}\n"))...)
	fixed := map[string]bool{"format": true, "name": true, "data": true, "size": true, "expires": true, "warnings": true}
	for _, k := range sortedKeys(extra) {
		if fixed[k] {
			continue
		}
		b.Reset()
		if err := enc.Encode(extra[k]); err != nil {
			return nil, fmt.Errorf("inspect: %s: %w", k, err)
		}
		out = append(out, ',')
		out = append(out, strconv.Quote(k)...)
		out = append(out, ':')
		out = append(out, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
	}
	return append(out, '}'), nil
}

// WriteJSON writes JSON(s, extra) indented by two spaces, with a final
// newline.
func WriteJSON(w io.Writer, s *Session, extra map[string]any) error {
	raw, err := JSON(s, extra)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

// Preview is a one-line summary of data for listings, at most max runes
// (0: no limit): top-level keys in order with short values, e.g.
// `_csrf={1 key} auth={5 keys} counter=7 name="Zoë"`.
func Preview(data map[string]any, max int) string {
	var parts []string
	for _, k := range sortedKeys(data) {
		parts = append(parts, k+"="+short(data[k]))
	}
	s := strings.Join(parts, " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		if max == 1 {
			return "…"
		}
		return string([]rune(s)[:max-1]) + "…"
	}
	return s
}

func short(v any) string {
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
		s := compactJSON(t)
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:38]) + "…\""
		}
		return strings.NewReplacer("\t", `\t`).Replace(s)
	}
	return compactJSON(v)
}
