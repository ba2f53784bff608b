package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/jsonstr"
	"github.com/wsess/wsess/internal/manager"
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
	Output   string // table, json, jsonl, tsv
}

var lsOutputs = []string{"table", "json", "jsonl", "tsv"}

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

On a terminal the rows form a table; to a pipe they are tab-separated with
no header: key, TTL in seconds (-1: none), size in bytes, idle seconds,
expiry time (RFC 3339, empty for none) and, with --decode, the preview.
-o json prints one JSON array, -o jsonl one JSON object a line.

Listing never changes a TTL. On Redis 7.2 and later it leaves idle times
alone too; on older servers reading a size counts as an access, so the idle
times shown are right but the next listing (or expire --idle) sees 0s.
--keys-only reads nothing but the keys.`,
		Example: `  wsess redis ls
  wsess redis ls --prefix myapp:sess: --decode --limit 20
  wsess redis ls -o jsonl | jq -r 'select(.idle > 86400) | .key'
  wsess redis ls --keys-only | wc -l`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.Output, lsOutputs...); err != nil {
				return err
			}
			if err := nonNegative("limit", opts.Limit); err != nil {
				return err
			}
			if !contains(valueFormats, opts.Format) {
				return newUsageError("use auto, json or pickle", "unknown --format %q", opts.Format)
			}
			if opts.KeysOnly && opts.Decode {
				return newUsageError("use one of them", "--keys-only and --decode cannot be combined")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisLsRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", defaultPrefix, "key `prefix` of the sessions (matched literally)")
	fl.StringVar(&opts.Match, "match", "", "extra `glob` on the rest of the key (Redis MATCH syntax)")
	fl.IntVar(&opts.Limit, "limit", 0, "stop after `N` keys (0: no limit)")
	fl.BoolVar(&opts.Decode, "decode", false, "decode each value and show a preview of its data")
	fl.StringVar(&opts.Format, "format", "auto", "stored value format for --decode: auto, json or pickle")
	fl.BoolVar(&opts.KeysOnly, "keys-only", false, "print the keys only (no TTL, size or idle: fastest)")
	fl.StringVarP(&opts.Output, "output", "o", "table", "output: table, json, jsonl or tsv")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(lsOutputs, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(valueFormats, cobra.ShellCompDirectiveNoFileComp))
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
	if err := w.begin(); err != nil {
		return err
	}
	ctx := cmd.Context()
	scan := manager.ScanOptions{Prefix: opts.Prefix, Match: opts.Match, Values: opts.Decode}
	if opts.KeysOnly {
		err = m.Scan(ctx, scan, func(keys []string) error {
			for _, k := range keys {
				if err := w.row(manager.Info{Key: k}); err != nil {
					return err
				}
			}
			return w.flushBatch()
		})
	} else {
		err = m.List(ctx, scan, func(infos []manager.Info) error {
			for _, inf := range infos {
				if err := w.row(inf); err != nil {
					return err
				}
			}
			return w.flushBatch()
		})
	}
	if err != nil && !errors.Is(err, errLimit) {
		_ = w.w.Flush()
		return redisError(err)
	}
	return w.end(errors.Is(err, errLimit))
}

// lsWriter writes rows as they come, in one of the output modes.
type lsWriter struct {
	opts *redisLsOptions
	w    *bufio.Writer
	mode string // table (a terminal), tsv, json, jsonl
	st   *styles
	now  time.Time
	// scratch is reused to build each row.
	scratch []byte

	n        int // rows written
	keyWidth int // fixed from the first row on a terminal
}

func newLsWriter(opts *redisLsOptions) *lsWriter {
	w := &lsWriter{opts: opts, w: outBuffer(opts.IO), mode: opts.Output, now: opts.Now()}
	if w.mode == "table" && !opts.IO.IsStdoutTTY() {
		w.mode = "tsv"
	}
	w.st = opts.IO.Styles()
	return w
}

func (w *lsWriter) begin() error {
	if w.mode == "json" {
		_, err := w.w.WriteString("[")
		return err
	}
	return nil
}

// previewWidth is the width of the preview column on a terminal.
const previewWidth = 60

func (w *lsWriter) row(inf manager.Info) error {
	if w.opts.Limit > 0 && w.n >= w.opts.Limit {
		return errLimit
	}
	w.n++
	keysOnly := w.opts.KeysOnly
	switch w.mode {
	case "json", "jsonl":
		if w.mode == "json" {
			sep := ",\n"
			if w.n == 1 {
				sep = "\n"
			}
			if _, err := w.w.WriteString(sep); err != nil {
				return err
			}
		}
		b := w.scratch[:0]
		b = append(b, `{"key":`...)
		b = appendJSONString(b, inf.Key)
		if !keysOnly {
			b = append(b, `,"ttl":`...)
			b = strconv.AppendInt(b, ttlSeconds(inf.TTL), 10)
			if inf.TTL >= 0 {
				b = append(b, `,"expires":"`...)
				b = append(b, expiresAt(w.now, inf.TTL)...)
				b = append(b, '"')
			}
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, inf.Size, 10)
			b = append(b, `,"idle":`...)
			b = strconv.AppendInt(b, idleSeconds(inf.Idle), 10)
			if inf.Type != "" {
				b = append(b, `,"type":`...)
				b = appendJSONString(b, inf.Type)
			}
		}
		if w.opts.Decode {
			s, err := w.decode(inf)
			if err != nil {
				b = append(b, `,"error":`...)
				b = appendJSONString(b, err.Error())
			} else {
				data := s.Data
				if data == nil {
					data = map[string]any{}
				}
				raw, err := marshalJSON(data)
				if err != nil {
					return err
				}
				b = append(b, `,"format":`...)
				b = appendJSONString(b, s.Format)
				b = append(b, `,"data":`...)
				b = append(b, raw...)
			}
		}
		b = append(b, '}')
		if w.mode == "jsonl" {
			b = append(b, '\n')
		}
		w.scratch = b
		_, err := w.w.Write(b)
		return err
	case "tsv":
		b := append(w.scratch[:0], tsvField(inf.Key)...)
		if !keysOnly {
			b = append(b, '\t')
			b = strconv.AppendInt(b, ttlSeconds(inf.TTL), 10)
			b = append(b, '\t')
			b = strconv.AppendInt(b, inf.Size, 10)
			b = append(b, '\t')
			b = strconv.AppendInt(b, idleSeconds(inf.Idle), 10)
			b = append(b, '\t')
			b = append(b, expiresAt(w.now, inf.TTL)...)
			if w.opts.Decode {
				b = append(b, '\t')
				b = append(b, tsvField(w.preview(inf))...)
			}
		}
		b = append(b, '\n')
		w.scratch = b
		_, err := w.w.Write(b)
		return err
	}
	// A terminal: fixed-width columns, widths settled by the first row.
	key := tsvField(inf.Key)
	if keysOnly {
		w.w.WriteString(key)
		return w.w.WriteByte('\n')
	}
	if w.n == 1 {
		w.keyWidth = max(utf8.RuneCountInString(key)+2, len("KEY"))
		w.keyWidth = min(w.keyWidth, 80)
		head := fmt.Sprintf("%-*s  %9s  %10s  %8s", w.keyWidth, "KEY", "TTL", "SIZE", "IDLE")
		if w.opts.Decode {
			head += "  PREVIEW"
		}
		w.w.WriteString(w.st.Heading.Render(head))
		w.w.WriteByte('\n')
	}
	ttl := fmt.Sprintf("%9s", humanTTL(inf.TTL))
	if inf.TTL < 0 {
		ttl = w.st.Faint.Render(ttl)
	}
	fmt.Fprintf(w.w, "%s  %s  %10s  %8s", w.st.Key.Render(padRight(key, w.keyWidth)), ttl, humanSize(inf.Size), humanIdle(inf.Idle))
	if w.opts.Decode {
		w.w.WriteString("  ")
		w.w.WriteString(tsvField(w.preview(inf)))
	}
	return w.w.WriteByte('\n')
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

// preview is the one-line summary of a listed value.
func (w *lsWriter) preview(inf manager.Info) string {
	s, err := w.decode(inf)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	max := 0
	if w.mode == "table" {
		max = previewWidth
	}
	return inspect.Preview(s.Data, max)
}

// flushBatch pushes a batch of rows out on a terminal, so that rows appear
// as they are found; to a pipe the buffer fills first.
func (w *lsWriter) flushBatch() error {
	if w.mode == "table" {
		return w.w.Flush()
	}
	return nil
}

func (w *lsWriter) end(limited bool) error {
	switch w.mode {
	case "json":
		if w.n > 0 {
			w.w.WriteString("\n")
		}
		w.w.WriteString("]\n")
	case "table":
		note := fmt.Sprintf("%d keys", w.n)
		if w.n == 1 {
			note = "1 key"
		}
		if limited {
			note += " (--limit reached)"
		}
		if w.n == 0 {
			note = "no keys under " + strconv.Quote(w.opts.Prefix)
		}
		w.w.WriteString(w.st.Faint.Render(note))
		w.w.WriteByte('\n')
	}
	return w.w.Flush()
}

// tsvField keeps a value on one line and in one column.
var tsvReplacer = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`)

func tsvField(s string) string { return tsvReplacer.Replace(s) }

// padRight pads s with spaces to width cells, or cuts it with "…".
func padRight(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n > width {
		r := []rune(s)
		return string(r[:width-1]) + "…"
	}
	return s + strings.Repeat(" ", width-n)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does without HTML escaping (invalid UTF-8 becomes U+FFFD).
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s, false) }

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
