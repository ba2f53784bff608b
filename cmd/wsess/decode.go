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
"expires" left out when the cookie has no expiry. The size is the cookie
value's, without its name.

The values the library keeps with the app's (creation and login times,
user, revocation generation, idle timeout override) are shown as fields,
not as data: created, auth_time, user, generation, idle_timeout_seconds,
and absolute_deadline (created + 24 h, the default absolute lifetime of
wsess cookies: absolute_deadline_assumed says the app's setting is not
known). Times are relative on a terminal, RFC 3339 elsewhere. A bytes
value is shown as <N bytes: hex>, and in JSON as {"$bytes": "<base64>"}.`,
		Example: `  export WSESS_KEY="$(cat key.txt)"
  pbpaste | wsess decode
  pbpaste | wsess decode --key-file keys.txt --name wpp_session_data_myapp -o json
  wsess decode < cookie.txt
  wsess decode -- '-Xq3...=:Vf0...=:1bKx...'
  wsess decode 'wsess_session_data=w1.YSukcTHSYLB4...' -o json`,
		Args:        usageArgs(cobra.MaximumNArgs(1)),
		Annotations: map[string]string{dashArgAnnotation: dashArgCookie},
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
