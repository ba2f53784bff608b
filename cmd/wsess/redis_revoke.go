package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

type redisRevokeOptions struct {
	IO    *IOStreams
	Index func(prefix string) (*session.RedisManager, error)

	Handles []string // the sessions to end, or none with User
	User    string
	Keep    []string
	Prefix  string
	Yes     bool
}

func newCmdRedisRevoke(f *factory, runF func(*redisRevokeOptions) error) *cobra.Command {
	opts := &redisRevokeOptions{IO: f.IOStreams, Index: indexFunc(f)}
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
	if !opts.Yes {
		q := fmt.Sprintf("End %d sessions?", len(opts.Handles))
		if opts.User != "" {
			q = fmt.Sprintf("End every session of user %s", textesc.Escape(opts.User))
			if len(opts.Keep) > 0 {
				q += fmt.Sprintf(" but %d", len(opts.Keep))
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
	ix, err := opts.Index(opts.Prefix)
	if err != nil {
		return err
	}
	var n int
	if opts.User != "" {
		n, err = ix.RevokeUser(cmd.Context(), opts.User, opts.Keep...)
	} else {
		n, err = ix.Revoke(cmd.Context(), opts.Handles...)
	}
	if err != nil {
		return redisError(err)
	}
	b := outBuffer(opts.IO)
	fmt.Fprintf(b, "Revoked %s\n", plural(int64(n), "session"))
	return b.Flush()
}
