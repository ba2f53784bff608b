package bench

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"time"
)

// Measurement is what Interleave measured of one app.
type Measurement struct {
	Name string
	// N is the number of requests measured.
	N int
	// WallMean and WallP50 are the mean and the median wall time of a
	// request in ns: a fresh httptest request and recorder through the
	// app, as in Serve (the measuring clocks' own cost taken off).
	WallMean, WallP50 float64
	// CPUMean and CPUP50 are the mean and the median CPU time in ns of the
	// thread that served the request, taken around it; NaN when not
	// measured.
	CPUMean, CPUP50 float64
}

// InterleaveOptions configure Interleave.
type InterleaveOptions struct {
	// PerApp is about how long to run per app: the run takes
	// len(apps) × PerApp of wall time. Default 300 ms.
	PerApp time.Duration
	// ThreadCPU also measures each request's CPU time on its thread, with
	// the goroutine locked to that thread (runtime.LockOSThread). Only for
	// apps that do not wait on the network: a locked goroutine that blocks
	// is woken more slowly, which would lengthen a Redis request's wall
	// time. Ignored where the thread's CPU clock cannot be read.
	ThreadCPU bool
}

// Interleave serves the apps' requests in turn, one request of each app
// after the other (a b c a b c ...), for about len(apps) × PerApp, timing
// each request on its own. Whatever else runs on the machine meanwhile
// falls on all the apps alike, and a request that was preempted, or that
// ran a garbage collection, shows in the mean and not in the median. The
// apps are warmed up with 20 requests each first. A request answered with
// another status than 200 is an error.
func Interleave(apps []*Prepared, o InterleaveOptions) ([]Measurement, error) {
	return interleave(apps, o, realClocks())
}

// clocks are the clocks Interleave reads, in ns: wall (monotonic) and the
// CPU time of the calling thread (-1: none).
type clocks struct {
	wall, cpu func() int64
}

// realClocks returns the monotonic wall clock, counting from now, and the
// thread's CPU clock.
func realClocks() clocks {
	start := time.Now()
	return clocks{wall: func() int64 { return int64(time.Since(start)) }, cpu: threadCPU}
}

func interleave(apps []*Prepared, o InterleaveOptions, c clocks) ([]Measurement, error) {
	if o.PerApp <= 0 {
		o.PerApp = 300 * time.Millisecond
	}
	if o.ThreadCPU {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if c.cpu() < 0 {
			o.ThreadCPU = false
		}
	}
	t0 := c.wall()
	for range 20 {
		for _, a := range apps {
			if w := Serve(a.App.Handler, a.Path, a.Cookie); w.Code != http.StatusOK {
				return nil, fmt.Errorf("bench: %s: status %d: %s", a.Name, w.Code, w.Body.String())
			}
		}
	}
	cycle := (c.wall() - t0) / 20
	wallOver, cpuOver := clockCost(c, o.ThreadCPU)

	total := int64(o.PerApp) * int64(len(apps))
	capacity := 1024
	if cycle > 0 {
		capacity += int(min(total/cycle*3/2, 1<<22))
	}
	wall := make([][]int64, len(apps))
	cpu := make([][]int64, len(apps))
	for i := range apps {
		wall[i] = make([]int64, 0, capacity)
		if o.ThreadCPU {
			cpu[i] = make([]int64, 0, capacity)
		}
	}
	runtime.GC()
	deadline := c.wall() + total
	for c.wall() < deadline {
		for i, a := range apps {
			var c0, c1 int64
			w0 := c.wall()
			if o.ThreadCPU {
				c0 = c.cpu()
			}
			r := httptest.NewRequest(http.MethodGet, a.Path, nil)
			if a.Cookie != "" {
				r.Header.Set("Cookie", a.Cookie)
			}
			rec := httptest.NewRecorder()
			a.App.Handler.ServeHTTP(rec, r)
			if o.ThreadCPU {
				c1 = c.cpu()
			}
			d := c.wall() - w0
			if rec.Code != http.StatusOK {
				return nil, fmt.Errorf("bench: %s: status %d: %s", a.Name, rec.Code, rec.Body.String())
			}
			wall[i] = append(wall[i], d-wallOver)
			if o.ThreadCPU {
				cpu[i] = append(cpu[i], c1-c0-cpuOver)
			}
		}
	}
	out := make([]Measurement, len(apps))
	for i, a := range apps {
		m := Measurement{Name: a.Name, N: len(wall[i]), CPUMean: math.NaN(), CPUP50: math.NaN()}
		m.WallMean, m.WallP50 = meanMedian(wall[i])
		if o.ThreadCPU {
			m.CPUMean, m.CPUP50 = meanMedian(cpu[i])
		}
		out[i] = m
	}
	return out, nil
}

// clockCost returns the median wall time and thread CPU time that
// Interleave's clock reads add to a request that does nothing.
func clockCost(c clocks, threadCPUToo bool) (wall, cpu int64) {
	const n = 1001
	ws := make([]int64, n)
	cs := make([]int64, n)
	for i := range n {
		var c0, c1 int64
		w0 := c.wall()
		if threadCPUToo {
			c0 = c.cpu()
			c1 = c.cpu()
		}
		ws[i] = c.wall() - w0
		cs[i] = c1 - c0
	}
	slices.Sort(ws)
	slices.Sort(cs)
	return ws[n/2], cs[n/2]
}

func meanMedian(xs []int64) (mean, median float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	median = float64(s[len(s)/2])
	if len(s)%2 == 0 {
		median = float64(s[len(s)/2-1]+s[len(s)/2]) / 2
	}
	return sum / float64(len(xs)), median
}

// Allocs serves n requests of a alone and returns the heap allocations
// and bytes per request (runtime.MemStats, as testing's allocs/op and
// B/op), after a garbage collection. Other goroutines' allocations meanwhile
// count too; the apps start none that allocate per request.
func Allocs(a *Prepared, n int) (allocs, bytes float64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		if w := Serve(a.App.Handler, a.Path, a.Cookie); w.Code != http.StatusOK {
			return 0, 0, fmt.Errorf("bench: %s: status %d: %s", a.Name, w.Code, w.Body.String())
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n), float64(after.TotalAlloc-before.TotalAlloc) / float64(n), nil
}
