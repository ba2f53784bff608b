package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/pkg/session"
)

type redisShowOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Manager func() (*manager.Manager, error)

	Arg    string // a session id or a whole key
	Prefix string
	Format string // auto, json, pickle
	Output string // table, json
}

func newCmdRedisShow(f *factory, runF func(*redisShowOptions) error) *cobra.Command {
	opts := &redisShowOptions{IO: f.IOStreams, Now: f.Now, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "show ID|KEY",
		Short: "Show one stored session, decoded",
		Long: `Show one session stored in Redis: its key, TTL, format, size and data.

The argument is a session id (the cookie's value), looked up under --prefix,
or a whole key that already starts with --prefix. The value is decoded as
JSON (pkg/session) or pickle (weppy, Emmett); --format forces one. Reading
it does not change its TTL.`,
		Example: `  wsess redis show 3q2-7wEjRDmXzU0sF0DRmt9Kj2J4bVq6w0yQm8m4o1g
  wsess redis show wppsess:7c9e6679-7425-40de-944b-e07fc1f90ae7 -o json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Arg = args[0]
			if opts.Arg == "" {
				return newUsageError("give a session id or a key", "the session id is empty")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisShowRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", valueFormats, "stored value format")
	stringEnumFlag(cmd, &opts.Output, "output", "o", "table", []string{"table", "json"}, "output")
	return cmd
}

// showKey is the key for a session id or a key.
func showKey(arg, prefix string) string {
	if prefix != "" && strings.HasPrefix(arg, prefix) {
		return arg
	}
	return prefix + arg
}

func redisShowRun(cmd *cobra.Command, opts *redisShowOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	key := showKey(opts.Arg, opts.Prefix)
	val, inf, err := m.Get(cmd.Context(), key)
	if errors.Is(err, manager.ErrNotFound) {
		// The key holds a session id: name the prefix, not the key.
		return withHint(fmt.Errorf("no session with that id under prefix %q", opts.Prefix),
			"check the id and --prefix (wsess redis ls lists the keys)")
	}
	if err != nil {
		if redis := redisError(err); redis != err {
			return redis
		}
		return withHint(fmt.Errorf("cannot read the session: %w", err), "the key may not hold a string value")
	}
	s, err := inspect.DecodeValue(val, opts.Format)
	if err != nil {
		hint := "the app may use a codec wsess does not know"
		if opts.Format == "auto" {
			hint = "try --format json or --format pickle; " + hint
		}
		return withHint(errors.New("the stored value cannot be decoded as a session"), hint)
	}
	now := opts.Now()
	s.Expires = expiryTime(now, inf.TTL)
	if opts.Output == "json" {
		return writeSessionJSON(opts.IO.Out, s, map[string]any{"key": key, "ttl": ttlSeconds(inf.TTL)})
	}
	b := outBuffer(opts.IO)
	st := opts.IO.Styles()
	err = renderSession(b, s, st, now, func(l labelLines) {
		l.line("key", escapeText(key), escapeText(key))
		ttl := humanTTL(inf.TTL)
		if inf.TTL < 0 {
			ttl = st.Faint.Render("none (never expires)")
		}
		l.line("ttl", ttl, strconv.FormatInt(ttlSeconds(inf.TTL), 10))
	})
	if err != nil {
		return err
	}
	return b.Flush()
}
