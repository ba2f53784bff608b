package main

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles holds every lipgloss style wsess uses on one stream: the one
// palette of the command. Command code asks for a style by role and never
// builds one inline, so the colour decision (terminal? NO_COLOR?) is made
// once, here, per stream. IOStreams builds the styles of a stream once and
// keeps them (Styles, StderrStyles).
//
// The palette is the 16 ANSI colours (blue 4, green 2, yellow 3, red 1):
// they follow the user's terminal theme and need no background query
// (lipgloss's adaptive colours would ask the terminal).
//
// Whether a stream gets the layout for people is not a style: see
// IOStreams.TableLayout and isTable.
type styles struct {
	Bold    lipgloss.Style
	Faint   lipgloss.Style
	Heading lipgloss.Style
	Key     lipgloss.Style
	Value   lipgloss.Style
	Success lipgloss.Style
	Warning lipgloss.Style
	Error   lipgloss.Style
	// Border draws table borders; Header the header cells of a table.
	Border lipgloss.Style
	Header lipgloss.Style
}

// newStyles builds the styles for w. With color false (a pipe, NO_COLOR, or
// a test) the ASCII profile is forced, so no escape code is ever written;
// with color true, profile forces a colour profile when it is not
// termenv.Ascii (tests), otherwise lipgloss detects the terminal's.
func newStyles(w io.Writer, color bool, profile termenv.Profile) *styles {
	r := lipgloss.NewRenderer(w)
	switch {
	case !color:
		r.SetColorProfile(termenv.Ascii)
	case profile != termenv.Ascii:
		r.SetColorProfile(profile)
	}
	blue := lipgloss.Color("4")
	return &styles{
		Bold:    r.NewStyle().Bold(true),
		Faint:   r.NewStyle().Faint(true),
		Heading: r.NewStyle().Bold(true).Foreground(blue),
		Key:     r.NewStyle().Foreground(blue),
		Value:   r.NewStyle(),
		Success: r.NewStyle().Foreground(lipgloss.Color("2")),
		Warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		Error:   r.NewStyle().Foreground(lipgloss.Color("1")),
		Border:  r.NewStyle().Faint(true),
		Header:  r.NewStyle().Bold(true).Foreground(blue),
	}
}
