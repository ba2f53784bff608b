// Command pairdiff compares two outputs of interleaved benchmark rounds
// (bench/compare's base.txt and head.txt) round by round: for each
// benchmark and unit found in both, the ratio HEAD ÷ BASE within each round,
// the median of those ratios and its 95 % percentile-bootstrap interval
// (package bench/internal/stats), printed as a change in percent. The
// change is marked faster/slower (fewer/more for B/op and allocs/op) when
// its whole interval is on one side of zero, "~" otherwise.
//
// BASE and HEAD run in different processes, so the machine's load differs
// between the two sides of a pair. For bench/cmd/inproc's apps, which run
// interleaved with a floor that does not change between commits (the bare
// handler in the cookie groups, the Redis floor of the same session kind
// in the Redis groups), it also prints the change of each app's time
// divided by its floor's in the same run: that ratio cancels what the
// process's load did to both.
//
//	pairdiff [-seed 1] [-units p50-tcpu-ns/op,p50-ns/op,ns/op,B/op,allocs/op] BASE.txt HEAD.txt
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wsess/wsess/bench/internal/benchfile"
	"github.com/wsess/wsess/bench/internal/stats"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed of the bootstrap intervals")
	units := flag.String("units", "p50-tcpu-ns/op,p50-ns/op,ns/op,B/op,allocs/op", "units to compare, comma-separated (those a benchmark lacks are skipped)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: pairdiff [-seed N] [-units LIST] BASE.txt HEAD.txt")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, flag.Arg(0), flag.Arg(1), strings.Split(*units, ","), *seed); err != nil {
		fmt.Fprintln(os.Stderr, "pairdiff:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, basePath, headPath string, units []string, seed uint64) error {
	base, err := benchfile.Read(basePath)
	if err != nil {
		return err
	}
	head, err := benchfile.Read(headPath)
	if err != nil {
		return err
	}
	var onlyOne []string
	for _, k := range base.Order {
		if head.Values[k] == nil {
			onlyOne = append(onlyOne, k.Name+" (base only)")
		}
	}
	for _, k := range head.Order {
		if base.Values[k] == nil {
			onlyOne = append(onlyOne, k.Name+" (head only)")
		}
	}
	fmt.Fprintf(out, "HEAD ÷ BASE within each round; median of the rounds' ratios as a change, "+
		"[%g %% percentile-bootstrap interval, %d resamples, seed %d]\n", stats.Level*100, stats.Resamples, seed)
	var pkgs []string
	for _, k := range base.Order {
		if !slices.Contains(pkgs, k.Pkg) {
			pkgs = append(pkgs, k.Pkg)
		}
	}
	for _, pkg := range pkgs {
		for _, controlled := range []bool{false, true} {
			for _, unit := range units {
				if controlled && !strings.HasSuffix(unit, "ns/op") {
					continue // a floor controls for time, not for allocations
				}
				table(out, base, head, pkg, unit, controlled, seed)
			}
		}
	}
	if len(onlyOne) > 0 {
		fmt.Fprintf(out, "\nnot compared, measured on one side only: %s\n", strings.Join(onlyOne, ", "))
	}
	return nil
}

// control returns the floor that bench/cmd/inproc runs interleaved with
// the benchmark name ("Read/wsess-cookie/existing"), or "" when it has
// none: the bare handler for the cookie stores' existing sessions, the
// Redis floor of the same session kind for the Redis stores.
func control(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return ""
	}
	bench, app, kind := parts[0], parts[1], parts[2]
	if kind == "new" {
		return ""
	}
	switch app {
	case "wsess-cookie", "gorilla", "scs-mem":
		return bench + "/bare/" + kind
	case "wsess-redis", "scs-redis":
		return bench + "/redis-floor/" + kind
	}
	return ""
}

// table prints one package's changes in unit; controlled: of each
// benchmark's value divided by its control's in the same run.
func table(out io.Writer, base, head *benchfile.File, pkg, unit string, controlled bool, seed uint64) {
	var tw *tabwriter.Writer
	for _, k := range base.Order {
		if k.Pkg != pkg {
			continue
		}
		bv, hv := base.Values[k][unit], head.Values[k][unit]
		if len(bv) == 0 || len(hv) == 0 {
			continue
		}
		if controlled {
			c := control(k.Name)
			if c == "" {
				continue
			}
			ck := benchfile.Key{Pkg: k.Pkg, Name: c}
			bv, hv = divide(bv, base.Values[ck][unit]), divide(hv, head.Values[ck][unit])
			if len(bv) == 0 || len(hv) == 0 {
				continue
			}
		}
		if tw == nil {
			fmt.Fprintf(out, "\npkg: %s\n", pkg)
			if controlled {
				fmt.Fprintf(out, "each app ÷ its floor in the same run (%s)\n", unit)
			}
			tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "%s\tbase\thead\tchange [95 %% interval]\t\trounds\t\n", unit)
		}
		var ratios []float64
		for rd, b := range bv {
			if h, ok := hv[rd]; ok && b > 0 {
				ratios = append(ratios, h/b)
			} else if ok && b == 0 && h == 0 {
				ratios = append(ratios, 1)
			}
		}
		slices.Sort(ratios) // map order must not reach the bootstrap
		iv := stats.MedianCI(ratios, seed)
		name, shownUnit := k.Name, unit
		if controlled {
			name, shownUnit = k.Name+" ÷ "+control(k.Name), ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t\n", name, value(shownUnit, median(bv)), value(shownUnit, median(hv)),
			change(iv), mark(unit, iv), iv.N)
	}
	if tw != nil {
		tw.Flush()
	}
}

// divide returns a ÷ b round by round, for the rounds both have.
func divide(a, b map[int]float64) map[int]float64 {
	out := map[int]float64{}
	for rd, x := range a {
		if y, ok := b[rd]; ok && y > 0 {
			out[rd] = x / y
		}
	}
	return out
}

func median(m map[int]float64) float64 {
	xs := make([]float64, 0, len(m))
	for _, v := range m {
		xs = append(xs, v)
	}
	return stats.Median(xs)
}

// change prints a ratio's interval as a change in percent.
func change(iv stats.Interval) string {
	pct := func(r float64) string { return fmt.Sprintf("%+.1f%%", (r-1)*100) }
	if math.IsNaN(iv.Median) {
		return "n/a"
	}
	if !iv.Known() {
		return pct(iv.Median) + " [too few rounds]"
	}
	return fmt.Sprintf("%s [%s, %s]", pct(iv.Median), pct(iv.Lo), pct(iv.Hi))
}

// mark says which way a change went when its whole interval is on one side
// of no change.
func mark(unit string, iv stats.Interval) string {
	if !iv.Known() {
		return "~"
	}
	lower, higher := "faster", "slower"
	if unit == "B/op" || unit == "allocs/op" {
		lower, higher = "fewer", "more"
	}
	switch {
	case iv.Hi < 1:
		return lower
	case iv.Lo > 1:
		return higher
	}
	return "~"
}

// value prints a median in its unit: times scaled to ns, µs or ms.
func value(unit string, v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if strings.HasSuffix(unit, "ns/op") {
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2fms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.2fµs", v/1e3)
		}
		return fmt.Sprintf("%.0fns", v)
	}
	switch {
	case unit == "":
		return fmt.Sprintf("%.3f", v)
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
