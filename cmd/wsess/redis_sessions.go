package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/pkg/session"
)

type redisSessionsOptions struct {
	IO    *IOStreams
	Now   func() time.Time
	Index func(prefix string) (*session.RedisManager, error)

	User   string
	Prefix string
	Output string // table, json, jsonl, tsv
}

// indexFunc builds, from the factory's Redis client, a RedisManager for
// the sessions under prefix: the app's own view of its per-user index.
func indexFunc(f *factory) func(prefix string) (*session.RedisManager, error) {
	return func(prefix string) (*session.RedisManager, error) {
		c, err := f.RedisClient()
		if err != nil {
			return nil, err
		}
		return session.NewRedisManager(c, session.RedisOptions{Prefix: prefix})
	}
}

func newCmdRedisSessions(f *factory, runF func(*redisSessionsOptions) error) *cobra.Command {
	opts := &redisSessionsOptions{IO: f.IOStreams, Now: f.Now, Index: indexFunc(f)}
	cmd := &cobra.Command{
		Use:   "sessions --user ID",
		Short: "List one user's sessions",
		Long: `List the sessions of one user, as pkg/session's RedisManager keeps them in
its per-user index (sessions bound to the user by Session.Login, ids hashed):
handle, created, last seen, authenticated at, expires, user agent and, when
the app records it, the client's IP.

A handle names a session without being usable as a cookie; pass it to
wsess redis revoke, or show the session with wsess redis show PREFIX+HANDLE
(wppsess:HANDLE by default). Last seen lags the last request by up to the app's
touch interval (5 minutes by default). On a terminal the output is a table;
-o json, jsonl or tsv give the rows for scripts.`,
		Example: `  wsess redis sessions --user ana
  wsess redis sessions --user ana -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.User == "" {
				return newUsageError("give the user id the app passed to Login, e.g. --user ana", "--user is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisSessionsRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.User, "user", "", "the user `id` (what the app passed to Login)")
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outJSONL, outTSV)
	return cmd
}

// sessionColumns are the columns of wsess redis sessions.
var sessionColumns = []column{
	{Name: "handle", Header: "HANDLE"},
	{Name: "created", Header: "CREATED"},
	{Name: "last_seen", Header: "LAST SEEN"},
	{Name: "auth_time", Header: "AUTH"},
	{Name: "expires", Header: "EXPIRES"},
	{Name: "ip", Header: "IP"},
	{Name: "user_agent", Header: "USER AGENT"},
}

func redisSessionsRun(cmd *cobra.Command, opts *redisSessionsOptions) error {
	ix, err := opts.Index(opts.Prefix)
	if err != nil {
		return err
	}
	infos, err := ix.UserSessions(cmd.Context(), opts.User)
	if err != nil {
		return redisError(err)
	}
	return writeSessions(opts.IO, opts.Output, infos, opts.Now())
}

// writeSessions prints a user's sessions in output's format.
func writeSessions(ios *IOStreams, output string, infos []session.Info, now time.Time) error {
	w := newRowWriter(ios, output, sessionColumns, now)
	row := make([]cell, len(sessionColumns))
	for _, in := range infos {
		row = append(row[:0],
			textCell(in.Handle).styled(styleKey),
			timeCell(in.Created),
			timeCell(in.LastSeen),
			timeCell(in.AuthTime),
			timeCell(in.Expires),
			optText(in.IP),
			optText(in.UserAgent),
		)
		if err := w.Row(row); err != nil {
			return err
		}
	}
	note := ""
	if len(infos) == 0 {
		note = "no sessions"
	}
	return w.End(note)
}

// optText is a text cell, or an empty one for "".
func optText(s string) cell {
	if s == "" {
		return cell{kind: cellEmpty}
	}
	return textCell(s)
}
