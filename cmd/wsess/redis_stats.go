package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/pkg/session"
)

type redisStatsOptions struct {
	IO      *IOStreams
	Manager func() (*manager.Manager, error)

	Prefix string
	Match  string
	Output string // table, json
}

func newCmdRedisStats(f *factory, runF func(*redisStatsOptions) error) *cobra.Command {
	opts := &redisStatsOptions{IO: f.IOStreams, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count the sessions under a prefix and chart their TTLs and sizes",
		Long: `Walk the keys under --prefix (SCAN, every master, constant memory) and
print their number, total and mean size, and the distribution of their TTLs
(<1m, <10m, <1h, <6h, <1d, <7d, >=7d, none) and sizes (<64B, <256B, <1KiB,
<4KiB, <16KiB, <64KiB, >=64KiB, other: not a string) as bar charts on a
terminal, as "name<TAB>value" lines to a pipe, or as JSON with -o json.
(On Redis before 7.2, reading sizes resets the keys' idle time.)`,
		Example: `  wsess redis stats
  wsess redis stats --prefix myapp:sess: -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return redisStatsRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions (matched literally)")
	fl.StringVar(&opts.Match, "match", "", "extra `glob` on the rest of the key (Redis MATCH syntax)")
	stringEnumFlag(cmd, &opts.Output, "output", "o", "table", []string{"table", "json"}, "output")
	return cmd
}

func redisStatsRun(cmd *cobra.Command, opts *redisStatsOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	st, err := m.Stats(cmd.Context(), manager.ScanOptions{Prefix: opts.Prefix, Match: opts.Match})
	if err != nil {
		return redisError(err)
	}
	return writeStats(opts, st)
}

// statsBucketJSON is one bucket in -o json.
type statsBucketJSON struct {
	Label string `json:"label"`
	// Below is the exclusive upper bound (seconds for TTLs, bytes for
	// sizes), absent for an open-ended bucket.
	Below *int64 `json:"below,omitempty"`
	Count int64  `json:"count"`
}

type statsJSON struct {
	Prefix   string            `json:"prefix"`
	Keys     int64             `json:"keys"`
	Strings  int64             `json:"strings"`
	Bytes    int64             `json:"bytes"`
	MeanSize float64           `json:"mean_size"`
	MinSize  int64             `json:"min_size"`
	MaxSize  int64             `json:"max_size"`
	TTL      []statsBucketJSON `json:"ttl"`
	Size     []statsBucketJSON `json:"size"`
}

func bucketsJSON(bs []manager.Bucket, unit int64) []statsBucketJSON {
	out := make([]statsBucketJSON, len(bs))
	for i, b := range bs {
		out[i] = statsBucketJSON{Label: b.Label, Count: b.Count}
		if b.Upper > 0 {
			v := b.Upper / unit
			out[i].Below = &v
		}
	}
	return out
}

// barWidth is the length of the longest bar on a terminal.
const barWidth = 40

func writeStats(opts *redisStatsOptions, st manager.Stats) error {
	w := outBuffer(opts.IO)
	switch {
	case opts.Output == "json":
		doc := statsJSON{
			Prefix: opts.Prefix, Keys: st.Keys, Strings: st.Strings, Bytes: st.Bytes,
			MeanSize: float64(int64(st.MeanSize()*10+0.5)) / 10, MinSize: st.MinSize, MaxSize: st.MaxSize,
			TTL:  bucketsJSON(st.TTL, int64(time.Second)),
			Size: bucketsJSON(st.Size, 1),
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return err
		}
	case !opts.IO.IsStdoutTTY():
		fmt.Fprintf(w, "prefix\t%s\nkeys\t%d\nstrings\t%d\nbytes\t%d\nmean_size\t%.1f\nmin_size\t%d\nmax_size\t%d\n",
			escapeText(opts.Prefix), st.Keys, st.Strings, st.Bytes, st.MeanSize(), st.MinSize, st.MaxSize)
		for _, b := range st.TTL {
			fmt.Fprintf(w, "ttl.%s\t%d\n", b.Label, b.Count)
		}
		for _, b := range st.Size {
			fmt.Fprintf(w, "size.%s\t%d\n", b.Label, b.Count)
		}
	default:
		s := opts.IO.Styles()
		label := func(k, v string) {
			fmt.Fprintf(w, "%s %s\n", s.Bold.Render(fmt.Sprintf("%-10s", k)), v)
		}
		label("prefix", escapeText(strconv.Quote(opts.Prefix)))
		label("keys", strconv.FormatInt(st.Keys, 10))
		if st.Keys == 0 {
			return w.Flush()
		}
		label("total", humanSize(st.Bytes)+s.Faint.Render(fmt.Sprintf(" (%d bytes in %s)", st.Bytes, plural(st.Strings, "string"))))
		label("mean", humanSize(int64(st.MeanSize()+0.5)))
		label("range", fmt.Sprintf("%s to %s", humanSize(st.MinSize), humanSize(st.MaxSize)))
		fmt.Fprintln(w)
		writeChart(w, s, "TTL", st.TTL, st.Keys)
		fmt.Fprintln(w)
		writeChart(w, s, "Size", st.Size, st.Keys)
	}
	return w.Flush()
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
