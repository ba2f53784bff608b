package main

import (
	"bufio"
	"fmt"
	"strings"
)

// canPrompt reports whether wsess can ask a question and read the answer.
func canPrompt(ios *IOStreams) bool { return ios.IsStdinTTY() && ios.IsStderrTTY() }

// confirm asks a yes/no question on stderr and reads the answer from stdin.
// Anything but y or yes is no.
func confirm(ios *IOStreams, question string) (bool, error) {
	st := ios.StderrStyles()
	fmt.Fprintf(ios.ErrOut, "%s %s ", st.Warning.Render("?"), question+" [y/N]")
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(ios.ErrOut)
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
