package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/jsonstr"
	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/pkg/session"
)

type redisLsOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Manager func() (*manager.Manager, error)

	Prefix   string
	Match    string
	Limit    int
	Decode   bool
	Format   string // value format for --decode: auto, json, pickle
	KeysOnly bool
	Output   string // table, json, jsonl, tsv (addOutputFlag)
	walkFlags
}

// valueFormats are the stored value formats inspect knows.
var valueFormats = []string{"auto", "json", "pickle"}

func newCmdRedisLs(f *factory, runF func(*redisLsOptions) error) *cobra.Command {
	opts := &redisLsOptions{IO: f.IOStreams, Now: f.Now, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "Stream the sessions under a prefix",
		Long: `List the keys under --prefix with their TTL, size and idle time, as they
are found (SCAN, every master of a cluster, constant memory; the order is
Redis's). --decode adds a one-line preview of each session's data.

On a terminal the rows form a table (-o table, which a pipe gets only when
asked for); elsewhere they are tab-separated with no header (-o tsv): key,
TTL in seconds (-1: none), size in bytes (-1: not a string), idle seconds
(-1: unknown), expiry time (RFC 3339, empty for none) and, with --decode,
the preview. -o json prints one JSON array, -o jsonl one JSON object a
line: key, ttl_seconds, size, idle_seconds, expires and type, each left out
when there is none; with --decode also format and data, and the library's
own values out of data (created, auth_time, user, generation,
idle_timeout_seconds, absolute_deadline, absolute_deadline_assumed, as
redis show gives them). On a terminal the preview is cut to the terminal's
width; it shows the app's keys, then user, login and creation times.

The keys pkg/session keeps for itself are no sessions: --decode says what
each is (a tombstone RenewID or Login left under a session's old key, a
user's index, a last-seen marker, a revocation), and --where never
selects them nor counts them as undecodable.

Listing never changes a TTL. Without --decode or --where it leaves idle
times alone too (expire --idle selects on them): before Redis 7.2, where
no CLIENT NO-TOUCH keeps reading a length from resetting them, the size
shown is MEMORY USAGE (key and overhead included). There --decode and
--where, which read the values, do reset them. A notice says which.
--keys-only reads nothing but the keys.

--where EXPR lists only the sessions whose decoded data (JSON or pickle,
as --format says) satisfy a jq expression; values that cannot be decoded
never match and are counted in the table's last line (elsewhere on stderr).
--rate N walks at most N keys a second over all masters. When stdout is not
a terminal and stderr is, a progress line (keys/s, time left) is drawn on
stderr. Ctrl-C stops after the batch in flight; the rows so far stay
printed and wsess exits with status 1.`,
		Example: `  wsess redis ls
  wsess redis ls --prefix myapp:sess: --decode --limit 20
  wsess redis ls -o jsonl | jq -r 'select(.idle_seconds > 86400) | .key'
  wsess redis ls --keys-only | wc -l
  wsess redis ls --where '.auth.user.id == 42'
  wsess redis ls --where '.cart | length > 50' -o jsonl --rate 5000 > big-carts.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := nonNegative("limit", opts.Limit); err != nil {
				return err
			}
			if opts.KeysOnly && opts.Where != "" {
				return newUsageError("drop --keys-only: --where reads every value", "--where and --keys-only exclude each other")
			}
			if err := opts.check(opts.IO, opts.Format); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return redisLsRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions (matched literally)")
	fl.StringVar(&opts.Match, "match", "", "extra `glob` on the rest of the key (Redis MATCH syntax)")
	fl.IntVar(&opts.Limit, "limit", 0, "stop after `N` keys (0: no limit)")
	fl.BoolVar(&opts.Decode, "decode", false, "decode each value and show a preview of its data")
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", valueFormats, "stored value format for --decode and --where")
	fl.BoolVar(&opts.KeysOnly, "keys-only", false, "print the keys only (no TTL, size or idle: fastest)")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outJSONL, outTSV)
	addWalkFlags(cmd, &opts.walkFlags)
	cmd.MarkFlagsMutuallyExclusive("keys-only", "decode")
	return cmd
}

// errLimit stops a walk once --limit rows are out.
var errLimit = errors.New("limit reached")

func redisLsRun(cmd *cobra.Command, opts *redisLsOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	w := newLsWriter(opts)
	ctx := cmd.Context()
	noteIdleTimes(ctx, opts.IO, m, opts.Decode || opts.Where != "", !opts.KeysOnly)
	var counts filterCounts
	scan := manager.ScanOptions{Prefix: opts.Prefix, Match: opts.Match, Values: opts.Decode,
		Filter: counts.wrap(opts.filter()), Rate: opts.Rate}
	// The progress line shares the terminal with the rows only when they
	// go elsewhere.
	var prog *progressLine
	if !opts.IO.IsStdoutTTY() {
		prog = newProgress(opts.IO, "listed")
	}
	if opts.KeysOnly {
		var scanned int64
		start := time.Now()
		err = m.Scan(ctx, scan, func(keys []string) error {
			for _, k := range keys {
				if err := w.row(manager.Info{Key: k}); err != nil {
					return err
				}
			}
			scanned += int64(len(keys))
			if prog != nil {
				prog.update(manager.Progress{Summary: manager.Summary{Scanned: scanned, Matched: scanned}, Elapsed: time.Since(start)})
			}
			return w.out.Batch()
		})
	} else {
		scan.Progress = prog.callback()
		err = m.List(ctx, scan, func(infos []manager.Info) error {
			for _, inf := range infos {
				if err := w.row(inf); err != nil {
					return err
				}
			}
			return w.out.Batch()
		})
	}
	prog.clear()
	w.filtered = filterNote(counts.undecodable.Load(), counts.errs.Load())
	interrupted := errors.Is(err, manager.ErrInterrupted)
	if err != nil && !errors.Is(err, errLimit) && !interrupted {
		_ = w.out.End("")
		return redisError(err)
	}
	if err := w.end(errors.Is(err, errLimit), interrupted); err != nil {
		return err
	}
	if w.filtered != "" && !w.table {
		printNotice(opts.IO, "--where: "+w.filtered)
	}
	if interrupted {
		return walkError(err, false)
	}
	return nil
}

// The columns of redis ls, and those of --keys-only. A table shows the TTL,
// size and idle time for people; TSV and JSON give them in seconds and
// bytes, with the expiry time; -o json has the decoded data where the
// others have the preview.
var (
	lsKeyColumns = []column{{Name: "key", Header: "KEY"}}
	lsColumns    = []column{
		{Name: "key", Header: "KEY"},
		{Name: "ttl_seconds", Header: "TTL", Right: true, Width: 9},
		{Name: "size", Header: "SIZE", Right: true, Width: 10},
		{Name: "idle_seconds", Header: "IDLE", Right: true, Width: 8},
		{Name: "expires"},
		{Name: "type", NoTSV: true},
	}
	lsDecodeColumns = append(lsColumns[:len(lsColumns):len(lsColumns)],
		column{Header: "PREVIEW", Fill: true},
		column{Name: "error", NoTSV: true},
		column{Name: "format", NoTSV: true},
		column{Name: "data", NoTSV: true},
		// The library's own values, out of "data" (see sessionJSON).
		column{Name: "created", NoTSV: true},
		column{Name: "auth_time", NoTSV: true},
		column{Name: "user", NoTSV: true},
		column{Name: "generation", NoTSV: true},
		column{Name: "idle_timeout_seconds", NoTSV: true},
		column{Name: "absolute_deadline", NoTSV: true},
		column{Name: "absolute_deadline_assumed", NoTSV: true},
		// One of wsess's own keys (not a session): its kind and the key
		// it is about.
		column{Name: "bookkeeping", NoTSV: true},
		column{Name: "target", NoTSV: true},
	)
)

// lsWriter turns listed keys into rows.
type lsWriter struct {
	opts  *redisLsOptions
	out   rowWriter
	now   time.Time
	table bool // a table for people (see isTable)
	cells []cell
	n     int // rows written
	// filtered is filterNote's text for --where, set before end.
	filtered string
}

func newLsWriter(opts *redisLsOptions) *lsWriter {
	cols := lsColumns
	switch {
	case opts.KeysOnly:
		cols = lsKeyColumns
	case opts.Decode:
		cols = lsDecodeColumns
	}
	now := opts.Now()
	return &lsWriter{opts: opts, out: newRowWriter(opts.IO, opts.Output, cols, now), now: now, table: isTable(opts.IO, opts.Output)}
}

func (w *lsWriter) row(inf manager.Info) error {
	if w.opts.Limit > 0 && w.n >= w.opts.Limit {
		return errLimit
	}
	w.n++
	c := append(w.cells[:0], textCell(inf.Key).styled(styleKey))
	if !w.opts.KeysOnly {
		// The texts for people are made for a table only: a pipe of a
		// million rows does not format what it does not print.
		var hTTL, hSize, hIdle string
		if w.table {
			hTTL, hSize, hIdle = humanTTL(inf.TTL), humanSize(inf.Size), humanIdle(inf.Idle)
		}
		ttl := optIntCell(ttlSeconds(inf.TTL), hTTL, inf.TTL >= 0)
		if inf.TTL < 0 {
			ttl = ttl.styled(styleFaint)
		}
		typ := cell{}
		if inf.Type != "" {
			typ = textCell(inf.Type)
		}
		c = append(c, ttl,
			optIntCell(inf.Size, hSize, inf.Size >= 0),
			optIntCell(idleSeconds(inf.Idle), hIdle, inf.Idle >= 0),
			timeCell(expiryTime(w.now, inf.TTL)),
			typ)
	}
	if w.opts.Decode {
		if inf.Own.Kind != "" {
			// Not a session: the row says what it is.
			c = append(c, textCell("("+ownText(inf.Own)+")").styled(styleFaint), cell{}, cell{}, cell{})
			c = append(c, noMeta[:]...)
			c = append(c, textCell(string(inf.Own.Kind)), optText(inf.Own.Target))
		} else if s, err := w.decode(inf); err != nil {
			c = append(c, textCell("("+err.Error()+")"), textCell(err.Error()), cell{}, cell{})
			c = append(c, noMeta[:]...)
			c = append(c, cell{}, cell{})
		} else {
			data := s.Data
			if data == nil {
				data = map[string]any{}
			}
			raw, err := marshalJSON(data)
			if err != nil {
				return err
			}
			// A table cuts the preview to the terminal's width (the
			// column's Fill); a pipe gets it whole.
			width := 0
			if w.table {
				width = w.opts.IO.TerminalWidth()
			}
			c = append(c, textCell(previewSession(s, width, w.table, w.now)), cell{}, textCell(s.Format), jsonCell(raw))
			c = append(c, metaCells(s)...)
			c = append(c, cell{}, cell{})
		}
	}
	w.cells = c
	return w.out.Row(c)
}

// noMeta are metaCells for a row that is no decoded session.
var noMeta [7]cell

// metaCells are the cells of the library's own values (the columns
// created ... absolute_deadline_assumed).
func metaCells(s *inspect.Session) []cell {
	c := make([]cell, 0, len(noMeta))
	c = append(c, timeCell(s.Created))
	if s.AuthTime.IsZero() {
		c = append(c, cell{})
	} else {
		c = append(c, textCell(s.AuthTime.UTC().Format(time.RFC3339Nano)))
	}
	c = append(c, optText(s.User))
	if s.Generation != nil {
		c = append(c, intCell(*s.Generation, ""))
	} else {
		c = append(c, cell{})
	}
	if s.IdleTimeout > 0 {
		c = append(c, jsonCell([]byte(strconv.FormatFloat(s.IdleTimeout.Seconds(), 'f', -1, 64))))
	} else {
		c = append(c, cell{})
	}
	c = append(c, timeCell(s.AbsoluteDeadline))
	if s.AbsoluteAssumed {
		c = append(c, jsonCell([]byte("true")))
	} else {
		c = append(c, cell{})
	}
	return c
}

// decode decodes a listed value.
func (w *lsWriter) decode(inf manager.Info) (*inspect.Session, error) {
	if inf.Type != "string" {
		return nil, fmt.Errorf("not a string but a %s", inf.Type)
	}
	s, err := inspect.DecodeValue(inf.Value, w.opts.Format)
	if err != nil {
		return nil, errors.New("cannot decode the value as a session")
	}
	return s, nil
}

func (w *lsWriter) end(limited, interrupted bool) error {
	note := plural(int64(w.n), "key")
	if w.n == 0 {
		note = "no keys under " + strconv.Quote(w.opts.Prefix)
		if w.opts.Where != "" {
			note = "no sessions under " + strconv.Quote(w.opts.Prefix) + " where " + strconv.Quote(w.opts.Where)
		}
	}
	switch {
	case limited:
		note += " (--limit reached)"
	case interrupted:
		note += " (interrupted)"
	}
	if w.filtered != "" {
		note += "; " + w.filtered
	}
	return w.out.End(note)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does without HTML escaping (invalid UTF-8 becomes U+FFFD).
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s, false) }
