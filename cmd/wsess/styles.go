package main

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles holds every lipgloss style wsess uses on one stream. Command code
// asks for a style by role and never builds one inline, so the colour
// decision (terminal? NO_COLOR?) is made once, here, per stream.
type styles struct {
	r *lipgloss.Renderer

	Bold    lipgloss.Style
	Faint   lipgloss.Style
	Heading lipgloss.Style
	Key     lipgloss.Style
	Value   lipgloss.Style
	Success lipgloss.Style
	Warning lipgloss.Style
	Error   lipgloss.Style
}

// newStyles builds the styles for w. With color false (a pipe, NO_COLOR, or
// a test) the ASCII profile is forced, so no escape code is ever written.
func newStyles(w io.Writer, color bool) *styles {
	r := lipgloss.NewRenderer(w)
	if !color {
		r.SetColorProfile(termenv.Ascii)
	}
	return &styles{
		r:     r,
		Bold:  r.NewStyle().Bold(true),
		Faint: r.NewStyle().Faint(true),
		// The 16 ANSI colours follow the user's terminal theme and need no
		// background query (adaptive colours would ask the terminal).
		Heading: r.NewStyle().Bold(true).Foreground(lipgloss.Color("4")),
		Key:     r.NewStyle().Foreground(lipgloss.Color("4")),
		Value:   r.NewStyle(),
		Success: r.NewStyle().Foreground(lipgloss.Color("2")),
		Warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		Error:   r.NewStyle().Foreground(lipgloss.Color("1")),
	}
}

// Renderer is the lipgloss renderer bound to the stream (for tables and
// other components built elsewhere, e.g. internal/inspect).
func (s *styles) Renderer() *lipgloss.Renderer { return s.r }

// Styles returns the styles for stdout.
func (s *IOStreams) Styles() *styles { return newStyles(s.Out, s.ColorEnabled()) }

// StderrStyles returns the styles for stderr.
func (s *IOStreams) StderrStyles() *styles { return newStyles(s.ErrOut, s.ColorEnabledStderr()) }
