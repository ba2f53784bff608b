package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

type redisRevokeOptions struct {
	IO    *IOStreams
	Index func(prefix string) (*session.RedisManager, error)
	// Exists reports which of the keys exist.
	Exists func(ctx context.Context, keys []string) ([]bool, error)

	Handles []string // the sessions to end, or none with User
	User    string
	Keep    []string
	Prefix  string
	Yes     bool
}

func newCmdRedisRevoke(f *factory, runF func(*redisRevokeOptions) error) *cobra.Command {
	opts := &redisRevokeOptions{IO: f.IOStreams, Index: indexFunc(f), Exists: existsFunc(f)}
	cmd := &cobra.Command{
		Use:   "revoke {--user ID [--keep HANDLE]... | [--] HANDLE...}",
		Short: "End one user's sessions, or sessions by handle",
		// A handle may start with "-": it is read as one, not as flags.
		Annotations: map[string]string{dashArgAnnotation: dashArgSessionID},
		Long: `End sessions stored by pkg/session's RedisManager (ids hashed): every
session of a user (--user), except those named by --keep, or the sessions
named by their handles (see wsess redis sessions; a handle may start with
"-", so put -- before the handles). A revoked session is gone
at once: its cookie gets a new, anonymous session on its next request, and a
request in flight cannot bring it back.

Revoking asks for confirmation on a terminal; elsewhere it needs --yes.`,
		ValidArgsFunction: cobra.NoFileCompletions,
		Example: `  wsess redis revoke --user ana
  wsess redis revoke --user ana --keep Qm9vZ2xlLi4u... --yes
  wsess redis revoke --yes -- -jWZzIYvPP_Ar0m7biVIyEITBQZsE7Td9tsNNa0RJro`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Handles = args
			switch {
			case opts.User == "" && len(args) == 0:
				return newUsageError("give --user ID, or the handles to revoke (wsess redis sessions lists them)", "nothing to revoke")
			case opts.User != "" && len(args) > 0:
				return newUsageError("use --user with --keep to spare sessions, or handles alone", "--user and handles cannot be combined")
			case opts.User == "" && len(opts.Keep) > 0:
				return newUsageError("--keep spares sessions of --user", "--keep needs --user")
			}
			for _, h := range append(append([]string{}, args...), opts.Keep...) {
				if len(h) != 43 || !session.ValidID(h) {
					return newUsageError("a handle is the 43-character name wsess redis sessions shows", "%q is not a session handle", textesc.Escape(h))
				}
			}
			if !opts.Yes && !canPrompt(opts.IO) {
				return newUsageError("pass --yes to revoke without a prompt", "revoking needs confirmation")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisRevokeRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.User, "user", "", "end every session of this user `id`")
	fl.StringArrayVar(&opts.Keep, "keep", nil, "spare the session with this `handle` (repeatable)")
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "revoke without asking")
	return cmd
}

func redisRevokeRun(cmd *cobra.Command, opts *redisRevokeOptions) error {
	ctx := cmd.Context()
	ix, err := opts.Index(opts.Prefix)
	if err != nil {
		return err
	}
	// Look up what would end before asking, and refuse handles that name
	// no session: "Revoked 0 sessions" would hide a mistyped handle.
	count := len(opts.Handles)
	if len(opts.Handles) > 0 {
		keys := make([]string, len(opts.Handles))
		for i, h := range opts.Handles {
			keys[i] = opts.Prefix + h
		}
		exists, err := opts.Exists(ctx, keys)
		if err != nil {
			return redisError(err)
		}
		var unknown []string
		for i, ok := range exists {
			if !ok {
				unknown = append(unknown, textesc.Escape(opts.Handles[i]))
			}
		}
		if len(unknown) > 0 {
			what := "no session has handle " + unknown[0]
			if len(unknown) > 1 {
				what = "no session has handles " + strings.Join(unknown, ", ")
			}
			return withHint(errors.New(what+" (under prefix "+textesc.Escape(opts.Prefix)+"): nothing was revoked"),
				"list them with wsess redis sessions --user ID")
		}
	} else if !opts.Yes {
		infos, err := ix.UserSessions(ctx, opts.User)
		if err != nil {
			return redisError(err)
		}
		keep := map[string]bool{}
		for _, h := range opts.Keep {
			keep[h] = true
		}
		count = 0
		for _, info := range infos {
			if !keep[info.Handle] {
				count++
			}
		}
	}
	if !opts.Yes && count > 0 {
		q := fmt.Sprintf("End %s?", plural(int64(count), "session"))
		if opts.User != "" {
			q = fmt.Sprintf("End %s of user %s", plural(int64(count), "session"), textesc.Escape(opts.User))
			if len(opts.Keep) > 0 {
				q += fmt.Sprintf(", keeping %d", len(opts.Keep))
			}
			q += "?"
		}
		ok, err := confirm(opts.IO, q)
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{Code: exitFailure, Msg: "aborted: nothing was revoked"}
		}
	}
	var n int
	if opts.User != "" {
		n, err = ix.RevokeUser(ctx, opts.User, opts.Keep...)
	} else {
		n, err = ix.Revoke(ctx, opts.Handles...)
	}
	if err != nil {
		return redisError(err)
	}
	b := outBuffer(opts.IO)
	fmt.Fprintf(b, "Revoked %s\n", plural(int64(n), "session"))
	return b.Flush()
}

// existsFunc reports which of the keys exist, one EXISTS each (the keys of
// a cluster may live on different nodes), in one round trip.
func existsFunc(f *factory) func(ctx context.Context, keys []string) ([]bool, error) {
	return func(ctx context.Context, keys []string) ([]bool, error) {
		c, err := f.RedisClient()
		if err != nil {
			return nil, err
		}
		cmds := make([]*redis.IntCmd, len(keys))
		_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Exists(ctx, k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out := make([]bool, len(keys))
		for i, c := range cmds {
			out[i] = c.Val() > 0
		}
		return out, nil
	}
}
