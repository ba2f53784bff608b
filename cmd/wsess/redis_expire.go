package main

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/pkg/session"
)

type redisExpireOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Manager func() (*manager.Manager, error)

	Prefix string
	Match  string
	In     time.Duration // new TTL; 0 with Delete
	Delete bool
	Idle   time.Duration
	DryRun bool
	Yes    bool
	Batch  int
	NoTTL  bool
	Format string // value format for --where: auto, json, pickle
	walkFlags
}

func newCmdRedisExpire(f *factory, runF func(*redisExpireOptions) error) *cobra.Command {
	opts := &redisExpireOptions{IO: f.IOStreams, Now: f.Now, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "expire --prefix PREFIX (--in DURATION | --delete)",
		Short: "Set a TTL on, or delete, the sessions under a prefix",
		Long: `Set a time to live on every key under --prefix (--in), or delete them
(--delete), in pipelined batches on every master of a cluster. --idle
limits it to keys not used for at least that long (checked and changed
atomically, key by key). --no-ttl limits it to keys that never expire
(checked and changed atomically, batch by batch), so --no-ttl --in 24h
gives a TTL to exactly the keys that have none. --where limits it to the
sessions whose decoded data (JSON or pickle) satisfy a jq expression; a
value that cannot be decoded never matches and is counted in the summary.
--dry-run counts what would change and changes nothing. --in takes 1s or more: a shorter TTL would delete the keys at
once, so wsess refuses it (exit 2) and leaves deleting to --delete.

--prefix is required: no default prefix is assumed for a destructive
command. Deleting asks for confirmation on a terminal; elsewhere it needs
--yes (without it wsess exits with status 2 and changes nothing). Progress
goes to stderr on a terminal (keys/s, share done, time left); a one-line
summary ends the run. --rate N spreads the work to at most N keys a second
over all masters, to spare the application's own traffic.

Ctrl-C (or SIGTERM) stops after the batch in flight: the summary of what
was done is printed and wsess exits with status 1. Every action is
idempotent, so running the same command again finishes the job.`,
		Example: `  wsess redis expire --prefix wppsess: --in 10m
  wsess redis expire --prefix wppsess: --delete --idle 720h --dry-run
  wsess redis expire --prefix wppsess: --delete --yes
  wsess redis expire --prefix wppsess: --no-ttl --in 24h
  wsess redis expire --prefix wppsess: --where '.auth.user.id == 42' --delete --yes
  wsess redis expire --prefix wppsess: --in 1h --rate 2000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			if !fl.Changed("prefix") || opts.Prefix == "" {
				return newUsageError("give the key prefix, e.g. --prefix "+session.DefaultPrefix, "--prefix is required")
			}
			// A TTL under a second would delete the keys at once (PEXPIRE 0
			// or a few milliseconds): that is --delete, with its
			// confirmation, not a TTL.
			if fl.Changed("in") && opts.In < time.Second {
				return newUsageError("give a TTL of 1s or more, e.g. --in 10m; to delete the keys use --delete",
					"--in %s is shorter than a second", opts.In)
			}
			if opts.Idle < 0 {
				return newUsageError("give a positive duration, e.g. --idle 24h", "--idle %s is negative", opts.Idle)
			}
			if opts.Batch < 1 || opts.Batch > 100000 {
				return newUsageError("use a value from 1 to 100000", "--batch %d is out of range", opts.Batch)
			}
			if err := opts.check(opts.IO, opts.Format); err != nil {
				return err
			}
			if opts.Delete && !opts.DryRun && !opts.Yes && !canPrompt(opts.IO) {
				return newUsageError("pass --yes to delete without a prompt (or --dry-run to count)",
					"refusing to delete keys without --yes when not on a terminal")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisExpireRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", "", "key `prefix` of the sessions (required; matched literally)")
	fl.StringVar(&opts.Match, "match", "", "extra `glob` on the rest of the key (Redis MATCH syntax)")
	fl.DurationVar(&opts.In, "in", 0, "set the TTL of every key to `DURATION`, 1s or more (e.g. 10m, 24h)")
	fl.BoolVar(&opts.Delete, "delete", false, "delete the keys")
	fl.DurationVar(&opts.Idle, "idle", 0, "only keys idle for at least `DURATION` (second resolution)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "count what would change, change nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	fl.IntVar(&opts.Batch, "batch", manager.DefaultBatch, "keys per SCAN batch and pipeline (`N`, 1 to 100000)")
	fl.BoolVar(&opts.NoTTL, "no-ttl", false, "only keys without a TTL")
	addWalkFlags(cmd, &opts.walkFlags)
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", valueFormats, "stored value format for --where")
	cmd.MarkFlagsOneRequired("in", "delete")
	cmd.MarkFlagsMutuallyExclusive("in", "delete")
	return cmd
}

// what says what the command does, for the prompt and the summary.
func (o *redisExpireOptions) what() string {
	s := fmt.Sprintf("under %s", strconv.Quote(o.Prefix))
	if o.Match != "" {
		s += fmt.Sprintf(" matching %s", strconv.Quote(o.Match))
	}
	if o.NoTTL {
		s += " without a TTL"
	}
	if o.Idle > 0 {
		s += fmt.Sprintf(", idle for %s or more", o.Idle)
	}
	if o.Where != "" {
		s += fmt.Sprintf(", where %s", strconv.Quote(o.Where))
	}
	return s
}

func redisExpireRun(cmd *cobra.Command, opts *redisExpireOptions) error {
	if opts.Delete && !opts.DryRun && !opts.Yes {
		ok, err := confirm(opts.IO, fmt.Sprintf("Delete every key %s?", opts.what()))
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{Code: exitFailure, Msg: "aborted: nothing was deleted"}
		}
	}
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	noteIdleTimes(cmd.Context(), opts.IO, m, opts.Where != "", false)
	start := opts.Now()
	verb := "changed"
	if opts.DryRun {
		verb = "matched"
	}
	prog := newProgress(opts.IO, verb)
	sum, err := m.Expire(cmd.Context(), manager.ExpireOptions{
		Prefix: opts.Prefix, Match: opts.Match, TTL: opts.In, Delete: opts.Delete, NoTTL: opts.NoTTL,
		Idle: opts.Idle, DryRun: opts.DryRun, Batch: opts.Batch, Rate: opts.Rate,
		Filter: opts.filter(), Progress: prog.callback(),
	})
	prog.clear()
	interrupted := errors.Is(err, manager.ErrInterrupted)
	if err != nil && !interrupted {
		return redisError(err)
	}
	// An interrupted run still says what it did: the batches in flight were
	// finished and counted.
	w := bufio.NewWriter(opts.IO.Out)
	fmt.Fprintln(w, expireSummary(opts, sum, opts.Now().Sub(start), interrupted))
	if err := w.Flush(); err != nil {
		return err
	}
	if interrupted {
		return walkError(err, true)
	}
	if sum.Failed > 0 {
		return &exitError{Code: exitFailure, Msg: fmt.Sprintf("%d keys could not be changed (another type, or the cluster resharded)", sum.Failed)}
	}
	return nil
}

// expireSummary is the one line that ends expire.
func expireSummary(opts *redisExpireOptions, s manager.Summary, took time.Duration, interrupted bool) string {
	var b strings.Builder
	if interrupted {
		b.WriteString("Interrupted: ")
	}
	switch {
	case opts.DryRun && opts.Delete:
		fmt.Fprintf(&b, "Would delete %s %s (dry run: nothing changed)", plural(s.Matched, "key"), opts.what())
	case opts.DryRun:
		fmt.Fprintf(&b, "Would set a TTL of %s on %s %s (dry run: nothing changed)", opts.In, plural(s.Matched, "key"), opts.what())
	case opts.Delete:
		fmt.Fprintf(&b, "Deleted %s %s", plural(s.Changed, "key"), opts.what())
	default:
		fmt.Fprintf(&b, "Set a TTL of %s on %s %s", opts.In, plural(s.Changed, "key"), opts.what())
	}
	fmt.Fprintf(&b, "; %d scanned, %d failed", s.Scanned, s.Failed)
	if opts.Where != "" {
		fmt.Fprintf(&b, ", %d undecodable, %d where errors", s.Undecodable, s.FilterErrors)
	}
	if opts.IO.IsStdoutTTY() && took > 0 {
		fmt.Fprintf(&b, " in %s", took.Round(time.Millisecond))
	}
	return b.String()
}
