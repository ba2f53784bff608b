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
		r:       r,
		Bold:    r.NewStyle().Bold(true),
		Faint:   r.NewStyle().Faint(true),
		Heading: r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}),
		Key:     r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}),
		Value:   r.NewStyle(),
		Success: r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#02BA84", Dark: "#02BF87"}),
		Warning: r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#F49B00", Dark: "#FFB000"}),
		Error:   r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#D7263D", Dark: "#FF5F87"}),
	}
}

// Renderer is the lipgloss renderer bound to the stream (for tables and
// other components built elsewhere, e.g. internal/inspect).
func (s *styles) Renderer() *lipgloss.Renderer { return s.r }

// Styles returns the styles for stdout.
func (s *IOStreams) Styles() *styles { return newStyles(s.Out, s.ColorEnabled()) }

// StderrStyles returns the styles for stderr.
func (s *IOStreams) StderrStyles() *styles { return newStyles(s.ErrOut, s.ColorEnabledStderr()) }
