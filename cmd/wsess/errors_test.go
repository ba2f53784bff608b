package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		line string
	}{
		{"nil", nil, 0, ""},
		{"failure", errors.New("boom"), 1, "wsess: boom\n"},
		{"hint", withHint(errors.New("cannot reach Redis"), "start it"), 1, "wsess: cannot reach Redis; start it\n"},
		{"wrapped hint", fmt.Errorf("outer: %w", withHint(errors.New("x"), "y")), 1, "wsess: outer: x; y\n"},
		{"usage", newUsageError("use -o json", "unknown output %q", "yaml"), 2, "wsess: unknown output \"yaml\"; use -o json\n"},
		{"wrapped usage", fmt.Errorf("decode: %w", newUsageError("h", "bad")), 2, "wsess: decode: bad; h\n"},
		{"cobra unknown command", errors.New(`unknown command "x" for "wsess"`), 2, "wsess: unknown command \"x\" for \"wsess\"; run 'wsess --help' for usage\n"},
		{"exit silently", &exitError{Code: 3}, 3, ""},
		{"exit with message", &exitError{Code: 1, Msg: "said"}, 1, "wsess: said\n"},
		{"multi-line becomes one line", errors.New("a\nb\n  c"), 1, "wsess: a b c\n"},
		{"interrupted", fmt.Errorf("scan: %w", context.Canceled), 1, "wsess: interrupted; nothing more was done\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if got := exitCode(tt.err, &buf); got != tt.code {
				t.Errorf("exitCode = %d, want %d", got, tt.code)
			}
			if buf.String() != tt.line {
				t.Errorf("stderr = %q, want %q", buf.String(), tt.line)
			}
		})
	}
}

func TestUsageErrorsUnwrap(t *testing.T) {
	inner := errors.New("inner")
	if !errors.Is(&usageError{err: inner}, inner) || !errors.Is(withHint(inner, "h"), inner) {
		t.Fatal("usageError and hintError must unwrap to their cause")
	}
	if withHint(nil, "h") != nil {
		t.Fatal("withHint(nil) must be nil")
	}
}
