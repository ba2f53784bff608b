package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/pkg/session"
)

type redisDoctorOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Manager func() (*manager.Manager, error)

	Prefix   string
	Absolute time.Duration
	TTL      time.Duration
	RawIDs   bool
	Fix      bool
	DryRun   bool
	Yes      bool
	Rate     int
	Output   string
}

func newCmdRedisDoctor(f *factory, runF func(*redisDoctorOptions) error) *cobra.Command {
	opts := &redisDoctorOptions{IO: f.IOStreams, Now: f.Now, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "doctor [--fix]",
		Short: "Check a session store against what the library promises, and repair it",
		Long: `Walk every key of every master (SCAN, then a PTTL of each key under --prefix
or named like wsess's bookkeeping and a GET of each key under --prefix,
pipelined, two batches at a time beside the next SCAN) and check what
pkg/session promises, the way fsck checks a file system:

  not_listed         a logged-in session missing from its user's index
  listed_short       an index entry that expires before its session
  entry_gone         an index entry whose session is gone
  meta_gone          index metadata of an entry that is gone
  index_no_ttl       an index key without a TTL
  marker_no_ttl      a last-seen marker without a TTL
  key_no_ttl         a key under the prefix without a TTL
  past_lifetime      a session past its absolute lifetime (--absolute)
  tombstone_ttl      a rename tombstone past its 5-minute TTL bound
  raw_id             a key named by a raw (UUID) id while the app hashes ids
                     (a raw wsess id cannot be told from a hashed handle:
                     both are 43 characters of base64url of 32 bytes, so
                     only weppy's and Emmett's UUID ids are found)
  revocation_no_ttl  a cookie-store revocation key without a TTL

Each problem is listed with its count and a few keys. The exit status is 0
when nothing is wrong and 1 otherwise, so it can run from cron or a
monitoring check.

--fix repairs what is safe to repair on a live store: a missing or short
index entry is added or raised (never lowered), an entry whose session is
still gone is removed with its metadata, a key without a TTL gets one only
if it still has none (--ttl for sessions; the index's last entry for an
index; 5 minutes for markers and tombstones), a session past its lifetime
is unlinked and taken off its index. raw_id is reported, not repaired: only
the app can move its sessions. Fixing asks for confirmation on a terminal;
elsewhere it needs --yes. --dry-run lists what --fix would do.

--rate N walks at most N keys a second over all masters, to spare the
application's traffic; a progress line goes to stderr on a terminal.
Ctrl-C during the walk stops it with nothing reported or changed; during
--fix it finishes the batch in flight, prints what was repaired and exits
1: running it again finishes the job.`,
		Example: `  wsess redis doctor --prefix wppsess:
  wsess redis doctor --prefix wppsess: -o json
  wsess redis doctor --prefix wppsess: --fix --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Prefix == "" {
				return newUsageError("give the key prefix, e.g. --prefix "+session.DefaultPrefix, "--prefix is empty")
			}
			if opts.TTL < time.Second {
				return newUsageError("give 1s or more, e.g. --ttl 1h", "--ttl %s is shorter than a second", opts.TTL)
			}
			if opts.Rate < 0 {
				return newUsageError("give a positive number of keys a second, e.g. --rate 5000", "--rate %d is negative", opts.Rate)
			}
			if opts.DryRun && !opts.Fix {
				return newUsageError("use it with --fix", "--dry-run lists what --fix would do")
			}
			if opts.Fix && !opts.DryRun && !opts.Yes && !canPrompt(opts.IO) {
				return newUsageError("pass --yes to repair without a prompt (or --dry-run)",
					"refusing to repair the store without --yes when not on a terminal")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisDoctorRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	fl.DurationVar(&opts.Absolute, "absolute", session.DefaultAbsoluteTimeout, "the sessions' absolute lifetime (negative: none)")
	fl.DurationVar(&opts.TTL, "ttl", session.DefaultExpire, "TTL --fix gives a session key that has none")
	fl.BoolVar(&opts.RawIDs, "raw-ids", false, "the app keys sessions by their raw ids (weppy, Emmett): no raw_id problem")
	fl.BoolVar(&opts.Fix, "fix", false, "repair what is safe to repair")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "with --fix: list the repairs, change nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "repair without asking")
	fl.IntVar(&opts.Rate, "rate", 0, "walk at most `N` keys a second over all masters (0: as fast as Redis answers)")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	return cmd
}

// doctorColumns are the columns of wsess redis doctor. A table's widths
// come from every problem's name and description, not from the first row
// (which would cut the longer names that follow it).
var doctorColumns = func() []column {
	var name, what int
	for _, p := range manager.Problems {
		name, what = max(name, len(p)), max(what, len(p.Describe()))
	}
	return []column{
		{Name: "problem", Header: "PROBLEM", Width: name},
		{Name: "count", Header: "COUNT", Right: true, Width: 7},
		{Name: "description", Header: "WHAT", Width: what},
		{Name: "sample", Header: "SAMPLE"},
	}
}()

func redisDoctorRun(cmd *cobra.Command, opts *redisDoctorOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	start := opts.Now()
	prog := newProgress(opts.IO, "problems")
	// Judged by the Redis server's clock (Now zero), which its TTLs follow.
	rep, err := m.Doctor(ctx, manager.DoctorOptions{Prefix: opts.Prefix, Absolute: opts.Absolute,
		TTL: opts.TTL, HashedIDs: !opts.RawIDs, Rate: opts.Rate, Progress: prog.callback()})
	prog.clear()
	if errors.Is(err, manager.ErrInterrupted) {
		// A walk cut short cannot judge the indexes: no partial report.
		return withHint(errors.New("interrupted"), "the walk stopped before the indexes were read: nothing was reported or changed; run it again")
	}
	if err != nil {
		return redisError(err)
	}
	if err := writeDoctor(opts.IO, opts.Output, rep, start); err != nil {
		return err
	}
	found := rep.Problems()
	if found == 0 {
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "No problems in %s under %q.\n", plural(rep.Keys, "key"), opts.Prefix)
		}
		return nil
	}
	if !opts.Fix {
		return &exitError{Code: exitFailure, Msg: fmt.Sprintf("%s found under %q; run wsess redis doctor --fix to repair them",
			plural(found, "problem"), opts.Prefix)}
	}
	if opts.DryRun {
		return &exitError{Code: exitFailure, Msg: fmt.Sprintf("--fix would make %s (dry run: nothing changed)", plural(int64(rep.Repairs()), "repair"))}
	}
	if !opts.Yes {
		ok, err := confirm(opts.IO, fmt.Sprintf("Make %s to the store under %q?", plural(int64(rep.Repairs()), "repair"), opts.Prefix))
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{Code: exitFailure, Msg: "aborted: nothing was repaired"}
		}
	}
	fixProg := func(done int) {
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "\r%d of %d repairs", done, rep.Repairs())
		}
	}
	fixed, err := m.Fix(ctx, rep, fixProg)
	if opts.IO.IsStderrTTY() {
		fmt.Fprint(opts.IO.ErrOut, "\r\033[K")
	}
	interrupted := errors.Is(err, manager.ErrInterrupted)
	if err != nil && !interrupted {
		return redisError(err)
	}
	summary := "Repaired: " + fixed.String()
	if fixed.String() == "" {
		summary = "Repaired nothing"
	}
	if interrupted {
		fmt.Fprintln(opts.IO.Out, "Interrupted: "+summary)
		return walkError(err, true)
	}
	fmt.Fprintln(opts.IO.Out, summary)
	if n := rep.Findings[indexOf(manager.Problems, manager.ProblemRawID)].Count; n > 0 {
		return &exitError{Code: exitFailure, Msg: fmt.Sprintf("%s not repaired (raw_id): the app must move those sessions", plural(n, "key"))}
	}
	return nil
}

// writeDoctor prints the findings (every problem with a count, or all of
// them in JSON and TSV) in output's format.
func writeDoctor(ios *IOStreams, output string, rep *manager.DoctorReport, now time.Time) error {
	w := newRowWriter(ios, output, doctorColumns, now)
	table := isTable(ios, output)
	for _, f := range rep.Findings {
		if table && f.Count == 0 {
			continue
		}
		if err := w.Row([]cell{
			textCell(string(f.Problem)).styled(styleKey),
			intCell(f.Count, strconv.FormatInt(f.Count, 10)),
			textCell(f.Problem.Describe()),
			textCell(strings.Join(f.Sample, " ")),
		}); err != nil {
			return err
		}
	}
	note := ""
	if rep.Problems() == 0 {
		note = "no problems"
	}
	return w.End(note)
}

// indexOf is the position of p in ps (-1 when absent).
func indexOf(ps []manager.Problem, p manager.Problem) int {
	for i, x := range ps {
		if x == p {
			return i
		}
	}
	return -1
}
