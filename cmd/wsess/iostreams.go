package main

import (
	"bytes"
	"io"
	"os"
	"sync"

	"github.com/charmbracelet/x/term"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// IOStreams is where every command reads and writes. It knows, per stream,
// whether it is a terminal, and whether colour is allowed on it.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// tableLayout is set by -o table given explicitly (addOutputFlag):
	// stdout gets the layout for people even when it is no terminal.
	tableLayout bool
	// width is stdout's terminal width in cells; 0: unknown (see
	// TerminalWidth).
	width int
	// noColor is true when NO_COLOR is set (any value).
	noColor bool
	// colorProfile forces a colour profile where colour is on (tests);
	// termenv.Ascii (the zero value) lets lipgloss detect the terminal's.
	colorProfile termenv.Profile

	// The styles of stdout and stderr, built on first use and kept until
	// a setter changes what they depend on.
	mu                   sync.Mutex
	outStyles, errStyles *styles
}

// defaultWidth is the width assumed when stdout's is unknown.
const defaultWidth = 80

// TerminalWidth is stdout's width in cells, as the terminal reported it
// when the streams were made; defaultWidth (80) when unknown (not a
// terminal, or a test that did not set it).
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	return defaultWidth
}

// SetTerminalWidth sets the width TerminalWidth reports (0: unknown).
func (s *IOStreams) SetTerminalWidth(w int) { s.width = w }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdinTTY, SetStdoutTTY and SetStderrTTY override the detection (tests).
func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v; s.resetStyles() }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v; s.resetStyles() }

// SetTableLayout says whether -o table was asked for explicitly: stdout
// then gets the layout for people (TableLayout) even when it is no
// terminal. Colour stays a terminal's only (ColorEnabled).
func (s *IOStreams) SetTableLayout(v bool) { s.tableLayout = v }

// TableLayout reports whether a table on stdout is for people: stdout is a
// terminal, or -o table was asked for explicitly (e.g. to page it with
// less). Otherwise "table" output is written as tsv (see isTable).
func (s *IOStreams) TableLayout() bool { return s.stdoutTTY || s.tableLayout }

// SetNoColor turns colour off on every stream.
func (s *IOStreams) SetNoColor(v bool) { s.noColor = v; s.resetStyles() }

// SetColorProfile forces the colour profile of the streams where colour is
// on (tests write to buffers, in which lipgloss detects no colour).
func (s *IOStreams) SetColorProfile(p termenv.Profile) { s.colorProfile = p; s.resetStyles() }

func (s *IOStreams) resetStyles() {
	s.mu.Lock()
	s.outStyles, s.errStyles = nil, nil
	s.mu.Unlock()
}

// Styles returns the styles of stdout, built on the first call and kept:
// every writer of stdout shares one renderer and one colour decision.
func (s *IOStreams) Styles() *styles {
	return s.cachedStyles(&s.outStyles, s.Out, s.ColorEnabled())
}

// StderrStyles returns the styles of stderr, built once like Styles.
func (s *IOStreams) StderrStyles() *styles {
	return s.cachedStyles(&s.errStyles, s.ErrOut, s.ColorEnabledStderr())
}

func (s *IOStreams) cachedStyles(p **styles, w io.Writer, color bool) *styles {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *p == nil {
		*p = newStyles(w, color, s.colorProfile)
	}
	return *p
}

// ColorEnabled reports whether escape codes may be written to stdout.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// ColorEnabledStderr reports whether escape codes may be written to stderr.
func (s *IOStreams) ColorEnabledStderr() bool { return s.stderrTTY && !s.noColor }

// systemIO returns the process's standard streams with terminal detection.
func systemIO() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		width:     terminalWidth(os.Stdout),
		noColor:   noColor,
	}
}

// terminalWidth is f's width in cells, 0 when f is no terminal.
func terminalWidth(f *os.File) int {
	w, _, err := term.GetSize(f.Fd())
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// testIO returns streams backed by buffers: stdin, stdout, stderr. No stream
// is a terminal until a test says so with the setters, and colour is off
// (the ASCII profile) so that output is the same everywhere; SetNoColor(false)
// turns it back on.
func testIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, noColor: true}, in, out, errOut
}
