package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsess/wsess/pkg/session"
)

// This file lets a positional argument start with "-": an Emmett cookie
// value does about 1 time in 64, and so does a pkg/session id. pflag would
// read "-Xq3...=:..." as the shorthand flags X, q, 3, ... and refuse it,
// or worse, take "-o..." as an output format.

// dashArgAnnotation, in a command's Annotations, says that its positional
// arguments may start with "-" and what they look like then: one of
// dashArgCookie or dashArgSessionID (see dashArgShape). cliArgs reads it.
const dashArgAnnotation = "wsess/dash-led-args"

// The shapes of dash-led positional arguments.
const (
	// dashArgCookie is a cookie value (dashLedCookie).
	dashArgCookie = "cookie"
	// dashArgSessionID is a session id (dashLedSessionID).
	dashArgSessionID = "session-id"
)

// dashArgShape returns the test of a dash-led argument of the shape kind,
// nil for none.
func dashArgShape(kind string) func(string) bool {
	switch kind {
	case dashArgCookie:
		return dashLedCookie
	case dashArgSessionID:
		return dashLedSessionID
	}
	return nil
}

// cliArgs prepares the process's arguments for root: for the command they
// address, when it accepts dash-led arguments (dashArgAnnotation), an
// argument that starts with "-" but has the shape of its positional
// arguments is moved after "--", where pflag takes it as it is. Nothing
// else moves: arguments after a "--" stay, and so does the value of every
// flag that takes one.
//
// Which flags take a value is derived from the command tree, not kept by
// hand: the command is the one cobra finds for the non-flag words (root's
// Find), and its flags are all that apply to it, its own and those it
// inherits (--redis-url, --cluster, ...). A flag takes a value when pflag
// reads one: not a bool and without NoOptDefVal. Such a flag takes the
// next argument ("--key K", "-o json") unless the value is attached
// ("--key=K", "-ojson"); in a group of shorthands ("-yo json") the first
// one that takes a value ends the group.
func cliArgs(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return args // cobra reports it
	}
	isArg := dashArgShape(cmd.Annotations[dashArgAnnotation])
	if isArg == nil {
		return args
	}
	fs := commandFlags(cmd)
	out := make([]string, 0, len(args)+1)
	var moved []string
	dashdash := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			dashdash = true
			break
		}
		if isArg(a) {
			moved = append(moved, a)
			continue
		}
		out = append(out, a)
		if nextIsValue(fs, a) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	if len(moved) == 0 {
		return args
	}
	if !dashdash {
		out = append(out, "--")
	}
	return append(out, moved...)
}

// commandFlags is every flag that applies to cmd: its own (local and
// persistent) and those it inherits from its parents.
func commandFlags(cmd *cobra.Command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fs.AddFlagSet(cmd.LocalFlags())
	fs.AddFlagSet(cmd.InheritedFlags())
	return fs
}

// takesValue reports whether pflag reads a value for f: it is not a bool
// and has no value to take when none is given (NoOptDefVal).
func takesValue(f *pflag.Flag) bool {
	return f.NoOptDefVal == "" && f.Value.Type() != "bool"
}

// nextIsValue reports whether pflag, parsing fs, reads the argument after
// a as the value of the flag a names. Unknown flags take nothing: pflag
// refuses them anyway.
func nextIsValue(fs *pflag.FlagSet, a string) bool {
	switch {
	case strings.HasPrefix(a, "--"):
		name := a[2:]
		if name == "" || strings.Contains(name, "=") {
			return false
		}
		f := fs.Lookup(name)
		return f != nil && takesValue(f)
	case strings.HasPrefix(a, "-") && len(a) > 1:
		for j := 1; j < len(a); j++ {
			f := fs.ShorthandLookup(a[j : j+1])
			if f == nil {
				return false
			}
			if takesValue(f) {
				return j == len(a)-1 // otherwise the rest of a is the value
			}
		}
	}
	return false
}

// dashLedCookie reports whether a starts with a single "-" and looks like
// an Emmett cookie value: at least 64 characters with a ":" (a real one has
// a 44-character salt, a ":", a 44-character signature, a ":" and the
// data). No flag looks like that: shorthand flags are single letters and a
// group of them holds no ":". The shape is kept loose on purpose, so that a
// damaged cookie is still taken as a cookie (and refused as one) rather
// than echoed in a flag error.
func dashLedCookie(a string) bool {
	return strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) >= 64 && strings.Contains(a, ":")
}

// dashLedSessionID reports whether a is a pkg/session id (session.ValidID)
// that starts with "-": 43 base64url characters, as about 1 id in 64 is.
func dashLedSessionID(a string) bool {
	return strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && session.ValidID(a)
}
