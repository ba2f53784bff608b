package main

import (
	"errors"
	"fmt"
	"io"
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
	Output string // table, json
}

var decodeFormats = []string{"auto", "wsess", "weppy", "emmett"}

func newCmdDecode(f *factory, runF func(*decodeOptions) error) *cobra.Command {
	opts := &decodeOptions{IO: f.IOStreams, Now: f.Now}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "decode [COOKIE|-]",
		Short: "Decrypt and show a session cookie",
		Long: `Decrypt a session cookie and show its format, contents, size and expiry.

COOKIE is the bare cookie value, name=value, or a whole Cookie header
("Cookie: a=1; wsess_session_data=w1...."); with a header, --name picks the
cookie, otherwise each cookie is tried. "-" or no argument reads stdin.

Formats: wsess (this library), weppy, and Emmett (legacy and modern); auto
detects them. The secret comes from --key (repeatable: every key is tried),
--key-file (one a line) or WSESS_KEY. A wrong key or a tampered cookie exits
with status 1.`,
		Example: `  export WSESS_KEY="$(cat key.txt)"
  wsess decode 'w1.YSukcTHSYLB4...'
  wsess decode 'wsess_session_data=w1.YSukcTHSYLB4...' -o json
  pbpaste | wsess decode --key-file keys.txt --name wpp_session_data_myapp -`,
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
	stringEnumFlag(cmd, &opts.Output, "output", "o", "table", []string{"table", "json"}, "output")
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
	if opts.Output == "json" {
		return writeSessionJSON(opts.IO.Out, s, nil)
	}
	// Warnings went to stderr; the rendering shows the session only.
	shown := *s
	shown.Warnings = nil
	return renderSession(opts.IO.Out, &shown, opts.IO.Styles(), opts.Now(), nil)
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
