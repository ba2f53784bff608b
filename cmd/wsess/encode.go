package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/pkg/session"
)

type encodeOptions struct {
	IO      *IOStreams
	Secrets func() ([]string, error)
	Now     func() time.Time

	JSON   string // the JSON object, or "-" for stdin
	Expire time.Duration
	Name   string
	Format string // wsess, weppy or emmett
	Target string // weppy and emmett formats: the release the pickle is for
}

// encodeTargets are the --target values: session.Targets.
func encodeTargets() []string {
	var out []string
	for _, t := range session.Targets() {
		out = append(out, string(t))
	}
	return out
}

var encodeFormats = []string{"wsess", "weppy", "emmett"}

func newCmdEncode(f *factory, runF func(*encodeOptions) error) *cobra.Command {
	opts := &encodeOptions{IO: f.IOStreams, Now: f.Now}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "encode {JSON|-}",
		Short: "Seal a wsess session cookie from a JSON object",
		Long: `Seal the values of a JSON object into a wsess session cookie and print the
cookie's value on one line: for tests, fixtures and support work.

The cookie is sealed with the first secret (WSESS_KEY, --key-file or --key)
and is bound to its cookie name (--name), as the app's cookie manager does:
it opens only under that name. "-" reads the JSON object from stdin.

--format weppy writes the cookie of weppy 0.x-1.x and of Emmett 2.4 in its
"legacy" encryption mode (2.4's default); --format emmett the "modern"
cookie of Emmett 2.4 (opt-in), 2.5 and later and emmett-core. Inside is a
pickle; --target names the release that will read it: "any" (the default)
writes a plain dict, which every release loads; weppy-1.3, emmett-2.4,
emmett-2.5, emmett-2.6+ and emmett-core write the sdict class that release
writes itself (Emmett 2.4 and 2.5 cannot load emmett-2.6+/emmett-core's
class: they would see an empty session). Those formats carry no expiry and
no name binding, so --expire and --name do not apply to them.`,
		Example: `  export WSESS_KEY="$(wsess keygen)"
  wsess encode '{"user_id": 42, "counter": 3}'
  wsess encode --expire 24h --name wsess_session_data - < values.json
  curl -b "wsess_session_data=$(wsess encode '{"counter": 1}')" http://127.0.0.1:8080/
  wsess encode --format emmett --key-file emmett-key.txt '{"counter": 7}'
  wsess encode --format weppy --target weppy-1.3 --key-file weppy-key.txt - < values.json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = "-"
			if len(args) == 1 {
				opts.JSON = args[0]
			}
			if opts.Expire < 0 {
				return newUsageError("give a positive duration such as 1h", "--expire %s is negative", opts.Expire)
			}
			if opts.Expire < time.Second {
				return newUsageError("give at least 1s", "--expire %s is shorter than a second", opts.Expire)
			}
			if opts.Format == "wsess" && opts.Expire > session.DefaultAbsoluteTimeout {
				// Seal would cap it silently at the absolute lifetime.
				return newUsageError(fmt.Sprintf("give at most %dh", session.DefaultAbsoluteTimeout/time.Hour), "--expire %s is longer than a wsess cookie's absolute lifetime", opts.Expire)
			}
			if opts.Format == "wsess" && cmd.Flags().Changed("target") {
				return newUsageError("use --target with --format weppy or emmett", "--target does not apply to wsess cookies")
			}
			if opts.Name == "" || strings.ContainsAny(opts.Name, "=; \t\r\n") {
				return newUsageError("give a cookie name without '=', ';' or blanks", "--name %q is not a cookie name", opts.Name)
			}
			opts.Secrets = func() ([]string, error) { return f.Secrets(keys) }
			if runF != nil {
				return runF(opts)
			}
			return encodeRun(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Expire, "expire", session.DefaultExpire, "lifetime sealed in the cookie")
	cmd.Flags().StringVar(&opts.Name, "name", session.DefaultCookieName, "cookie `name` the value is bound to")
	stringEnumFlag(cmd, &opts.Format, "format", "", "wsess", encodeFormats, "cookie format")
	stringEnumFlag(cmd, &opts.Target, "target", "", string(session.TargetAny), encodeTargets(), "release that reads a weppy/emmett cookie")
	addKeyFlags(cmd, &keys)
	return cmd
}

func encodeRun(opts *encodeOptions) error {
	secrets, err := opts.Secrets()
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		return withHint(errNoKey, noKeyHint)
	}
	raw := []byte(opts.JSON)
	if opts.JSON == "-" {
		if raw, err = io.ReadAll(io.LimitReader(opts.IO.In, 1<<20)); err != nil {
			return fmt.Errorf("cannot read stdin: %w", err)
		}
	}
	values, err := parseJSONObject(raw)
	if err != nil {
		return err
	}
	if opts.Format != "wsess" {
		return encodePython(opts, values, secrets[0])
	}
	if len(secrets[0]) < 16 {
		printWarning(opts.IO, "the secret is shorter than 16 bytes; generate a strong one with 'wsess keygen'")
	}
	mgr, err := session.NewCookieManager(secrets[0], session.CookieOptions{
		Options:          session.Options{CookieName: opts.Name, Expire: opts.Expire, Clock: opts.Now},
		AllowShortSecret: true,
	})
	if err != nil {
		return withHint(err, "check the secret and the flags")
	}
	value, err := mgr.Seal(values, opts.Expire)
	if errors.Is(err, session.ErrCookieTooLarge) {
		return withHint(err, "keep less in the session, or use the Redis store")
	} else if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, value)
	return err
}

// encodePython seals values as a weppy (Emmett legacy) or Emmett (modern)
// cookie, pickled for opts.Target.
func encodePython(opts *encodeOptions, values map[string]any, secret string) error {
	var target session.Target
	err := target.UnmarshalText([]byte(opts.Target))
	if err != nil {
		return err
	}
	seal := pycookie.SealEmmett
	if opts.Format == "weppy" {
		seal = pycookie.SealWeppy
	}
	pk, err := session.PickleCodec{Target: target}.Marshal(values)
	if err != nil {
		return withHint(fmt.Errorf("cannot pickle the values: %w", err), "use JSON strings, numbers, booleans, null, arrays and objects")
	}
	value, err := seal(pk, secret, 0)
	if errors.Is(err, pycookie.ErrUnusableSecret) {
		return withHint(errors.New("the secret cannot seal a weppy cookie"), "weppy secrets are shorter than 32 bytes")
	} else if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, value)
	return err
}

// jsonObjectHint says what encode takes.
const jsonObjectHint = `give a JSON object of session values, like {"counter": 1}`

// parseJSONObject decodes one JSON object, keeping numbers exact. Its
// errors say what was given in JSON's words, never Go's.
func parseJSONObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, newUsageError(jsonObjectHint, "no JSON given")
		}
		return nil, newUsageError(jsonObjectHint, "invalid JSON: %s", jsonSyntaxProblem(err))
	}
	values, ok := v.(map[string]any)
	if !ok {
		return nil, newUsageError(jsonObjectHint, "expected a JSON object, got %s", jsonKind(v))
	}
	if dec.More() {
		return nil, newUsageError(jsonObjectHint, "unexpected data after the JSON object")
	}
	return values, nil
}

// jsonKind names the kind of a decoded JSON value with an article.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// jsonSyntaxProblem is the decoder's error without its "json: " prefix and
// with the byte offset of a syntax error.
func jsonSyntaxProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
