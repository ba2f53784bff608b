package main

import (
	"github.com/wsess/wsess/internal/textesc"

	"bufio"
	"strconv"
	"time"

	"github.com/charmbracelet/lipgloss"
)

// The row printer: a listing describes its columns once and hands rows of
// typed cells to one writer per output format (table on a terminal, tsv,
// json, jsonl). Each writer decides how a cell looks in its format, so a
// listing never switches on the format itself; a new column is one more
// entry in the column list and one more cell per row.

// column is one column of a listing.
type column struct {
	// Name is the member name in JSON; "" leaves the column out of JSON.
	Name string
	// Header is the heading in a table; "" leaves the column out of a table.
	Header string
	// NoTSV leaves the column out of TSV.
	NoTSV bool
	// Right aligns the column to the right in a table.
	Right bool
	// Width is the column's width in a table, in cells; 0 for the first
	// columns means "from the first row" (at least the header, at most 80),
	// for the last column "as wide as the value".
	Width int
	// Fill cuts the (last) column's text to what is left of the terminal's
	// width (IOStreams.TerminalWidth) after the other columns, in a table.
	Fill bool
}

type cellKind uint8

const (
	cellEmpty cellKind = iota // nothing: empty in a table and TSV, no JSON member
	cellText                  // a string from outside; escaped in a table and TSV
	cellInt                   // a number; text is how people read it (tables only)
	cellTime                  // a point in time: relative in a table, RFC 3339 elsewhere
	cellJSON                  // a JSON value, for JSON only
)

// cellStyle is how a table shows a cell.
type cellStyle uint8

const (
	stylePlain cellStyle = iota
	styleKey
	styleFaint
	styleGood // a passed check
	styleWarn // a warning
	styleBad  // a failed check
)

// cell is one value of a row.
type cell struct {
	kind  cellKind
	style cellStyle
	// absent marks a cellInt whose value is unknown or not there (a key
	// without a TTL): JSON leaves the member out, a table and TSV show
	// text and n (e.g. "none" and -1), as they always did.
	absent bool
	text   string // cellText: the value; cellInt: the value for people
	n      int64  // cellInt: the value; cellTime: Unix seconds
	raw    []byte // cellJSON: the value
}

func textCell(s string) cell             { return cell{kind: cellText, text: s} }
func intCell(n int64, human string) cell { return cell{kind: cellInt, n: n, text: human} }
func jsonCell(raw []byte) cell           { return cell{kind: cellJSON, raw: raw} }
func (c cell) styled(s cellStyle) cell   { c.style = s; return c }
func timeCell(t time.Time) cell {
	if t.IsZero() {
		return cell{kind: cellEmpty}
	}
	return cell{kind: cellTime, n: t.Unix()}
}

func (c cell) time() time.Time { return time.Unix(c.n, 0).UTC() }

// optIntCell is intCell for a value that may be absent (ok false): see
// cell.absent.
func optIntCell(n int64, human string, ok bool) cell {
	c := intCell(n, human)
	c.absent = !ok
	return c
}

// rowWriter writes the rows of one listing in one format.
type rowWriter interface {
	// Row writes one row: one cell per column.
	Row(cells []cell) error
	// Batch marks the end of a batch of rows (a terminal shows them now).
	Batch() error
	// End finishes the listing; a table prints note under it. It flushes.
	End(note string) error
}

// isTable reports whether output (an -o format) is written as a table for
// people: "table" on a terminal, or anywhere when -o table was given
// explicitly (IOStreams.TableLayout). "table" elsewhere is written as tsv.
// Every command decides its layout with it; only for a table are the texts
// for people (human sizes, relative times) needed.
func isTable(ios *IOStreams, output string) bool { return output == outTable && ios.TableLayout() }

// newRowWriter returns the writer for output ("table", "tsv", "json",
// "jsonl") on the streams' stdout; "table" is tsv unless isTable. now is
// the time relative times count from.
func newRowWriter(ios *IOStreams, output string, cols []column, now time.Time) rowWriter {
	w := outBuffer(ios)
	switch output {
	case outJSON, outJSONL:
		return newJSONRows(w, cols, output == outJSONL)
	case outTable:
		if isTable(ios, output) {
			return &tableRows{w: w, cols: cols, st: ios.Styles(), now: now, width: ios.TerminalWidth()}
		}
	}
	return &tsvRows{w: w, cols: cols}
}

// tableRows is a table for people: a header, fixed-width columns measured
// in display cells, human numbers and relative times, text escaped.
type tableRows struct {
	w      *bufio.Writer
	cols   []column
	st     *styles
	now    time.Time
	width  int   // the terminal's width in cells, for a Fill column
	widths []int // per column; 0: as wide as the value
	shown  []int // the columns a table shows, in order
	n      int
}

func (t *tableRows) text(c cell) string {
	switch c.kind {
	case cellText:
		return textesc.Escape(c.text)
	case cellInt:
		return c.text
	case cellTime:
		return relativeTime(t.now, c.time())
	}
	return ""
}

func (t *tableRows) style(s cellStyle) lipgloss.Style {
	switch s {
	case styleKey:
		return t.st.Key
	case styleFaint:
		return t.st.Faint
	case styleGood:
		return t.st.Success
	case styleWarn:
		return t.st.Warning
	case styleBad:
		return t.st.Error
	}
	return t.st.Value
}

func (t *tableRows) Row(cells []cell) error {
	if t.n == 0 {
		t.layout(cells)
	}
	t.n++
	for k, i := range t.shown {
		if k > 0 {
			t.w.WriteString("  ")
		}
		s := t.text(cells[i])
		if w := t.widths[i]; w > 0 {
			s = padCells(s, w, t.cols[i].Right)
		} else if w < 0 {
			s = truncateCells(s, -w)
		}
		if cells[i].style != stylePlain {
			s = t.style(cells[i].style).Render(s)
		}
		t.w.WriteString(s)
	}
	return t.w.WriteByte('\n')
}

// layout settles the columns' widths from the first row and prints the
// header (a single column is a list and has none).
func (t *tableRows) layout(cells []cell) {
	t.widths = make([]int, len(t.cols))
	for i, c := range t.cols {
		if c.Header != "" {
			t.shown = append(t.shown, i)
		}
	}
	for k, i := range t.shown {
		c := t.cols[i]
		t.widths[i] = c.Width
		if c.Width == 0 && k < len(t.shown)-1 {
			t.widths[i] = min(max(cellWidth(t.text(cells[i]))+2, cellWidth(c.Header)), 80)
		}
	}
	// A Fill column gets what the others leave of the terminal (at least
	// 20 cells), stored negated: a limit, not a padding.
	for k, i := range t.shown {
		if !t.cols[i].Fill {
			continue
		}
		left := t.width
		for k2, j := range t.shown {
			if k2 != k {
				left -= t.widths[j] + 2
			}
		}
		t.widths[i] = -max(left, 20)
	}
	if len(t.shown) < 2 {
		return
	}
	var head []byte
	for k, i := range t.shown {
		if k > 0 {
			head = append(head, "  "...)
		}
		h := t.cols[i].Header
		if t.widths[i] > 0 {
			h = padCells(h, t.widths[i], t.cols[i].Right)
		}
		head = append(head, h...)
	}
	t.w.WriteString(t.st.Heading.Render(string(head)))
	t.w.WriteByte('\n')
}

func (t *tableRows) Batch() error { return t.w.Flush() }

func (t *tableRows) End(note string) error {
	if note != "" {
		t.w.WriteString(t.st.Faint.Render(note))
		t.w.WriteByte('\n')
	}
	return t.w.Flush()
}

// tsvRows is tab-separated text for programs: no header, whole numbers,
// RFC 3339 times, text escaped so that a field stays in its column and a
// row on its line.
type tsvRows struct {
	w       *bufio.Writer
	cols    []column
	scratch []byte
}

func (t *tsvRows) Row(cells []cell) error {
	b := t.scratch[:0]
	first := true
	for i, c := range t.cols {
		if c.NoTSV {
			continue
		}
		if !first {
			b = append(b, '\t')
		}
		first = false
		switch v := cells[i]; v.kind {
		case cellText:
			b = append(b, textesc.Escape(v.text)...)
		case cellInt:
			b = strconv.AppendInt(b, v.n, 10)
		case cellTime:
			b = v.time().AppendFormat(b, time.RFC3339)
		}
	}
	b = append(b, '\n')
	t.scratch = b
	_, err := t.w.Write(b)
	return err
}

func (t *tsvRows) Batch() error       { return nil }
func (t *tsvRows) End(_ string) error { return t.w.Flush() }

// jsonRows is one JSON array of objects, or one object a line (lines).
// Empty and absent cells are left out of the objects (the JSON policy in
// output.go).
type jsonRows struct {
	w       *bufio.Writer
	cols    []column
	names   [][]byte // per column: the member name as JSON with its colon
	lines   bool
	n       int
	scratch []byte
}

func newJSONRows(w *bufio.Writer, cols []column, lines bool) *jsonRows {
	j := &jsonRows{w: w, cols: cols, lines: lines, names: make([][]byte, len(cols))}
	for i, c := range cols {
		j.names[i] = append(appendJSONString(nil, c.Name), ':')
	}
	return j
}

func (j *jsonRows) Row(cells []cell) error {
	b := j.scratch[:0]
	if !j.lines {
		if j.n == 0 {
			b = append(b, "[\n"...)
		} else {
			b = append(b, ",\n"...)
		}
	}
	j.n++
	b = append(b, '{')
	first := true
	for i, c := range j.cols {
		v := cells[i]
		if c.Name == "" || v.kind == cellEmpty || v.absent {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, j.names[i]...)
		start := len(b)
		switch v.kind {
		case cellText:
			b = appendJSONString(b, v.text)
			b = appendSafe(b, start)
		case cellInt:
			b = strconv.AppendInt(b, v.n, 10)
		case cellTime:
			b = append(b, '"')
			b = v.time().AppendFormat(b, time.RFC3339)
			b = append(b, '"')
		case cellJSON:
			b = append(b, v.raw...)
			b = appendSafe(b, start)
		}
	}
	b = append(b, '}')
	if j.lines {
		b = append(b, '\n')
	}
	j.scratch = b
	_, err := j.w.Write(b)
	return err
}

// appendSafe makes b[start:], JSON just appended, terminal-safe
// (jsonSafe).
func appendSafe(b []byte, start int) []byte {
	if safe := jsonSafe(b[start:]); len(safe) != len(b)-start {
		return append(b[:start], safe...)
	}
	return b
}

func (j *jsonRows) Batch() error { return nil }

func (j *jsonRows) End(_ string) error {
	if !j.lines {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return j.w.Flush()
}
