// Package stats is the arithmetic of bench/run.sh's report and of
// bench/compare: medians of interleaved rounds, percentile-bootstrap
// confidence intervals of those medians, and the verdict of a target from
// its interval.
//
// The method: a run is a number of rounds; in each round every benchmark
// runs once, the ones that are compared right after one another. A
// comparison takes, round by round, the paired value (a ratio of two
// benchmarks of the same round, or a difference), so that load that comes
// and goes between rounds falls on both sides of each pair. Its estimate is
// the median of the paired values over the rounds, and its interval the
// percentile bootstrap of that median: Resamples resamples of the rounds,
// drawn with replacement from a generator seeded with the run's seed, and
// the 2.5 % and 97.5 % quantiles of their medians (for Level 0.95).
package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

const (
	// Resamples is the number of bootstrap resamples of an interval.
	Resamples = 10000
	// Level is the confidence level of an interval.
	Level = 0.95
	// MinRounds is the fewest paired values an interval is computed from;
	// with fewer, the interval is unknown and a target unclear.
	MinRounds = 5
)

// Interval is a median with its bootstrap confidence interval. Lo and Hi are
// NaN when there were fewer than MinRounds values.
type Interval struct {
	Median, Lo, Hi float64
	// N is the number of values (paired rounds) behind it.
	N int
}

// Known reports whether the interval was computed.
func (iv Interval) Known() bool { return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// Scale returns the interval with every bound multiplied by f.
func (iv Interval) Scale(f float64) Interval {
	iv.Median, iv.Lo, iv.Hi = iv.Median*f, iv.Lo*f, iv.Hi*f
	return iv
}

// Median returns the median of xs (NaN for none); xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return sortedMedian(s)
}

func sortedMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// quantile returns the q-quantile of sorted s, interpolating linearly
// between order statistics.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	i := int(math.Floor(pos))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := pos - float64(i)
	return s[i] + frac*(s[i+1]-s[i])
}

// MedianCI returns the median of xs and its percentile-bootstrap interval
// at Level, from Resamples resamples drawn by a generator seeded with seed
// (the same xs and seed give the same interval). NaN values are left out.
func MedianCI(xs []float64, seed uint64) Interval {
	vals := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	iv := Interval{Median: Median(vals), Lo: math.NaN(), Hi: math.NaN(), N: len(vals)}
	if len(vals) < MinRounds {
		return iv
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	meds := make([]float64, Resamples)
	buf := make([]float64, len(vals))
	for i := range meds {
		for j := range buf {
			buf[j] = vals[rng.IntN(len(vals))]
		}
		slices.Sort(buf)
		meds[i] = sortedMedian(buf)
	}
	slices.Sort(meds)
	tail := (1 - Level) / 2
	iv.Lo, iv.Hi = quantile(meds, tail), quantile(meds, 1-tail)
	return iv
}

// Verdict is a target's outcome.
type Verdict int

const (
	// Unclear: the interval straddles the goal, or is unknown.
	Unclear Verdict = iota
	// Met: the whole interval is on the goal's side.
	Met
	// Missed: the whole interval is on the wrong side of the goal.
	Missed
)

func (v Verdict) String() string {
	switch v {
	case Met:
		return "met"
	case Missed:
		return "missed"
	}
	return "unclear"
}

// Judge returns the verdict of a goal of at most limit (atMost) or at
// least limit (!atMost) on iv: Met when the whole interval satisfies it
// (a bound equal to the limit satisfies it), Missed when none of it does,
// Unclear otherwise or when the interval is unknown.
func Judge(iv Interval, limit float64, atMost bool) Verdict {
	if !iv.Known() {
		return Unclear
	}
	lo, hi := iv.Lo, iv.Hi
	if !atMost {
		// x ≥ limit  ⇔  −x ≤ −limit
		lo, hi, limit = -hi, -lo, -limit
	}
	switch {
	case hi <= limit:
		return Met
	case lo > limit:
		return Missed
	}
	return Unclear
}

// Format writes iv as "median [lo, hi]" with prec decimals after dividing
// by div, followed by suffix; "n/a" for no values.
func Format(iv Interval, div float64, prec int, suffix string) string {
	if math.IsNaN(iv.Median) {
		return "n/a"
	}
	f := func(v float64) string { return fmt.Sprintf("%.*f", prec, v/div) }
	if !iv.Known() {
		return fmt.Sprintf("%s%s [n=%d: too few rounds]", f(iv.Median), suffix, iv.N)
	}
	return fmt.Sprintf("%s%s [%s, %s]", f(iv.Median), suffix, f(iv.Lo), f(iv.Hi))
}
