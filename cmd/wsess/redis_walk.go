package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/internal/where"
)

// This file holds what the commands that walk keys (redis ls, expire and
// stats) share: --where and --rate, the progress line, and how an
// interrupted walk ends.

// walkFlags are --where and --rate.
type walkFlags struct {
	// Where is the jq expression of --where ("" selects every key).
	Where string
	// Rate is --rate: keys per second over all masters, 0 for no limit.
	Rate int
	// expr is Where compiled (nil without --where).
	expr *where.Expr
}

// addWalkFlags registers --where and --rate on cmd.
func addWalkFlags(cmd *cobra.Command, w *walkFlags) {
	fl := cmd.Flags()
	fl.StringVar(&w.Where, "where", "", "only sessions whose decoded data satisfy the jq `EXPR` (e.g. '.auth.user.id == 42')")
	fl.IntVar(&w.Rate, "rate", 0, "walk at most `N` keys per second over all masters (0: as fast as Redis answers)")
}

// check validates --rate and compiles --where once, for values of format
// (auto, json, pickle). A bad expression prints the reason and the
// expression with a caret under the position on stderr, and returns a
// usage error (exit 2) that prints nothing more.
func (w *walkFlags) check(ios *IOStreams, format string) error {
	if w.Rate < 0 {
		return newUsageError("give a positive number of keys per second, e.g. --rate 2000", "--rate %d is negative", w.Rate)
	}
	if w.Where == "" {
		return nil
	}
	expr, err := where.Compile(w.Where)
	var se *where.SyntaxError
	if errors.As(err, &se) {
		printError(ios.ErrOut, fmt.Sprintf("--where: invalid expression at position %d: %s; see https://jqlang.org/manual/ for the syntax", se.Offset+1, se.Msg))
		fmt.Fprint(ios.ErrOut, whereCaret(se))
		return &exitError{Code: exitUsage}
	}
	if err != nil {
		return newUsageError("see https://jqlang.org/manual/ for the syntax", "--where: %w", err)
	}
	if format != "auto" {
		expr.Format = format
	}
	w.expr = expr
	return nil
}

// whereCaret draws the expression and a caret under the byte where it went
// wrong, both indented by two spaces, counted in display cells of the
// escaped text (a tab or a newline in the expression shows as a space).
func whereCaret(se *where.SyntaxError) string {
	flat := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(se.Expr)
	off := min(max(se.Offset, 0), len(flat))
	pad := cellWidth(textesc.Escape(flat[:off]))
	return "  " + textesc.Escape(flat) + "\n  " + strings.Repeat(" ", pad) + "^\n"
}

// filter is the manager.Filter of --where (nil without it).
func (w *walkFlags) filter() manager.Filter {
	if w.expr == nil {
		return nil
	}
	return w.expr.Verdict
}

// filterCounts wraps a filter to count what it could not judge, for
// walks that return no Summary (List). It is safe for concurrent use.
type filterCounts struct {
	undecodable, errs atomic.Int64
}

func (c *filterCounts) wrap(f manager.Filter) manager.Filter {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, key string, value []byte) manager.Verdict {
		v := f(ctx, key, value)
		switch v {
		case manager.VerdictUndecodable:
			c.undecodable.Add(1)
		case manager.VerdictError:
			c.errs.Add(1)
		}
		return v
	}
}

// filterNote says how many values --where could not judge, or "" when
// there were none.
func filterNote(undecodable, errs int64) string {
	var parts []string
	if undecodable > 0 {
		parts = append(parts, fmt.Sprintf("%d undecodable", undecodable))
	}
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%d where errors", errs))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " (never matched)"
}

// walkError ends a walk stopped by Ctrl-C (SIGINT) or SIGTERM after the
// command printed what it did so far: exit 1 (wsess keeps its three exit
// codes), and, with rerun, the advice that running the same command again
// finishes the job. Other errors become their line for people (redisError).
func walkError(err error, rerun bool) error {
	if errors.Is(err, manager.ErrInterrupted) {
		hint := "the batch in flight was finished, nothing after it was started"
		if rerun {
			hint += "; run the same command again to finish the job"
		}
		return withHint(errors.New("interrupted"), hint)
	}
	return redisError(err)
}

// progressLine redraws one line on a terminal's stderr, at most ten times
// a second: keys scanned and acted on, the rate and, when it can be
// estimated, how far the walk is and the time left.
type progressLine struct {
	ios   *IOStreams
	verb  string // what Matched or Changed counts: "changed", "matched", "listed"
	last  time.Duration
	shown bool
}

// newProgress returns a progress line when stderr is a terminal, nil
// otherwise.
func newProgress(ios *IOStreams, verb string) *progressLine {
	if !ios.IsStderrTTY() {
		return nil
	}
	return &progressLine{ios: ios, verb: verb}
}

// callback is the manager's Progress callback (nil for a nil line).
func (p *progressLine) callback() func(manager.Progress) {
	if p == nil {
		return nil
	}
	return p.update
}

func (p *progressLine) update(pr manager.Progress) {
	if p.shown && pr.Elapsed-p.last < 100*time.Millisecond {
		return
	}
	p.last, p.shown = pr.Elapsed, true
	fmt.Fprintf(p.ios.ErrOut, "\r\x1b[K%s", p.ios.StderrStyles().Faint.Render(progressText(pr, p.verb)))
}

// progressText is the text of a progress line.
func progressText(pr manager.Progress, verb string) string {
	n := pr.Matched
	if verb == "changed" {
		n = pr.Changed
	}
	s := fmt.Sprintf("scanned %d  %s %d  %.0f keys/s", pr.Scanned, verb, n, pr.Rate())
	if pr.Fraction > 0 && pr.Total == 0 {
		s += fmt.Sprintf("  %.0f%%", 100*pr.Fraction)
	} else if pr.Total > 0 {
		s += fmt.Sprintf("  %.0f%%", 100*min(1, float64(pr.Scanned)/float64(pr.Total)))
	}
	if eta := pr.ETA(); eta >= 0 && pr.Scanned > 0 {
		s += "  ETA " + humanDuration(eta)
	}
	return s
}

func (p *progressLine) clear() {
	if p != nil && p.shown {
		fmt.Fprint(p.ios.ErrOut, "\r\x1b[K")
	}
}
