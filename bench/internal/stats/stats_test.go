package stats

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestMedianCI(t *testing.T) {
	xs := []float64{10, 11, 9, 10.5, 9.5, 10.2, 9.8, 30, 10.1, 9.9}
	iv := MedianCI(xs, 1)
	if iv.N != len(xs) || iv.Median != Median(xs) {
		t.Fatalf("got %+v, want the median %v of %d values", iv, Median(xs), len(xs))
	}
	if !(iv.Lo <= iv.Median && iv.Median <= iv.Hi) {
		t.Fatalf("interval %+v does not hold its median", iv)
	}
	// The outlier 30 is one round of ten: the median's interval stays
	// among the ordinary rounds.
	if iv.Lo < 9 || iv.Hi > 11 {
		t.Fatalf("interval %+v reaches past the ordinary rounds", iv)
	}
	if again := MedianCI(xs, 1); again != iv {
		t.Fatalf("same seed, different interval: %+v then %+v", iv, again)
	}
	few := MedianCI([]float64{1, 2, 3, 4}, 1)
	if few.Known() || few.Median != 2.5 {
		t.Fatalf("four values gave %+v, want a median and no interval", few)
	}
	withNaN := MedianCI([]float64{1, math.NaN(), 2, 3, 4, 5}, 1)
	if withNaN.N != 5 || withNaN.Median != 3 {
		t.Fatalf("NaN not left out: %+v", withNaN)
	}
}

func TestJudge(t *testing.T) {
	iv := func(lo, hi float64) Interval { return Interval{Median: (lo + hi) / 2, Lo: lo, Hi: hi, N: 10} }
	for _, tt := range []struct {
		name   string
		iv     Interval
		limit  float64
		atMost bool
		want   Verdict
	}{
		{"at most, all under", iv(0.5, 0.9), 1, true, Met},
		{"at most, upper bound on the limit", iv(0.5, 1), 1, true, Met},
		{"at most, straddles", iv(0.9, 1.1), 1, true, Unclear},
		{"at most, all over", iv(1.1, 1.3), 1, true, Missed},
		{"at least, all over", iv(1.1, 1.3), 1, false, Met},
		{"at least, lower bound on the limit", iv(1, 1.3), 1, false, Met},
		{"at least, straddles", iv(0.9, 1.1), 1, false, Unclear},
		{"at least, all under", iv(0.5, 0.9), 1, false, Missed},
		{"unknown interval", Interval{Median: 0.5, Lo: math.NaN(), Hi: math.NaN(), N: 3}, 1, true, Unclear},
	} {
		if got := Judge(tt.iv, tt.limit, tt.atMost); got != tt.want {
			t.Errorf("%s: Judge(%+v, %v, %v) = %v, want %v", tt.name, tt.iv, tt.limit, tt.atMost, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	got := Format(Interval{Median: 1500, Lo: 1200, Hi: 1800, N: 10}, 1e3, 2, " µs")
	if want := "1.50 µs [1.20, 1.80]"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	got = Format(Interval{Median: 2, Lo: math.NaN(), Hi: math.NaN(), N: 2}, 1, 1, "")
	if want := "2.0 [n=2: too few rounds]"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}
