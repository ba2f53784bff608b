package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/audit"
)

// newCmdAudit is the "audit" command group: verdicts on a session setup.
func newCmdAudit(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit <command>",
		Short: "Judge a session cookie, a site's Set-Cookie headers or a secret key",
		Long: `Judge a session setup, for a person or a CI job: each check is pass, warn
or fail, with the OWASP ASVS 5.0 requirement it comes from.

  wsess audit cookie       a session cookie: format, cryptography, published
                           example secrets, lifetime, size
  wsess audit set-cookie   Set-Cookie lines (or a whole response head) on stdin
  wsess audit url URL      fetches URL and judges its Set-Cookie headers and
                           Cache-Control
  wsess audit key          a secret key: length, strength, published, reuse

On a terminal the checks are a table (subject, check, verdict, ASVS 5.0,
detail); to a pipe, tab-separated lines in the same order; -o json prints
one object with the checks and the count of each verdict. The exit status
is 0 when no check fails, 1 when one does (warnings do not), 2 for a usage
error. No secret is ever printed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newCmdAuditCookie(f, nil),
		newCmdAuditSetCookie(f, nil),
		newCmdAuditURL(f, nil),
		newCmdAuditKey(f, nil),
	)
	return cmd
}

type auditCookieOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Secrets func() ([]string, error)

	Input  string // the cookie, or "-" for stdin
	Name   string
	Output string
}

func newCmdAuditCookie(f *factory, runF func(*auditCookieOptions) error) *cobra.Command {
	opts := &auditCookieOptions{IO: f.IOStreams, Now: f.Now}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "cookie [-|COOKIE]",
		Short: "Judge a session cookie",
		Long: `Judge a session cookie: its format and cryptography (wsess's AES-256-GCM,
Emmett's modern AES-CTR with HMAC-SHA256, or the weppy / Emmett legacy
AES-CFB with an IV taken from the key and HMAC-MD5), whether one of the
published example secrets opens it, how long the server accepts it, and its
size against the 4096 bytes browsers keep.

The cookie is read as decode reads it: from stdin when no argument (or
"-") is given, as a bare value, name=value or a whole Cookie header
(--name picks one). No key is needed; with one (--key-file, WSESS_KEY) the
expiry and creation time sealed in a wsess cookie are read too.

The published secrets are the frameworks' documented example keys and
common defaults, each listed with where it is published; they are never
printed.`,
		Example: `  pbpaste | wsess audit cookie
  wsess audit cookie --key-file key.txt < cookie.txt
  wsess audit cookie -o json 'wsess_session_data=w1.YSukcTHSYLB4...'`,
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
			return auditCookieRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "cookie `name` to pick from a Cookie header (and to open a bare wsess value with)")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	addKeyFlags(cmd, &keys)
	return cmd
}

func auditCookieRun(opts *auditCookieOptions) error {
	secrets, err := opts.Secrets()
	if err != nil {
		return err
	}
	input, err := readInput(opts.IO, opts.Input, "the cookie")
	if err != nil {
		return err
	}
	r, err := audit.Cookie(input, audit.CookieOptions{Secrets: secrets, Name: opts.Name, Now: opts.Now})
	switch {
	case errors.Is(err, audit.ErrNoCookie):
		return newUsageError("give the cookie value, name=value or a Cookie header", "no cookie in the input")
	case errors.Is(err, audit.ErrUnknownFormat):
		return withHint(errors.New("not a session cookie in a known format"), "give a wsess, weppy or Emmett cookie value")
	case errors.Is(err, audit.ErrWrongSecret):
		return withHint(errors.New("the key given does not open the cookie"), "check --key-file / "+envKey+", or leave the key out: the audit runs without it")
	case err != nil:
		return err
	}
	return writeAudit(opts.IO, opts.Output, r)
}

type auditSetCookieOptions struct {
	IO  *IOStreams
	Now func() time.Time

	Name     string
	Host     string
	Absolute time.Duration
	Output   string
}

func newCmdAuditSetCookie(f *factory, runF func(*auditSetCookieOptions) error) *cobra.Command {
	opts := &auditSetCookieOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "set-cookie",
		Short: "Judge Set-Cookie lines read from stdin",
		Long: `Judge the Set-Cookie headers read from stdin: "Set-Cookie: ..." lines, bare
"name=value; attributes" lines, or a whole response head as curl -i or -D
prints it. Each cookie (or the one --name picks) is checked for HttpOnly,
Secure, SameSite, the __Host- / __Secure- prefix rules, its Max-Age (or
Expires) against the absolute session lifetime (--absolute), its Domain
scope (against --host when given) and its size. When the input is a whole
response head, its Cache-Control is judged too.`,
		Example: `  curl -si https://example.com/login | wsess audit set-cookie
  echo 'Set-Cookie: sid=abc; Path=/; HttpOnly' | wsess audit set-cookie -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Absolute <= 0 {
				return newUsageError("give a duration such as 24h", "--absolute %s is not positive", opts.Absolute)
			}
			if runF != nil {
				return runF(opts)
			}
			return auditSetCookieRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "judge only the cookie of this `name`")
	fl.StringVar(&opts.Host, "host", "", "the `host` the response came from: a Domain attribute must match it")
	fl.DurationVar(&opts.Absolute, "absolute", audit.DefaultAbsoluteTimeout, "the app's absolute session lifetime, which Max-Age must not exceed")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	return cmd
}

func auditSetCookieRun(opts *auditSetCookieOptions) error {
	input, err := readInput(opts.IO, "-", "the Set-Cookie lines")
	if err != nil {
		return err
	}
	h, response := audit.ParseHeaders(input)
	r, err := audit.Headers(h, audit.HeaderOptions{Name: opts.Name, AbsoluteTimeout: opts.Absolute,
		Host: opts.Host, CacheControl: response, Now: opts.Now})
	if errors.Is(err, audit.ErrNoSetCookie) {
		return noSetCookieError(opts.Name, "in the input", "give Set-Cookie lines or a response head (curl -si URL)")
	}
	if err != nil {
		return err
	}
	return writeAudit(opts.IO, opts.Output, r)
}

func noSetCookieError(name, where, hint string) error {
	if name != "" {
		return newUsageError("check --name, or leave it out to judge every cookie", "no Set-Cookie of a cookie named %q %s", name, where)
	}
	return newUsageError(hint, "no Set-Cookie %s", where)
}

type auditURLOptions struct {
	IO  *IOStreams
	Now func() time.Time

	URL      *url.URL
	Follow   bool
	Timeout  time.Duration
	Name     string
	Absolute time.Duration
	Output   string
}

// maxRedirects bounds --follow.
const maxRedirects = 10

func newCmdAuditURL(f *factory, runF func(context.Context, *auditURLOptions) error) *cobra.Command {
	opts := &auditURLOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "url URL",
		Short: "Fetch a URL and judge its Set-Cookie headers",
		Long: `Fetch URL with a GET and judge the Set-Cookie headers of the response, as
wsess audit set-cookie does, and its Cache-Control: a response that sets a
session cookie should say no-store. The Domain of each cookie is checked
against the URL's host.

Redirects are not followed unless --follow is given (then at most 10, and
the cookies of every response on the way are judged). A page only sets a
session cookie when it starts or changes a session: point it at such a
page (the demo's /counter, a login page).`,
		Example: `  wsess audit url http://127.0.0.1:8080/counter
  wsess audit url --follow -o json https://app.example.com/login`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return newUsageError("give an http:// or https:// URL", "not an http or https URL")
			}
			if opts.Timeout <= 0 {
				return newUsageError("give a duration such as 10s", "--timeout %s is not positive", opts.Timeout)
			}
			if opts.Absolute <= 0 {
				return newUsageError("give a duration such as 24h", "--absolute %s is not positive", opts.Absolute)
			}
			opts.URL = u
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditURLRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Follow, "follow", false, fmt.Sprintf("follow redirects (at most %d)", maxRedirects))
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "give up on the whole fetch after this long")
	fl.StringVar(&opts.Name, "name", "", "judge only the cookie of this `name`")
	fl.DurationVar(&opts.Absolute, "absolute", audit.DefaultAbsoluteTimeout, "the app's absolute session lifetime, which Max-Age must not exceed")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	return cmd
}

// recorder keeps every response a client receives, redirects included.
type recorder struct {
	rt    http.RoundTripper
	resps []*http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		r.resps = append(r.resps, resp)
	}
	return resp, err
}

func auditURLRun(ctx context.Context, opts *auditURLOptions) error {
	shown := opts.URL.Redacted() // never a password in the URL
	rec := &recorder{rt: http.DefaultTransport}
	client := &http.Client{
		Transport: rec,
		Timeout:   opts.Timeout,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !opts.Follow {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, opts.URL.String(), nil)
	if err != nil {
		return newUsageError("give an http:// or https:// URL", "not a URL wsess can fetch")
	}
	req.Header.Set("User-Agent", "wsess-audit")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, which may hold a password
		}
		return withHint(fmt.Errorf("cannot fetch %s: %w", shown, err), "check the URL and that the server answers")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if !opts.Follow && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		printNotice(opts.IO, fmt.Sprintf("the response is a redirect (%s) to %s; not followed (--follow)", resp.Status, resp.Header.Get("Location")))
	}

	r := &audit.Report{}
	var withCookies []*http.Response
	for _, rr := range rec.resps {
		if len(rr.Header.Values("Set-Cookie")) > 0 {
			withCookies = append(withCookies, rr)
		}
	}
	for i, rr := range withCookies {
		one, err := audit.Headers(rr.Header, audit.HeaderOptions{Name: opts.Name, AbsoluteTimeout: opts.Absolute,
			Host: rr.Request.URL.Hostname(), CacheControl: true, Now: opts.Now})
		if errors.Is(err, audit.ErrNoSetCookie) {
			continue
		}
		if err != nil {
			return err
		}
		for _, fd := range one.Findings {
			if fd.Subject == "response" && len(withCookies) > 1 {
				fd.Subject = fmt.Sprintf("response %d", i+1)
			}
			r.Findings = append(r.Findings, fd)
		}
	}
	if len(r.Findings) == 0 {
		if opts.Name != "" {
			return withHint(fmt.Errorf("%s set no cookie named %q", shown, opts.Name), "check --name, or leave it out to judge every cookie")
		}
		return withHint(fmt.Errorf("%s set no cookie", shown), "give a page that starts or changes a session (the demo's /counter, a login page), or --follow its redirects")
	}
	return writeAudit(opts.IO, opts.Output, r)
}

type auditKeyOptions struct {
	IO      *IOStreams
	Secrets func() ([]string, error)

	Formats []string
	Output  string
}

var auditKeyFormats = []string{audit.FormatWsess, audit.FormatWeppy, audit.FormatEmmett}

func newCmdAuditKey(f *factory, runF func(*auditKeyOptions) error) *cobra.Command {
	opts := &auditKeyOptions{IO: f.IOStreams}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Judge a secret key",
		Long: `Judge the secret key (or each key of a key file: rotation) that seals the
session cookies: its length for the formats it is used with, an estimate
of its strength (from its length and the characters it uses: a word or a
pattern is weaker than the estimate says), whether it is a published
example secret, and its reuse: one secret serving several cookie formats
(--format, repeatable: wsess, weppy, emmett), or a key listed twice.

The key comes from --key-file, WSESS_KEY_FILE or WSESS_KEY (or --key, which
shows in process lists). It is never printed: a key is named by its place
in the file.`,
		Example: `  wsess audit key --key-file keys.txt
  WSESS_KEY="$(cat key.txt)" wsess audit key --format wsess --format emmett`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, fm := range opts.Formats {
				if !slices.Contains(auditKeyFormats, fm) {
					return newUsageError("give wsess, weppy or emmett", "unknown --format %q", fm)
				}
			}
			opts.Secrets = func() ([]string, error) { return f.Secrets(keys) }
			if runF != nil {
				return runF(opts)
			}
			return auditKeyRun(opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Formats, "format", nil, "a cookie `format` the key is used with: {wsess|weppy|emmett}; repeat for several (default wsess)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(auditKeyFormats, cobra.ShellCompDirectiveNoFileComp))
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	addKeyFlags(cmd, &keys)
	return cmd
}

func auditKeyRun(opts *auditKeyOptions) error {
	secrets, err := opts.Secrets()
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		return withHint(errNoKey, noKeyHint)
	}
	var formats []string
	for _, fm := range opts.Formats {
		if !slices.Contains(formats, fm) {
			formats = append(formats, fm)
		}
	}
	r, err := audit.Keys(secrets, audit.KeyOptions{Formats: formats})
	if err != nil {
		return err
	}
	return writeAudit(opts.IO, opts.Output, r)
}

// readInput returns input, or stdin's text (at most 1 MiB) when input is
// "-"; what names it for the prompt on a terminal.
func readInput(ios *IOStreams, input, what string) (string, error) {
	if input != "-" {
		return input, nil
	}
	if ios.IsStdinTTY() {
		printWarning(ios, "reading "+what+" from the terminal; paste and press Ctrl-D")
	}
	b, err := io.ReadAll(io.LimitReader(ios.In, 1<<20))
	if err != nil {
		return "", fmt.Errorf("cannot read stdin: %w", err)
	}
	return string(b), nil
}

// auditJSON is -o json of every audit command.
type auditJSON struct {
	Checks []auditCheckJSON `json:"checks"`
	Pass   int              `json:"pass"`
	Warn   int              `json:"warn"`
	Fail   int              `json:"fail"`
}

type auditCheckJSON struct {
	Subject string `json:"subject"`
	Check   string `json:"check"`
	Verdict string `json:"verdict"`
	ASVS    string `json:"asvs,omitempty"`
	Detail  string `json:"detail"`
}

// writeAudit prints r in the format asked for and turns a failed check
// into exit status 1 (after the report, with one line on stderr).
func writeAudit(ios *IOStreams, output string, r *audit.Report) error {
	var err error
	if output == outJSON {
		doc := auditJSON{Checks: []auditCheckJSON{}, Pass: r.Count(audit.Pass), Warn: r.Count(audit.Warn), Fail: r.Count(audit.Fail)}
		for _, f := range r.Findings {
			doc.Checks = append(doc.Checks, auditCheckJSON{Subject: f.Subject, Check: f.Check, Verdict: string(f.Verdict), ASVS: f.ASVS, Detail: f.Detail})
		}
		err = writeJSON(ios.Out, doc)
	} else {
		err = writeAuditRows(ios, output, r)
	}
	if err != nil {
		return err
	}
	if n := r.Count(audit.Fail); n > 0 {
		verb := "fail"
		if n == 1 {
			verb = "fails"
		}
		return &exitError{Code: exitFailure, Msg: fmt.Sprintf("%d of %d checks %s; see the rows marked fail", n, len(r.Findings), verb)}
	}
	return nil
}

func writeAuditRows(ios *IOStreams, output string, r *audit.Report) error {
	cols := []column{
		{Name: "subject", Header: "SUBJECT"},
		{Name: "check", Header: "CHECK"},
		{Name: "verdict", Header: "VERDICT"},
		{Name: "asvs", Header: "ASVS 5.0"},
		{Name: "detail", Header: "DETAIL"},
	}
	// Widths from every row, not the first: the rows are all here.
	for i := range cols[:4] {
		cols[i].Width = cellWidth(cols[i].Header)
	}
	for _, f := range r.Findings {
		for i, s := range []string{f.Subject, f.Check, string(f.Verdict), f.ASVS} {
			cols[i].Width = max(cols[i].Width, cellWidth(s))
		}
	}
	w := newRowWriter(ios, output, cols, time.Time{})
	for _, f := range r.Findings {
		style := styleGood
		switch f.Verdict {
		case audit.Warn:
			style = styleWarn
		case audit.Fail:
			style = styleBad
		}
		if err := w.Row([]cell{textCell(f.Subject), textCell(f.Check), textCell(string(f.Verdict)).styled(style), textCell(f.ASVS), textCell(f.Detail)}); err != nil {
			return err
		}
	}
	return w.End("")
}
