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
	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

type redisStatsOptions struct {
	IO      *IOStreams
	Manager func() (*manager.Manager, error)

	Prefix string
	Match  string
	Output string // table, json, tsv (addOutputFlag)
	Top    int    // largest sessions to show
	Format string // value format for --where: auto, json, pickle
	walkFlags
}

func newCmdRedisStats(f *factory, runF func(*redisStatsOptions) error) *cobra.Command {
	opts := &redisStatsOptions{IO: f.IOStreams, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count the sessions under a prefix and chart their TTLs, sizes and idle times",
		Long: `Walk the keys under --prefix (SCAN, every master of a cluster in parallel,
constant memory) and print:

  - the number of keys, and of keys without a TTL (they never expire);
  - the value bytes (STRLEN: total, mean, range) and the memory they take
    in Redis, estimated from MEMORY USAGE asked for one string key in 100
    (total and per key);
  - the --top N largest sessions (default 10);
  - histograms of TTLs (<1m, <10m, <1h, <6h, <1d, <7d, >=7d, none), sizes
    (<64B ... >=64KiB, other: not a string) and idle times (as TTLs,
    unknown: an LFU maxmemory policy keeps none);
  - a breakdown by key prefix (up to the first ':'; --prefix '' walks the
    whole database) and, on a cluster, by master;
  - apart from the sessions, the keys pkg/session keeps for itself
    (bookkeeping): tombstones RenewID and Login leave under a session's
    old key for a few minutes, per-user index keys, last-seen markers and
    the cookie store's revocations. They are in no other count.

On a terminal as bar charts (-o table, which a pipe gets only when asked
for), elsewhere as "name<TAB>value" lines (-o tsv), or as JSON with -o json
(durations in seconds in members named *_seconds, sizes in bytes; a TTL or
idle time that is not there is left out). --where counts
only the sessions whose decoded data satisfy a jq expression (values that
cannot be decoded are counted apart); --rate N walks at most N keys a
second. Ctrl-C stops after the batch in flight, prints the statistics of
the keys seen so far and exits with status 1. (On Redis before 7.2, reading
sizes resets the keys' idle time.)`,
		Example: `  wsess redis stats
  wsess redis stats --prefix myapp:sess: -o json
  wsess redis stats --prefix '' --top 20
  wsess redis stats --where '.cart | length > 50' --rate 5000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := nonNegative("top", opts.Top); err != nil {
				return err
			}
			if opts.Top > 1000 {
				return newUsageError("use a value from 0 to 1000", "--top %d is out of range", opts.Top)
			}
			if err := opts.check(opts.IO, opts.Format); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return redisStatsRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions (matched literally; '' for every key)")
	fl.StringVar(&opts.Match, "match", "", "extra `glob` on the rest of the key (Redis MATCH syntax)")
	fl.IntVar(&opts.Top, "top", 10, "show the `N` largest sessions (0 to 1000)")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	addWalkFlags(cmd, &opts.walkFlags)
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", valueFormats, "stored value format for --where")
	return cmd
}

func redisStatsRun(cmd *cobra.Command, opts *redisStatsOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	noteIdleTimes(cmd.Context(), opts.IO, m, opts.Where != "", true)
	prog := newProgress(opts.IO, "counted")
	st, err := m.Stats(cmd.Context(), manager.ScanOptions{
		Prefix: opts.Prefix, Match: opts.Match, Top: opts.Top, Rate: opts.Rate,
		Filter: opts.filter(), Progress: prog.callback(),
	})
	prog.clear()
	interrupted := errors.Is(err, manager.ErrInterrupted)
	if err != nil && !interrupted {
		return redisError(err)
	}
	if err := writeStats(opts, st, interrupted); err != nil {
		return err
	}
	if interrupted {
		return walkError(err, false)
	}
	return nil
}

// statsBucketJSON is one bucket in -o json: its exclusive upper bound is
// in BelowSeconds for TTLs and idle times, in Below (bytes) for sizes, and
// left out for an open-ended bucket.
type statsBucketJSON struct {
	Label        string `json:"label"`
	Below        *int64 `json:"below,omitempty"`
	BelowSeconds *int64 `json:"below_seconds,omitempty"`
	Count        int64  `json:"count"`
}

// statsEntryJSON is one of the largest sessions in -o json (TTL left out
// for none, idle time when unknown).
type statsEntryJSON struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	TTL  *int64 `json:"ttl_seconds,omitempty"`
	Idle *int64 `json:"idle_seconds,omitempty"`
}

type statsJSON struct {
	Prefix       string            `json:"prefix"`
	Where        string            `json:"where,omitempty"`
	Complete     bool              `json:"complete"`
	Keys         int64             `json:"keys"`
	NoTTL        int64             `json:"no_ttl"`
	Strings      int64             `json:"strings"`
	Bytes        int64             `json:"bytes"`
	MeanSize     float64           `json:"mean_size"`
	MinSize      int64             `json:"min_size"`
	MaxSize      int64             `json:"max_size"`
	Memory       manager.Memory    `json:"memory"`
	TTL          []statsBucketJSON `json:"ttl"`
	Size         []statsBucketJSON `json:"size"`
	Idle         []statsBucketJSON `json:"idle"`
	Top          []statsEntryJSON  `json:"top"`
	Prefixes     []manager.Group   `json:"prefixes"`
	Nodes        []manager.Group   `json:"nodes,omitempty"`
	Scanned      int64             `json:"scanned"`
	Undecodable  int64             `json:"undecodable"`
	FilterErrors int64             `json:"where_errors"`
	// Bookkeeping counts wsess's own keys, which are no sessions and in
	// none of the counts above but scanned.
	Bookkeeping manager.OwnCounts `json:"bookkeeping"`
}

// bucketsJSON is bs in -o json: bounds of durations (seconds true) in
// whole seconds, bounds of sizes in bytes.
func bucketsJSON(bs []manager.Bucket, seconds bool) []statsBucketJSON {
	out := make([]statsBucketJSON, len(bs))
	for i, b := range bs {
		out[i] = statsBucketJSON{Label: b.Label, Count: b.Count}
		if b.Upper <= 0 {
			continue
		}
		v := b.Upper
		if seconds {
			v /= int64(time.Second)
			out[i].BelowSeconds = &v
		} else {
			out[i].Below = &v
		}
	}
	return out
}

// barWidth is the length of the longest bar on a terminal.
const barWidth = 40

// round1 rounds to one decimal, for JSON.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// writeStats prints st; interrupted marks statistics of part of the keys.
func writeStats(opts *redisStatsOptions, st manager.Stats, interrupted bool) error {
	w := outBuffer(opts.IO)
	mem := st.Memory
	mem.PerKey = round1(mem.PerKey)
	switch {
	case opts.Output == outJSON:
		doc := statsJSON{
			Prefix: opts.Prefix, Where: opts.Where, Complete: !interrupted,
			Keys: st.Keys, NoTTL: st.NoTTL, Strings: st.Strings, Bytes: st.Bytes,
			MeanSize: round1(st.MeanSize()), MinSize: st.MinSize, MaxSize: st.MaxSize,
			Memory:   mem,
			TTL:      bucketsJSON(st.TTL, true),
			Size:     bucketsJSON(st.Size, false),
			Idle:     bucketsJSON(st.Idle, true),
			Top:      make([]statsEntryJSON, 0, len(st.Top)),
			Prefixes: append([]manager.Group{}, st.Prefixes...),
			Nodes:    st.Nodes,
			Scanned:  st.Scanned, Undecodable: st.Undecodable, FilterErrors: st.FilterErrors,
			Bookkeeping: st.Bookkeeping,
		}
		for _, e := range st.Top {
			doc.Top = append(doc.Top, statsEntryJSON{Key: e.Key, Size: e.Size, TTL: jsonTTL(e.TTL), Idle: jsonIdle(e.Idle)})
		}
		if err := writeJSON(w, doc); err != nil {
			return err
		}
	case !isTable(opts.IO, opts.Output):
		fmt.Fprintf(w, "prefix\t%s\n", textesc.Escape(opts.Prefix))
		if opts.Where != "" {
			fmt.Fprintf(w, "where\t%s\n", textesc.Escape(opts.Where))
		}
		fmt.Fprintf(w, "complete\t%t\nkeys\t%d\nno_ttl\t%d\nstrings\t%d\nbytes\t%d\nmean_size\t%.1f\nmin_size\t%d\nmax_size\t%d\n",
			!interrupted, st.Keys, st.NoTTL, st.Strings, st.Bytes, st.MeanSize(), st.MinSize, st.MaxSize)
		fmt.Fprintf(w, "memory.sampled\t%d\nmemory.sampled_bytes\t%d\nmemory.sampled_usage\t%d\nmemory.estimated\t%d\nmemory.per_key\t%.1f\n",
			mem.Sampled, mem.SampledBytes, mem.SampledUsage, mem.Estimated, mem.PerKey)
		for _, b := range st.TTL {
			fmt.Fprintf(w, "ttl.%s\t%d\n", b.Label, b.Count)
		}
		for _, b := range st.Size {
			fmt.Fprintf(w, "size.%s\t%d\n", b.Label, b.Count)
		}
		for _, b := range st.Idle {
			fmt.Fprintf(w, "idle.%s\t%d\n", b.Label, b.Count)
		}
		// One line per group or entry: name, then its fields.
		for _, e := range st.Top {
			fmt.Fprintf(w, "top\t%s\t%d\t%d\t%d\n", textesc.Escape(e.Key), e.Size, ttlSeconds(e.TTL), idleSeconds(e.Idle))
		}
		for _, g := range st.Prefixes {
			fmt.Fprintf(w, "by_prefix\t%s\t%d\t%d\t%d\n", textesc.Escape(g.Name), g.Keys, g.NoTTL, g.Bytes)
		}
		for _, g := range st.Nodes {
			fmt.Fprintf(w, "by_master\t%s\t%d\t%d\t%d\n", textesc.Escape(g.Name), g.Keys, g.NoTTL, g.Bytes)
		}
		fmt.Fprintf(w, "scanned\t%d\n", st.Scanned)
		if opts.Where != "" {
			fmt.Fprintf(w, "undecodable\t%d\nwhere_errors\t%d\n", st.Undecodable, st.FilterErrors)
		}
		b := st.Bookkeeping
		fmt.Fprintf(w, "bookkeeping.tombstones\t%d\nbookkeeping.index_keys\t%d\nbookkeeping.markers\t%d\nbookkeeping.revocations\t%d\n",
			b.Tombstones, b.IndexKeys, b.Markers, b.Revocations)
	default:
		writeStatsTable(w, opts, st, mem, interrupted)
	}
	return w.Flush()
}

// writeStatsTable draws the statistics for people.
func writeStatsTable(w *bufio.Writer, opts *redisStatsOptions, st manager.Stats, mem manager.Memory, interrupted bool) {
	s := opts.IO.Styles()
	label := func(k, v string) {
		fmt.Fprintf(w, "%s %s\n", s.Bold.Render(fmt.Sprintf("%-10s", k)), v)
	}
	if interrupted {
		fmt.Fprintln(w, s.Warning.Render("interrupted: the keys seen so far"))
	}
	label("prefix", textesc.Escape(strconv.Quote(opts.Prefix)))
	if opts.Where != "" {
		label("where", textesc.Escape(opts.Where)+s.Faint.Render(fmt.Sprintf(" (%d of %d scanned; %s)",
			st.Keys, st.Scanned, orNone(filterNote(st.Undecodable, st.FilterErrors)))))
	}
	label("keys", strconv.FormatInt(st.Keys, 10))
	if n := st.Bookkeeping.Total(); n > 0 {
		label("wsess keys", bookkeepingText(st.Bookkeeping)+s.Faint.Render(" (bookkeeping, not sessions: counted apart)"))
	}
	if st.Keys == 0 {
		return
	}
	noTTL := fmt.Sprintf("%d", st.NoTTL)
	if st.NoTTL > 0 {
		noTTL = s.Warning.Render(noTTL) + s.Faint.Render(" (never expire: wsess redis expire --no-ttl --in 24h)")
	}
	label("no TTL", noTTL)
	label("total", humanSize(st.Bytes)+s.Faint.Render(fmt.Sprintf(" (%d bytes in %s)", st.Bytes, plural(st.Strings, "string"))))
	label("mean", humanSize(int64(st.MeanSize()+0.5)))
	label("range", fmt.Sprintf("%s to %s", humanSize(st.MinSize), humanSize(st.MaxSize)))
	if mem.Sampled > 0 {
		label("memory", fmt.Sprintf("%s, %s a key", humanSize(mem.Estimated), humanSize(int64(mem.PerKey+0.5)))+
			s.Faint.Render(fmt.Sprintf(" (estimated from MEMORY USAGE of %s)", plural(mem.Sampled, "key"))))
	}
	fmt.Fprintln(w)
	writeChart(w, s, "TTL", st.TTL, st.Keys)
	fmt.Fprintln(w)
	writeChart(w, s, "Size", st.Size, st.Keys)
	fmt.Fprintln(w)
	writeChart(w, s, "Idle", st.Idle, st.Keys)
	if len(st.Top) > 0 {
		fmt.Fprintln(w)
		w.WriteString(s.Heading.Render(fmt.Sprintf("Largest %d", len(st.Top))) + "\n")
		for _, e := range st.Top {
			fmt.Fprintf(w, "  %10s  %s%s\n", humanSize(e.Size), s.Key.Render(textesc.Escape(e.Key)),
				s.Faint.Render(fmt.Sprintf("  ttl %s, idle %s", humanTTL(e.TTL), humanIdle(e.Idle))))
		}
	}
	writeGroups(w, s, "Prefixes", st.Prefixes)
	writeGroups(w, s, "Masters", st.Nodes)
}

// bookkeepingText lists the counts of wsess's own keys that are not zero:
// "2 tombstones, 2 index keys".
func bookkeepingText(b manager.OwnCounts) string {
	var parts []string
	for _, c := range []struct {
		n    int64
		what string
	}{{b.Tombstones, "tombstone"}, {b.IndexKeys, "index key"}, {b.Markers, "last-seen marker"}, {b.Revocations, "revocation"}} {
		if c.n > 0 {
			parts = append(parts, plural(c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}

// orNone is s, or what says there was nothing to note.
func orNone(s string) string {
	if s == "" {
		return "every value decoded"
	}
	return s
}

// writeGroups draws a breakdown (by prefix or by master) as a small table.
func writeGroups(w *bufio.Writer, s *styles, title string, gs []manager.Group) {
	if len(gs) == 0 {
		return
	}
	width := 6
	for _, g := range gs {
		width = max(width, cellWidth(textesc.Escape(g.Name)))
	}
	fmt.Fprintln(w)
	w.WriteString(s.Heading.Render(title) + "\n")
	w.WriteString(s.Faint.Render(fmt.Sprintf("  %s %10s %10s %12s", padCells("", width, false), "keys", "no TTL", "bytes")) + "\n")
	for _, g := range gs {
		fmt.Fprintf(w, "  %s %10d %10d %12s\n", padCells(textesc.Escape(g.Name), width, false), g.Keys, g.NoTTL, humanSize(g.Bytes))
	}
}

// writeChart draws one histogram as horizontal bars scaled to the largest
// bucket, each with its count and share of total.
func writeChart(w interface{ WriteString(string) (int, error) }, s *styles, title string, bs []manager.Bucket, total int64) {
	var top int64
	for _, b := range bs {
		top = max(top, b.Count)
	}
	w.WriteString(s.Heading.Render(title) + "\n")
	for _, b := range bs {
		n := 0
		if top > 0 {
			n = int((b.Count*barWidth + top - 1) / top) // any key shows at least one cell
		}
		bar := strings.Repeat(" ", barWidth-n)
		if n > 0 {
			bar = s.Success.Render(strings.Repeat("█", n)) + bar
		}
		pct := 100 * float64(b.Count) / float64(total)
		w.WriteString(fmt.Sprintf("  %-8s %s %8d %s\n", b.Label, bar, b.Count, s.Faint.Render(fmt.Sprintf("%5.1f%%", pct))))
	}
}
