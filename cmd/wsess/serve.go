package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/reqlog"
	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

func newCmdServe(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve <command>",
		Short: "Run a demo web app on wsess sessions",
		Args:  unknownCommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdServeDemo(f, nil))
	return cmd
}

// sessionManager is what the demo needs of either manager.
type sessionManager interface {
	Middleware(next http.Handler) http.Handler
}

type serveDemoOptions struct {
	IO          *IOStreams
	Now         func() time.Time
	Secrets     func() ([]string, error)
	RedisClient func() (redis.UniversalClient, error)
	RedisURL    func() string

	Addr   string
	Store  string
	Prefix string
	Expire time.Duration
	Secure bool
	Domain string
	// Revocations keeps the cookie store's per-user revocations in Redis,
	// so that /sessions can log out the user's other devices.
	Revocations bool
	// Metrics serves the session manager's event counts at /metrics.
	Metrics bool
}

func newCmdServeDemo(f *factory, runF func(context.Context, *serveDemoOptions) error) *cobra.Command {
	opts := &serveDemoOptions{IO: f.IOStreams, Now: f.Now, RedisClient: f.RedisClient, RedisURL: f.RedisURL}
	var keys keyFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run weppy's counter app on wsess sessions",
		Long: `Run weppy's session example as a web app:

  GET  /                 the count, this session's handle or cookie size, its times
  GET  /counter          counts your visits: an HTML page for a browser (Accept:
                         text/html), "This is your N visit" in plain text otherwise
  POST /reset            destroys the session and goes back to /
  GET  /login            the login form (a demo: a name, no password)
  POST /login            logs in as the form's user and shows /sessions
  POST /logout           logs out (destroys the session)
  GET  /sessions         the signed-in user's sessions
  POST /sessions/revoke  ends one of them (--store redis), by handle
  POST /sessions/others  "log out my other devices"
  GET  /metrics          with --metrics: the session events' counts (Prometheus)

Every POST is a form carrying the session's CSRF token: one without it, or
with another, is refused (403) and changes nothing. A GET of /logout or
/reset answers 405 (Allow: POST) with a button that does it.

Sessions live in an encrypted cookie by default (--store cookie), sealed with
the secret from WSESS_KEY, --key-file or --key; without one a random secret
is used and sessions do not survive a restart. --store redis keeps them in
Redis (--redis-url, --cluster) under --prefix.

With --store redis, /sessions lists the user's sessions (the per-user index)
and ends the others. A cookie cannot be listed: with --store cookie,
/sessions offers "log out my other devices" only with --revocations, which
keeps a per-user revocation generation in Redis (--redis-url, --cluster)
that refuses the cookies the user logged in with before the revoke.

The listening URL is printed on stderr, then one line per request (method,
path, status, duration). Ctrl-C (SIGINT) or SIGTERM stops the server
gracefully.`,
		Example: `  wsess serve demo
  wsess serve demo --addr 127.0.0.1:0 --expire 10m
  wsess serve demo --store redis --redis-url redis://127.0.0.1:6379/0 --prefix demo:`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Store == "redis" && opts.Revocations {
				return newUsageError("the Redis store revokes sessions without it", "--revocations applies only to the cookie store")
			}
			if opts.Store == "cookie" && !opts.Revocations {
				for _, name := range []string{"redis-url", "cluster"} {
					if fl := cmd.Flag(name); fl != nil && fl.Changed {
						return newUsageError("add --revocations (per-user revocations in Redis) or use --store redis",
							"--%s applies to the cookie store only with --revocations", name)
					}
				}
			}
			if opts.Store == "cookie" && cmd.Flags().Changed("prefix") {
				return newUsageError("use it with --store redis", "--prefix applies only to the Redis store")
			}
			if opts.Expire < time.Second {
				return newUsageError("give a duration of at least 1s, such as 1h", "--expire %s is too short", opts.Expire)
			}
			if _, port, err := net.SplitHostPort(opts.Addr); err != nil {
				return newUsageError("give host:port, such as 127.0.0.1:8080", "invalid --addr %q", opts.Addr)
			} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return newUsageError("give host:port, such as 127.0.0.1:8080 (port 0 picks a free one)", "invalid --addr %q: the port is not from 0 to 65535", opts.Addr)
			}
			if strings.ContainsAny(opts.Domain, "; ,\t\r\n") {
				return newUsageError("give a bare host name such as example.com", "invalid --domain %q: a cookie domain holds no ';', ',', space or line break", opts.Domain)
			}
			opts.Secrets = func() ([]string, error) { return f.Secrets(keys) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveDemoRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free one)")
	stringEnumFlag(cmd, &opts.Store, "store", "", "cookie", []string{"cookie", "redis"}, "where sessions live")
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "Redis key `prefix` (with --store redis)")
	fl.DurationVar(&opts.Expire, "expire", session.DefaultExpire, "session lifetime")
	fl.BoolVar(&opts.Secure, "secure", false, "mark the cookie Secure (HTTPS only)")
	fl.StringVar(&opts.Domain, "domain", "", "cookie `domain` (default: host-only)")
	fl.BoolVar(&opts.Revocations, "revocations", false, "with --store cookie: keep per-user revocations in Redis, for /sessions")
	fl.BoolVar(&opts.Metrics, "metrics", false, "serve the session events' counts at /metrics (Prometheus text format)")
	addKeyFlags(cmd, &keys)
	return cmd
}

func serveDemoRun(ctx context.Context, opts *serveDemoOptions) error {
	errOut := reqlog.Locked(opts.IO.ErrOut)
	handler, storeDesc, err := newDemoHandler(ctx, opts, errOut)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", opts.Addr, err), "choose another --addr (port 0 picks a free one)")
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	fmt.Fprintf(errOut, "wsess: serving the demo (%s) on http://%s/ (Ctrl-C to stop)\n", storeDesc, ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(errOut, "wsess: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server stopped: %w", err)
	}
	return nil
}

// newDemoHandler builds the demo app as a handler: weppy's counter app
// behind the session manager opts asks for, logging one line per request
// to log. It also returns the store's description for the startup line.
// Warnings about the secret go to opts.IO's stderr.
func newDemoHandler(ctx context.Context, opts *serveDemoOptions, log io.Writer) (http.Handler, string, error) {
	log = reqlog.Locked(log)
	base := session.Options{Expire: opts.Expire, Secure: opts.Secure, Domain: opts.Domain,
		// A failed load or commit answers as the library's default (503 or
		// 500) and says why in the log, on a line of its own.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			fmt.Fprintf(log, "wsess: session error on %s %s: %s\n", textesc.Escape(r.Method), textesc.Escape(r.URL.Path), textesc.Escape(err.Error()))
			session.DefaultErrorHandler(w, r, err)
		},
		// A handler that changes the session after the response's first
		// byte loses the change: the demo says so in the log.
		LateChange: func(r *http.Request, changes []string) {
			fmt.Fprintf(log, "wsess: %s %s changed the session after the response began (not saved): %s\n", textesc.Escape(r.Method), textesc.Escape(r.URL.Path), textesc.Escape(strings.Join(changes, ", ")))
		}}
	var metrics *demoMetrics
	if opts.Metrics {
		metrics = &demoMetrics{store: opts.Store}
		base.Observer = metrics.observe
	}
	pages, err := parseDemoPages()
	if err != nil {
		return nil, "", err
	}
	assets, err := newDemoAssets()
	if err != nil {
		return nil, "", err
	}
	var (
		mgr        sessionManager
		cookieName string
		storeDesc  string
		app        = &demoApp{store: opts.Store, now: opts.Now, pages: pages, assets: assets, metrics: metrics}
	)
	if app.now == nil {
		app.now = time.Now
	}
	switch opts.Store {
	case "cookie":
		secrets, err := demoSecrets(opts)
		if err != nil {
			return nil, "", err
		}
		copts := session.CookieOptions{
			Options:          base,
			PreviousSecrets:  secrets[1:],
			AllowShortSecret: true,
		}
		storeDesc = "cookie store"
		if opts.Revocations {
			rdb, err := pingRedis(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			copts.Revocations = rdb
			storeDesc = "cookie store, revocations in Redis"
		}
		m, err := session.NewCookieManager(secrets[0], copts)
		if err != nil {
			return nil, "", withHint(err, "check the secret and the flags")
		}
		mgr, cookieName = m, session.DefaultCookieName
		if opts.Revocations {
			app.cookies = m
		}
	case "redis":
		m, err := newRedisDemoManager(ctx, opts, base)
		if err != nil {
			return nil, "", err
		}
		mgr, cookieName, storeDesc = m, session.DefaultIDCookieName, "Redis store, prefix "+textesc.Escape(opts.Prefix)
		app.redis = m
	default:
		return nil, "", newUsageError("use --store cookie or --store redis", "unknown store %q", opts.Store)
	}
	app.cookieName, app.storeDesc = cookieName, storeDesc
	return reqlog.Handler(log, opts.Now, app.handler(mgr)), storeDesc, nil
}

// demoSecrets returns the configured secrets (the first seals, the others
// still open cookies: rotation), or a random one with a notice that
// sessions will not survive a restart.
func demoSecrets(opts *serveDemoOptions) ([]string, error) {
	secrets, err := opts.Secrets()
	if err != nil {
		return nil, err
	}
	if len(secrets) > 0 {
		if len(secrets[0]) < 16 {
			printWarning(opts.IO, "the secret is shorter than 16 bytes; generate a strong one with 'wsess keygen'")
		}
		return secrets, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("cannot make a random secret: %w", err)
	}
	printNotice(opts.IO, "no secret given ("+envKey+" or --key-file); using a random one, so sessions will not survive a restart")
	return []string{base64.RawURLEncoding.EncodeToString(b)}, nil
}

// newRedisDemoManager connects to Redis (failing fast when it is down) and
// returns a Redis manager.
func newRedisDemoManager(ctx context.Context, opts *serveDemoOptions, base session.Options) (*session.RedisManager, error) {
	rdb, err := pingRedis(ctx, opts)
	if err != nil {
		return nil, err
	}
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: base, Prefix: opts.Prefix})
	if err != nil {
		return nil, withHint(err, "check the flags")
	}
	return m, nil
}

// pingRedis returns the Redis client, failing fast when Redis is down.
func pingRedis(ctx context.Context, opts *serveDemoOptions) (redis.UniversalClient, error) {
	rdb, err := opts.RedisClient()
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		db := -1
		if c, ok := rdb.(*redis.Client); ok {
			db = c.Options().DB
		}
		var reply redis.Error
		if errors.As(err, &reply) {
			// A password, a database number: say which.
			return nil, explainRedisError(err, db)
		}
		return nil, withHint(fmt.Errorf("cannot reach Redis at %s: %w", describeRedis(rdb), err),
			"start Redis or point --redis-url / "+envRedisURL+" at it")
	}
	return rdb, nil
}

// demoApp is weppy's counter example, with login and a user's sessions.
type demoApp struct {
	store      string // "cookie" or "redis"
	storeDesc  string // for the pages' footer
	cookieName string
	redis      *session.RedisManager  // --store redis
	cookies    *session.CookieManager // --store cookie with --revocations
	now        func() time.Time
	pages      demoPages
	assets     *demoAssets
	metrics    *demoMetrics // --metrics; nil otherwise
}

// handler returns the demo: its assets as they are, every other path
// behind the session middleware mgr.
func (a *demoApp) handler(mgr sessionManager) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/style.css", a.assets)
	mux.Handle("GET /favicon.ico", a.assets)
	if a.metrics != nil {
		mux.Handle("GET /metrics", a.metrics) // outside the sessions: a scrape starts none
	}
	mux.Handle("/", mgr.Middleware(a.routes()))
	return mux
}

// routes are the demo's pages and forms. Every state change is a POST
// checked by withCSRF (the counter excepted: weppy's GET /counter counts).
func (a *demoApp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /counter", a.counter)
	mux.HandleFunc("POST /reset", a.withCSRF(a.reset))
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.withCSRF(a.login))
	mux.HandleFunc("POST /logout", a.withCSRF(a.reset))
	mux.HandleFunc("GET /sessions", a.sessions)
	mux.HandleFunc("POST /sessions/revoke", a.withCSRF(a.revoke))
	mux.HandleFunc("POST /sessions/others", a.withCSRF(a.logoutOthers))
	return a.withErrorPages(mux)
}

// counterData is the counter page's.
type counterData struct {
	Count  int64
	Origin string
}

// counter is weppy's: it counts a visit and says "This is your N visit",
// in plain text, unless the client asks for HTML (a browser), which gets
// the same sentence in a page.
func (a *demoApp) counter(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	n := s.Incr("counter", 1)
	w.Header().Set("Vary", "Accept")
	if acceptsHTML(r.Header.Get("Accept")) {
		a.render(w, http.StatusOK, "counter", a.page(r, "Counter", "counter", true, counterData{Count: n, Origin: origin(r)}))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "This is your %d visit", n)
}

// reset destroys the session (the logout too) and goes back to /.
func (a *demoApp) reset(w http.ResponseWriter, r *http.Request) {
	session.From(r.Context()).Destroy()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// indexData is the home page's.
type indexData struct {
	Count      int
	HasSession bool   // a session came with the request: there is something to reset
	Handle     string // the Redis session's handle (never its id: that is a credential)
	CookieName string
	CookieSize int // the cookie store's cookie, name and value, in bytes
	Created    time.Time
	Expires    time.Time
	Keys       []string
	Origin     string
}

// index shows the count and the session. It changes nothing, except that a
// session that came with the request gets its CSRF token (the reset form).
func (a *demoApp) index(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	d := indexData{Count: s.Int("counter"), HasSession: !s.IsNew(), Handle: s.Handle(), CookieName: a.cookieName,
		Created: s.Created(), Expires: s.Expires(), Origin: origin(r)}
	if c, err := r.Cookie(a.cookieName); err == nil && a.store == "cookie" {
		d.CookieSize = len(c.Name) + 1 + len(c.Value)
	}
	p := a.page(r, "Home", "home", d.HasSession, nil)
	d.Keys = s.Keys() // after page: the CSRF token is one
	p.Data = d
	a.render(w, http.StatusOK, "index", p)
}
