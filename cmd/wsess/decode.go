package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/pkg/session"
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
			if !contains(decodeFormats, opts.Format) {
				return newUsageError("use auto, wsess, weppy or emmett", "unknown --format %q", opts.Format)
			}
			if opts.Output != "table" && opts.Output != "json" {
				return newUsageError("use -o table or -o json", "unknown output %q", opts.Output)
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
	fl.StringVar(&opts.Format, "format", "auto", "cookie format: auto, wsess, weppy or emmett")
	fl.StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	addKeyFlags(cmd, &keys)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(decodeFormats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// cookieCandidate is one way to read the input: a cookie name (empty for a
// bare value) and its value.
type cookieCandidate struct {
	Name, Value string
}

// cookieCandidates reads the input as a bare value, name=value, or a Cookie
// header, and returns what to try, most likely first. With name set, only
// the cookie of that name (or a bare value) is returned.
func cookieCandidates(input, name string) []cookieCandidate {
	s := strings.TrimSpace(input)
	if h, rest, ok := strings.Cut(s, ":"); ok && strings.EqualFold(strings.TrimSpace(h), "cookie") {
		s = strings.TrimSpace(rest)
	}
	var out []cookieCandidate
	seen := map[cookieCandidate]bool{}
	add := func(c cookieCandidate) {
		if c.Value != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		n, v, ok := strings.Cut(part, "=")
		if !ok || !isCookieName(n) {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if name == "" || n == name {
			add(cookieCandidate{Name: n, Value: v})
		}
	}
	// The whole input may also be a bare value (base64 padding has '=').
	if !strings.Contains(s, ";") && !strings.ContainsAny(s, " \t") {
		add(cookieCandidate{Name: "", Value: s})
	}
	return out
}

// isCookieName reports whether s is an RFC 6265 token.
func isCookieName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// decodedCookie is one opened cookie.
type decodedCookie struct {
	Format   string         `json:"format"`
	Name     string         `json:"name,omitempty"`
	Size     int            `json:"size"`
	Expires  *time.Time     `json:"expires,omitempty"`
	Data     map[string]any `json:"data"`
	Warnings []string       `json:"warnings,omitempty"`
}

// errWrongKey says a cookie was recognised but could not be opened.
var errWrongKey = errors.New("cannot open the cookie: wrong key, or the cookie was tampered with")

func decodeRun(opts *decodeOptions) error {
	secrets, err := opts.Secrets()
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		return withHint(errNoKey, noKeyHint)
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
	cands := cookieCandidates(input, opts.Name)
	if len(cands) == 0 {
		if opts.Name != "" {
			return newUsageError("check --name, or leave it out to try every cookie", "no cookie named %q in the input", opts.Name)
		}
		return newUsageError("give the cookie value, name=value or a Cookie header", "no cookie in the input")
	}
	var firstErr error
	for _, c := range cands {
		d, err := openCookie(c, opts, secrets)
		if err == nil {
			for _, w := range d.Warnings {
				printWarning(opts.IO, w)
			}
			return writeDecoded(opts, d)
		}
		if firstErr == nil || (errors.Is(firstErr, errNotThisFormat) && !errors.Is(err, errNotThisFormat)) {
			firstErr = err
		}
	}
	if errors.Is(firstErr, errNotThisFormat) {
		return withHint(errors.New("not a session cookie in a known format"), "give a wsess, weppy or Emmett cookie, or set --format")
	}
	return firstErr
}

var errNotThisFormat = errors.New("not a cookie of this format")

// openCookie opens one candidate with every secret.
func openCookie(c cookieCandidate, opts *decodeOptions, secrets []string) (*decodedCookie, error) {
	if opts.Format != "auto" && opts.Format != "wsess" {
		return nil, withHint(fmt.Errorf("the %s format is not supported by this build", opts.Format), "use --format wsess")
	}
	if !strings.HasPrefix(c.Value, "w1.") {
		return nil, errNotThisFormat
	}
	name := c.Name
	if opts.Name != "" {
		name = opts.Name
	}
	if name == "" {
		name = session.DefaultCookieName
	}
	mgr, err := session.NewCookieManager(secrets[0], session.CookieOptions{
		Options:          session.Options{CookieName: name, Clock: opts.Now},
		PreviousSecrets:  secrets[1:],
		AllowShortSecret: true,
	})
	if err != nil {
		return nil, withHint(err, "check the secret")
	}
	values, exp, err := mgr.Open(c.Value)
	switch {
	case errors.Is(err, session.ErrExpired):
		return nil, withHint(fmt.Errorf("the cookie expired at %s", exp.UTC().Format(time.RFC3339)), "the app no longer accepts it")
	case err != nil:
		hint := "check the secret (--key-file, " + envKey + ") and that the cookie's name is " + name
		if c.Name == "" && opts.Name == "" {
			hint += " (give it with --name or as name=value)"
		}
		return nil, withHint(errWrongKey, hint)
	}
	d := &decodedCookie{Format: "wsess", Name: name, Size: len(c.Value), Data: values}
	if c.Name != "" {
		d.Size = len(c.Name) + 1 + len(c.Value)
	}
	if !exp.IsZero() {
		e := exp.UTC()
		d.Expires = &e
	}
	return d, nil
}

// writeDecoded prints a decoded cookie in the chosen output.
func writeDecoded(opts *decodeOptions, d *decodedCookie) error {
	out := opts.IO.Out
	if opts.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	keys := make([]string, 0, len(d.Data))
	for k := range d.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !opts.IO.IsStdoutTTY() {
		// A pipe: tab-separated, no header, RFC 3339 times, no colour.
		fmt.Fprintf(out, "format\t%s\n", d.Format)
		fmt.Fprintf(out, "name\t%s\n", d.Name)
		fmt.Fprintf(out, "size\t%d\n", d.Size)
		if d.Expires != nil {
			fmt.Fprintf(out, "expires\t%s\n", d.Expires.Format(time.RFC3339))
		}
		for _, k := range keys {
			fmt.Fprintf(out, "data.%s\t%s\n", k, jsonValue(d.Data[k]))
		}
		return nil
	}
	st := opts.IO.Styles()
	row := func(k, v string) {
		fmt.Fprintf(out, "%s  %s\n", st.Key.Render(fmt.Sprintf("%-8s", k)), v)
	}
	row("format", d.Format)
	row("name", d.Name)
	row("size", fmt.Sprintf("%d bytes", d.Size))
	if d.Expires != nil {
		row("expires", d.Expires.Format(time.RFC3339)+" ("+relTime(opts.Now(), *d.Expires)+")")
	}
	fmt.Fprintln(out, st.Heading.Render("data"))
	if len(keys) == 0 {
		fmt.Fprintf(out, "  %s\n", st.Faint.Render("(empty)"))
	}
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	for _, k := range keys {
		fmt.Fprintf(out, "  %s  %s\n", st.Key.Render(fmt.Sprintf("%-*s", width, k)), jsonValue(d.Data[k]))
	}
	return nil
}

// jsonValue shows a value as compact JSON (strings quoted).
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// relTime says how far t is from now, for people.
func relTime(now, t time.Time) string {
	d := t.Sub(now)
	suffix := "from now"
	if d < 0 {
		d, suffix = -d, "ago"
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds %s", int(d.Seconds()), suffix)
	case d < time.Hour:
		return fmt.Sprintf("%dm %s", int(d.Minutes()), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm %s", int(d.Hours()), int(d.Minutes())%60, suffix)
	default:
		return fmt.Sprintf("%dd %s", int(d.Hours()/24), suffix)
	}
}
