package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsess/wsess/bench/internal/stats"
)

// metric computes one round's value from that round's benchmarks (v gives
// a benchmark's unit in the round, NaN when missing); NaN leaves the round
// out.
type metric func(v func(name, unit string) float64) float64

// val is a benchmark's unit.
func val(name, unit string) metric {
	return func(v func(string, string) float64) float64 { return v(name, unit) }
}

// minus is a − b.
func minus(a, b metric) metric {
	return func(v func(string, string) float64) float64 { return a(v) - b(v) }
}

// ratio is a ÷ b, left out when b is not positive (an own cost that the
// round's noise made zero or negative divides nothing).
func ratio(a, b metric) metric {
	return func(v func(string, string) float64) float64 {
		d := b(v)
		if !(d > 0) {
			return math.NaN()
		}
		return a(v) / d
	}
}

// own is an app's own cost in a cookie benchmark (Counter or Read): its
// existing-session op minus the bare handler's, in the same round.
func own(bench, app, unit string) metric {
	return minus(val(bench+"/"+app+"/existing", unit), val(bench+"/bare/existing", unit))
}

// perRound evaluates f in each round of inproc.txt.
func (r *results) perRound(f metric) []float64 {
	out := make([]float64, 0, len(r.rounds))
	for _, rd := range r.rounds {
		x := f(func(name, unit string) float64 {
			v, ok := r.bench[name][unit][rd]
			if !ok {
				return math.NaN()
			}
			return v
		})
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// interval is f's median over the rounds with its bootstrap interval.
func (r *results) interval(f metric) stats.Interval {
	return stats.MedianCI(r.perRound(f), r.seed)
}

// shown is how a measure is printed: divided by div, prec decimals, suffix.
type shown struct {
	div    float64
	prec   int
	suffix string
}

var (
	asMicros = shown{1e3, 2, " µs"}
	asRatio  = shown{1, 3, ""}
	asCount  = shown{1, 1, ""}
)

func (s shown) format(iv stats.Interval) string { return stats.Format(iv, s.div, s.prec, s.suffix) }

// measure is a metric with its name and how it is printed.
type measure struct {
	name string // "median request, CPU", ...
	m    metric
	as   shown
}

// inTarget is an in-process target: the measure judged (its limit in the
// measure's own units) and others shown beside it.
type inTarget struct {
	what   string
	goal   string
	limit  float64
	atMost bool
	judged measure
	beside []measure
}

func (r *results) judge(t inTarget) target {
	iv := r.interval(t.judged.m)
	out := target{what: t.what, goal: t.goal, measured: t.judged.name + ": " + t.judged.as.format(iv), interval: true,
		verdict: stats.Judge(iv, t.limit, t.atMost).String()}
	if math.IsNaN(iv.Median) {
		out.verdict = "n/a"
	}
	var also []string
	for _, b := range t.beside {
		also = append(also, b.name+": "+b.as.format(r.interval(b.m)))
	}
	out.also = strings.Join(also, "; ")
	return out
}

// The benchmarks the Redis targets compare.
const (
	redisRead          = "Read/wsess-redis/existing"
	redisReadLoggedIn  = "Read/wsess-redis/logged-in"
	floorRead          = "Read/redis-floor/existing"
	floorReadLoggedIn  = "Read/redis-floor/logged-in"
	redisCounter       = "Counter/wsess-redis/existing"
	floorCounter       = "Counter/redis-floor/existing"
	scsRedisCounter    = "Counter/scs-redis/existing"
	cookieReadBare     = "Read/bare/existing"
	cookieRead         = "Read/wsess-cookie/existing"
	allocUnit          = "allocs/op"
	readLabel, ctLabel = "read", "counter"
)

// The units of bench/cmd/inproc: the median and the mean of a request's
// CPU time on its thread, and of its wall time.
const (
	cpuP50, cpuMean   = "p50-tcpu-ns/op", "tcpu-ns/op"
	wallP50, wallMean = "p50-ns/op", "ns/op"
)

// Names of the measures.
const (
	medCPU   = "median request, CPU"
	meanCPU  = "mean CPU"
	medWall  = "median request, wall"
	meanWall = "mean wall"
)

// inprocTargets are the targets on the interleaved rounds of inproc.txt.
func (r *results) inprocTargets() []target {
	if len(r.rounds) == 0 {
		return nil
	}
	var ts []inTarget
	for _, c := range []struct {
		bench, label string
		limit        float64
	}{{"Read", readLabel, 1000}, {"Counter", ctLabel, 1500}} {
		own := func(unit string) metric { return own(c.bench, "wsess-cookie", unit) }
		bare := val(c.bench+"/bare/existing", cpuP50)
		ts = append(ts, inTarget{
			what: fmt.Sprintf("(1) cookie %s, existing session: wsess's own cost (its request − the bare handler's, same round)", c.label),
			goal: fmt.Sprintf("≤ %.1f µs", c.limit/1e3), limit: c.limit, atMost: true,
			judged: measure{medCPU, own(cpuP50), asMicros},
			beside: []measure{{meanCPU, own(cpuMean), asMicros}, {medWall, own(wallP50), asMicros},
				{"the bare request, CPU (the machine's speed)", bare, asMicros},
				{"own cost ÷ the bare request (CPU, load-robust)", ratio(own(cpuP50), bare), asRatio}},
		})
	}
	for _, c := range []struct{ bench, label string }{{"Read", readLabel}, {"Counter", ctLabel}} {
		for _, peer := range []string{"gorilla", "scs-mem"} {
			ownRatio := func(unit string) metric {
				return ratio(own(c.bench, "wsess-cookie", unit), own(c.bench, peer, unit))
			}
			ts = append(ts, inTarget{
				what: fmt.Sprintf("(1) cookie %s: wsess's own cost ÷ %s's own cost", c.label, peer),
				goal: "≤ 0.15", limit: 0.15, atMost: true,
				judged: measure{medCPU, ownRatio(cpuP50), asRatio},
				beside: []measure{{meanCPU, ownRatio(cpuMean), asRatio}, {medWall, ownRatio(wallP50), asRatio}},
			})
		}
	}
	ts = append(ts, inTarget{
		what: "(1) cookie read: allocations per request above the bare handler's",
		goal: "≤ 20", limit: 20, atMost: true,
		judged: measure{"allocs", minus(val(cookieRead, allocUnit), val(cookieReadBare, allocUnit)), asCount},
		beside: []measure{{"whole request", val(cookieRead, allocUnit), asCount}},
	})
	for _, c := range []struct{ label, wsess, floor string }{
		{"anonymous", redisRead, floorRead}, {"logged-in", redisReadLoggedIn, floorReadLoggedIn},
	} {
		ts = append(ts, inTarget{
			what: fmt.Sprintf("(2) Redis read, %s session: wsess ÷ the one-GETEX floor", c.label),
			goal: "≤ 1.10", limit: 1.10, atMost: true,
			judged: measure{medWall, ratio(val(c.wsess, wallP50), val(c.floor, wallP50)), asRatio},
			beside: []measure{{meanWall, ratio(val(c.wsess, wallMean), val(c.floor, wallMean)), asRatio}},
		})
	}
	ts = append(ts,
		inTarget{
			what: "(2) Redis counter, existing session: wsess ÷ the GETEX + SET floor",
			goal: "≤ 1.20", limit: 1.20, atMost: true,
			judged: measure{medWall, ratio(val(redisCounter, wallP50), val(floorCounter, wallP50)), asRatio},
			beside: []measure{{meanWall, ratio(val(redisCounter, wallMean), val(floorCounter, wallMean)), asRatio}},
		},
		inTarget{
			what: "(2) Redis counter, existing session: scs ÷ wsess",
			goal: "≥ 1.0", limit: 1.0, atMost: false,
			judged: measure{medWall, ratio(val(scsRedisCounter, wallP50), val(redisCounter, wallP50)), asRatio},
			beside: []measure{{meanWall, ratio(val(scsRedisCounter, wallMean), val(redisCounter, wallMean)), asRatio}},
		},
		inTarget{
			what: "(2) Redis read, anonymous session: allocations per request above the bare handler's",
			goal: "≤ 40", limit: 40, atMost: true,
			judged: measure{"allocs", minus(val(redisRead, allocUnit), val(cookieReadBare, allocUnit)), asCount},
			beside: []measure{{"whole request", val(redisRead, allocUnit), asCount}},
		},
	)
	out := make([]target, 0, len(ts))
	for _, t := range ts {
		out = append(out, r.judge(t))
	}
	return out
}

// partMeta returns a part's meta-PART.txt, or machine.txt when it has none
// (results of a run.sh older than the per-part files).
func (r *results) partMeta(part string) map[string]string {
	if m, ok := r.meta[part]; ok {
		return m
	}
	return r.machine
}

// writeHead writes the title, the machine, the parts, the method and the
// targets.
func (r *results) writeHead(w *bufio.Writer) {
	m := r.machine
	fmt.Fprintf(w, `# Benchmarks

Generated by `+"`bench/run.sh`"+` (also `+"`make bench`"+`) from its raw results; do
not edit by hand, run it again. Each part's numbers come from one run of that
part on this machine (the table of parts says when and at which commit), and
every comparison compares numbers of the same part's run.

## Machine

| | |
| --- | --- |
| CPU | %s |
| cores (nproc) | %s |
| memory | %s |
| kernel | %s |
| Go | %s |
| Redis | %s |
| wrk | %s |

| part | run at | commit | load average at start | run time | settings |
| --- | --- | --- | --- | ---: | --- |
`, m["cpu"], m["nproc"], m["mem"], m["kernel"], m["go"], m["redis"], m["wrk"])
	for _, part := range parts {
		pm, ok := r.meta[part]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | `%s` |\n", part, pm["date"], pm["commit"], pm["load"], pm["elapsed"], pm["settings"])
	}
	if len(r.meta) == 0 {
		fmt.Fprintf(w, "| all | %s | %s | %s | %s | `%s` |\n", m["date"], m["commit"], m["load"], m["elapsed"], m["settings"])
	}

	if len(r.rounds) > 0 {
		fmt.Fprintf(w, `
## Method: interleaved rounds, paired comparisons

The machine is shared, and how fast a benchmark runs moves by 2-3x with what
else runs on it, even in CPU time. So the in-process benchmarks run in %d
**rounds**, one process each (`+"`bench/cmd/inproc -round N`"+`). In a round,
each group of apps that a target compares (the cookie stores with the bare
handler; the Redis stores with their floors) is served **interleaved
request by request** (a b c a b c ..., `+"`bench.Interleave`"+`), each
request timed on its own, for `+"`BENCHTIME`"+` per app; every second round
the turns go in reverse order. Each app's request time in a round is the
**median** request: a request that was preempted, or that ran a garbage
collection, moves the mean and not the median, and whatever else runs on
the machine falls on all the apps of the group alike. For the cookie
groups the time is the CPU time of the request's thread (the goroutine
locked to it, CLOCK_THREAD_CPUTIME_ID around each request, the clock's own
cost taken off); for the Redis groups, whose requests wait on Redis, it is
wall time. The means (the loop's whole cost, collections and preemptions
included) are shown beside.

A target compares, **round by round**, the paired value: wsess's *own
cost* (its request − the bare handler's, same round), that own cost ÷ a
peer's own cost, wsess ÷ its Redis floor, or a whole-request ratio. Its
estimate is the **median** of the paired values over the rounds, and its
**95 %% interval** the percentile bootstrap of that median: %d resamples of
the rounds with replacement, seed %d (`+"`report -seed`"+`; package
`+"`bench/internal/stats`"+`). With fewer than %d paired rounds there is no
interval.

A target is **met** when its whole interval is on the goal's side (a bound
equal to the goal counts), **missed** when the whole interval is on the
wrong side, and **unclear** otherwise. Only *missed* is a failure: run.sh
exits 1 after writing this file when an in-process target is missed. The
load and scale targets compare one run each, with no interval: their
verdict is that run's, for information, never a failure.

Absolute times are not load-robust here, even in CPU time: this machine is
a virtual machine whose host reports no steal time and exposes no
performance counters, and the bare handler's median request took 2.8 µs
of CPU in one run and 4.9 µs in a run ten minutes later, with every ratio
to a floor unchanged. So the own-cost targets in µs (1) show beside them
the bare request's time in the same rounds (the machine's speed during the
run) and the own cost ÷ the bare request, which does not move with it; a
verdict in µs holds for the machine's speed of that run.

Allocation targets count what a request allocates above the bare handler
(the harness's request, recorder, Cookie header, mux and answer: 20), from
200 requests of the app alone per round (`+"`runtime.MemStats`"+`, as
`+"`testing`"+`'s allocs/op); the whole request's count is shown beside.
`, len(r.rounds), stats.Resamples, r.seed, stats.MinRounds)
	}

	w.WriteString("\n## Targets\n\n| target | goal | measured: median [95 % interval] | verdict | beside it |\n| --- | --- | --- | --- | --- |\n")
	for _, t := range r.targets() {
		if t.verdict == "n/a" && strings.HasPrefix(t.measured, "n/a") {
			continue // a part that did not run
		}
		verdict := t.verdict
		if t.interval && t.verdict == "missed" {
			verdict = "**missed**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.what, t.goal, t.measured, verdict, t.also)
	}
}

// writeInproc writes the in-process sections.
func (r *results) writeInproc(w *bufio.Writer) {
	if len(r.rounds) > 0 {
		r.writeInfo(w)
		pm := r.partMeta("inproc")
		fmt.Fprintf(w, `
## In-process: weppy's counter through each library's middleware

`+"`bench/run.sh`"+` runs `+"`bench/cmd/inproc -round N -time BENCHTIME -redis-addr ADDR`"+`
once per round (settings: `+"`%s`"+`; the Redis server is run.sh's own); the
same apps are also go test benchmarks (`+"`cd bench && go test -bench .`"+`),
which time each app alone. One request = a fresh `+"`httptest`"+` request and
recorder through the middleware and an `+"`http.ServeMux`"+`. *new*: no cookie,
so a new session each request; *existing*: the cookie of a session made
before (by GET /counter); *logged-in*: one made by GET /login
(Session.Login). *Counter* reads an int, adds one and writes it back;
*Read* loads the session and changes nothing. gorilla/sessions v1.4.0
`+"`CookieStore`"+` with a hash key and a block key (encrypted); scs v2.9.0
with IdleTimeout set (memstore, and redisstore over redigo); *bare* is the
same handler without sessions, sent a Cookie header of wsess's size;
*redis-floor* is the bare handler after exactly one GETEX of the wsess
session's key (Read), or that GETEX and one SET of the value (Counter), on
the same go-redis client and pool settings as wsess's
(`+"`bench.RedisFloor`"+`). Medians over the rounds; for the median-request
columns also their 95 %% interval. CPU is the request's thread's (cookie
groups only); `+"`rediscmds/op`"+` counts Redis commands from INFO
commandstats (commands run inside a Lua script included); `+"`cookie-B`"+` is
the size of name=value.

| benchmark | rounds | median request, CPU | mean CPU | median request, wall | mean wall | B/op | allocs/op | cookie-B | rediscmds/op |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
`, pm["settings"])
		for _, name := range r.order {
			if strings.HasPrefix(name, "RoundTrips/") || strings.HasPrefix(name, mgmtPrefix) {
				continue
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, len(r.bench[name][wallMean]),
				asMicros.format(r.interval(val(name, cpuP50))), ns(r.med(name, cpuMean)),
				asMicros.format(r.interval(val(name, wallP50))), ns(r.med(name, wallMean)),
				num(r.med(name, "B/op"), 0), num(r.med(name, allocUnit), 1),
				num(r.med(name, "cookie-B"), 0), num(r.med(name, "rediscmds/op"), 2))
		}
	}
	r.writeRoundTrips(w)
}

// writeInfo writes the paired measures that are not targets: each cookie
// store's own cost, and the ratios of whole requests.
func (r *results) writeInfo(w *bufio.Writer) {
	w.WriteString(`
### Own costs and whole-request ratios (information)

Each cookie store's own cost (its request − the bare handler's, same
round), and ratios of whole requests, the harness included in both (what
the targets used to divide); medians over the rounds with their 95 %
intervals.

| measure | median request, CPU | mean CPU | median request, wall | mean wall |
| --- | --- | --- | --- | --- |
`)
	row := func(what string, f func(unit string) metric, as shown) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", what, as.format(r.interval(f(cpuP50))), as.format(r.interval(f(cpuMean))),
			as.format(r.interval(f(wallP50))), as.format(r.interval(f(wallMean))))
	}
	for _, c := range []struct{ bench, label string }{{"Read", readLabel}, {"Counter", ctLabel}} {
		for _, app := range []string{"wsess-cookie", "gorilla", "scs-mem"} {
			row(fmt.Sprintf("cookie %s: %s's own cost", c.label, app), func(u string) metric { return own(c.bench, app, u) }, asMicros)
		}
	}
	for _, c := range []struct{ bench, label string }{{"Read", readLabel}, {"Counter", ctLabel}} {
		w0 := c.bench + "/wsess-cookie/existing"
		for _, peer := range []string{"gorilla", "scs-mem"} {
			p := c.bench + "/" + peer + "/existing"
			row(fmt.Sprintf("cookie %s: wsess ÷ %s, whole requests", c.label, peer),
				func(u string) metric { return ratio(val(w0, u), val(p, u)) }, asRatio)
		}
	}
	for _, c := range []struct {
		what, a, b string
		ratio      bool
	}{
		{"Redis read, anonymous session: scs ÷ wsess, whole requests", "Read/scs-redis/existing", redisRead, true},
		{"Redis read: wsess, logged-in ÷ anonymous session", redisReadLoggedIn, redisRead, true},
		{"Redis read, anonymous session: wsess − the one-GETEX floor", redisRead, floorRead, false},
		{"Redis read, logged-in session: wsess − the one-GETEX floor", redisReadLoggedIn, floorReadLoggedIn, false},
		{"Redis counter: wsess − the GETEX + SET floor", redisCounter, floorCounter, false},
	} {
		if c.ratio {
			row(c.what, func(u string) metric { return ratio(val(c.a, u), val(c.b, u)) }, asRatio)
		} else {
			row(c.what, func(u string) metric { return minus(val(c.a, u), val(c.b, u)) }, asMicros)
		}
	}
}

// writeRoundTrips writes the round-trip table and the pkg/session
// management costs.
func (r *results) writeRoundTrips(w *bufio.Writer) {
	var trips, mgmt []string
	for _, name := range r.order {
		switch {
		case strings.HasPrefix(name, "RoundTrips/"):
			trips = append(trips, name)
		case strings.HasPrefix(name, mgmtPrefix):
			mgmt = append(mgmt, name)
		}
	}
	if len(trips) > 0 {
		w.WriteString(`
### Redis round trips per request

` + "`BenchmarkRoundTrips`" + ` (one run, outside the rounds) sends each library's
Redis traffic through a loopback proxy that counts a round trip each time a
client starts sending after it last received: a pipeline or a MULTI block
sent in one write counts once. Existing session; its ns/op include the proxy
hop and are not a timing.

| benchmark | round trips/op | Redis commands/op |
| --- | ---: | ---: |
`)
		for _, name := range trips {
			fmt.Fprintf(w, "| %s | %s | %s |\n", strings.TrimPrefix(name, "RoundTrips/"),
				num(r.med(name, "roundtrips/op"), 2), num(r.med(name, "rediscmds/op"), 2))
		}
	}
	if len(mgmt) > 0 {
		w.WriteString(`
### What session management costs a request

` + "`go test -run '^$' -bench '^Benchmark(RedisManagement|CookieRevocation)$' -benchmem ./pkg/session`" + `
(COUNT runs, not interleaved: information): the Redis store read-only
(*read*) and counter requests with raw ids (the pickle default), hashed ids
(the JSON default), hashed ids with the absolute lifetime, and a logged-in
session (its index entry's last-seen touch is due at most once per
TouchInterval: *logged-in* is a request with no touch due, *logged-in+touch*
one that writes it); the cookie store's logged-in read without and with the
` + "`Revocations`" + ` lookup (one GET).

| benchmark | ns/op | B/op | allocs/op |
| --- | ---: | ---: | ---: |
`)
		for _, name := range mgmt {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mgmtName.Replace(strings.TrimPrefix(name, mgmtPrefix)),
				ns(r.med(name, "ns/op")), num(r.med(name, "B/op"), 0), num(r.med(name, "allocs/op"), 0))
		}
	}
	if rt, err := os.ReadFile(filepath.Join(r.dir, "rtcost.txt")); err == nil {
		w.WriteString(`
### The cost of each Redis call

` + "`bench/cmd/rtcost`" + ` times 5,000 sequential calls of each kind, one at a
time on loopback (median wall time, hop included), and reads Redis's own time
per call from INFO commandstats (a script's time includes the commands it
runs; *cmds/call* counts the script and each of them): plain go-redis calls,
then whole requests of an existing session through the apps of the
in-process benchmarks. wsess reads with one load script (GET, EXPIRE) and
saves with one compare-and-set script (GET, SET); scs reads with GET and
saves with MULTI/SET/PEXPIREAT/EXEC, on reads too (its idle timeout).

` + "```" + `
`)
		w.Write(rt)
		w.WriteString("```\n")
	}
}
