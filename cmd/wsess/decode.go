package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/inspect"
)

type decodeOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Secrets func() ([]string, error)

	Input  string // the cookie, or "-" for stdin
	Name   string // pick this cookie; also the name a bare value was sealed under
	Format string // auto, wsess, weppy, emmett
	Output string // table, json, tsv (addOutputFlag)
}

var decodeFormats = []string{"auto", "wsess", "weppy", "emmett"}

func newCmdDecode(f *factory, runF func(*decodeOptions) error) *cobra.Command {
	opts := &decodeOptions{IO: f.IOStreams, Now: f.Now}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "decode [-|COOKIE]",
		Short: "Decrypt and show a session cookie",
		Long: `Decrypt a session cookie and show its format, contents, size and expiry.

The cookie is read from stdin when no argument (or "-") is given: prefer
that, since a cookie value is a bearer credential and arguments show in
process lists and shell history. It may be the bare cookie value,
name=value, or a whole Cookie header ("Cookie: a=1; wsess_session_data=w1....");
with a header, --name picks the cookie, otherwise each cookie is tried.

A cookie value that starts with "-" (about 1 in 64 Emmett cookies) is read
from stdin as any other; as an argument, put it after "--"
(wsess decode -- -Xyz...); a bare Emmett cookie that starts with "-" is
also recognised by its shape and taken as the cookie, not as flags.

Formats: wsess (this library), weppy, and Emmett (legacy and modern); auto
detects them. The secret comes from --key (repeatable: every key is tried),
--key-file (one a line) or WSESS_KEY. A wrong key or a tampered cookie exits
with status 1.

On a terminal the session is shown as labelled lines and a table of its
data (-o table, which a pipe gets only when asked for); elsewhere as
"field<TAB>value" lines (-o tsv); -o json prints one JSON object, with
"expires" left out when the cookie has no expiry.`,
		Example: `  export WSESS_KEY="$(cat key.txt)"
  pbpaste | wsess decode
  pbpaste | wsess decode --key-file keys.txt --name wpp_session_data_myapp -o json
  wsess decode < cookie.txt
  wsess decode -- '-Xq3...=:Vf0...=:1bKx...'
  wsess decode 'wsess_session_data=w1.YSukcTHSYLB4...' -o json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = "-"
			if len(args) == 1 {
				opts.Input = args[0]
			}
			opts.Secrets = func() ([]string, error) { return f.Secrets(keys) }
			if runF != nil {
				return runF(opts)
			}
			return decodeRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "cookie `name` to pick from a Cookie header (and to open a bare value with)")
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", decodeFormats, "cookie format")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	addKeyFlags(cmd, &keys)
	return cmd
}

func decodeRun(opts *decodeOptions) error {
	secrets, err := opts.Secrets()
	if err != nil {
		return err
	}
	input := opts.Input
	if input == "-" {
		if opts.IO.IsStdinTTY() {
			printWarning(opts.IO, "reading the cookie from the terminal; paste it and press Ctrl-D")
		}
		b, err := io.ReadAll(io.LimitReader(opts.IO.In, 1<<20))
		if err != nil {
			return fmt.Errorf("cannot read stdin: %w", err)
		}
		input = string(b)
	}
	s, err := inspect.DecodeCookie(input, inspect.CookieOptions{
		Secrets: secrets,
		Name:    opts.Name,
		Format:  opts.Format,
		Now:     opts.Now,
	})
	if err != nil {
		return decodeError(err, opts)
	}
	for _, w := range s.Warnings {
		printWarning(opts.IO, w)
	}
	if opts.Output == outJSON {
		return writeSessionJSON(opts.IO.Out, s, nil)
	}
	// Warnings went to stderr; the rendering shows the session only.
	shown := *s
	shown.Warnings = nil
	return renderSession(opts.IO.Out, &shown, opts.IO.Styles(), isTable(opts.IO, opts.Output), opts.Now(), nil)
}

// decodeError turns inspect's errors into one line for people: what went
// wrong and what to do. The secret is never part of it.
func decodeError(err error, opts *decodeOptions) error {
	switch {
	case errors.Is(err, inspect.ErrNoCookie):
		if opts.Name != "" {
			return newUsageError("check --name, or leave it out to try every cookie", "no cookie named %q in the input", opts.Name)
		}
		return newUsageError("give the cookie value, name=value or a Cookie header", "no cookie in the input")
	case errors.Is(err, inspect.ErrNoSecret):
		return withHint(errNoKey, noKeyHint)
	case errors.Is(err, inspect.ErrUnknownFormat):
		hint := "give a wsess, weppy or Emmett cookie value"
		if opts.Format != "auto" {
			hint = "check --format " + opts.Format + ", or use --format auto"
		}
		return withHint(errors.New("not a session cookie in a known format"), hint)
	case errors.Is(err, inspect.ErrWrongSecret):
		hint := "check the secret (--key-file, " + envKey + ")"
		if opts.Format != "weppy" && opts.Format != "emmett" {
			hint += " and, for a wsess cookie, its name (name=value or --name)"
		}
		return withHint(errors.New("cannot open the cookie: wrong key, or the cookie was tampered with"), hint)
	case errors.Is(err, inspect.ErrBadPayload):
		return withHint(errors.New("the cookie opened but its data cannot be decoded"), "the app may use a codec wsess does not know")
	}
	return err
}

// valueFlags are decode's flags that take a value as the next argument.
var valueFlags = []string{"--name", "--format", "--output", "-o", "--key", "--key-file"}

// cliArgs prepares the process's arguments for cobra: for "wsess decode",
// an argument that starts with "-" but looks like an Emmett cookie (see
// dashLedCookie) is a cookie value, not flags, and is moved after "--".
// Without this, pflag reads "-Xq3...=:..." as the shorthand flags X, q, 3,
// ... and refuses it, or worse, takes "-o..." as an output format. No flag
// has that shape, so nothing a user meant as a flag is moved. Arguments
// after a "--" and values of flags that take one are left alone.
func cliArgs(args []string) []string {
	if len(args) == 0 || args[0] != "decode" {
		return args
	}
	out := []string{args[0]}
	var moved []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if dashLedCookie(a) && !slices.Contains(valueFlags, args[i-1]) {
			moved = append(moved, a)
			continue
		}
		out = append(out, a)
	}
	if len(moved) == 0 {
		return args
	}
	if !slices.Contains(out, "--") {
		out = append(out, "--")
	}
	return append(out, moved...)
}

// dashLedCookie reports whether a starts with a single "-" and looks like
// an Emmett cookie value: at least 64 characters with a ":" (a real one has
// a 44-character salt, a ":", a 44-character signature, a ":" and the
// data). No flag of decode looks like that: its only shorthand flags are
// -o (a short output name) and -h. The shape is kept loose on purpose, so
// that a damaged cookie is still taken as a cookie (and refused as one)
// rather than echoed in a flag error.
func dashLedCookie(a string) bool {
	return strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) >= 64 && strings.Contains(a, ":")
}
