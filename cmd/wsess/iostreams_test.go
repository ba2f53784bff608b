package main

import (
	"strings"
	"testing"
)

func TestColorDecision(t *testing.T) {
	tests := []struct {
		name             string
		stdout, stderr   bool
		noColor          bool
		wantOut, wantErr bool
	}{
		{"pipes", false, false, false, false, false},
		{"terminals", true, true, false, true, true},
		{"NO_COLOR", true, true, true, false, false},
		{"stdout piped, stderr a terminal", false, true, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			ios.SetStdoutTTY(tt.stdout)
			ios.SetStderrTTY(tt.stderr)
			ios.SetNoColor(tt.noColor)
			if ios.ColorEnabled() != tt.wantOut || ios.ColorEnabledStderr() != tt.wantErr {
				t.Errorf("ColorEnabled = %v, ColorEnabledStderr = %v; want %v, %v",
					ios.ColorEnabled(), ios.ColorEnabledStderr(), tt.wantOut, tt.wantErr)
			}
		})
	}
}

// Styles bound to a stream without colour never write escape codes.
func TestStylesWithoutColor(t *testing.T) {
	ios, _, _, _ := testIO()
	ios.SetStdoutTTY(true)
	ios.SetNoColor(true)
	st := ios.Styles()
	for _, s := range []string{
		st.Bold.Render("x"), st.Heading.Render("x"), st.Key.Render("x"),
		st.Warning.Render("x"), st.Error.Render("x"), st.Success.Render("x"), st.Faint.Render("x"),
	} {
		if strings.Contains(s, "\x1b") || s != "x" {
			t.Errorf("rendered %q, want plain x", s)
		}
	}
}
