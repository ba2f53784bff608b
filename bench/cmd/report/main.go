// Command report turns the raw results of bench/run.sh (machine.txt,
// meta-PART.txt, inproc.txt, roundtrips.txt, mgmt.txt, rtcost.txt,
// load.txt, scale.txt in -dir) into BENCHMARKS.md: the machine, the
// commands, tables of medians and each target with its verdict.
//
//	report -dir bench/out -o BENCHMARKS.md [-seed 1] [-fail-missed]
//
// The in-process targets are judged on interleaved rounds (see inproc.go
// and package bench/internal/stats): met when the whole 95 % interval of the
// paired median is on the goal's side, missed when it is all on the other
// side, unclear otherwise. With -fail-missed, report exits 1 after writing
// when one of them is missed. The load and scale targets compare one run
// (no interval): met or missed on that run, never a failure.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", "out", "directory with run.sh's raw results")
	out := flag.String("o", "-", "file to write (- for stdout)")
	seed := flag.Uint64("seed", 1, "seed of the bootstrap intervals")
	failMissed := flag.Bool("fail-missed", false, "exit 1 after writing when an in-process target is missed")
	flag.Parse()
	r, err := load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	r.seed = *seed
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	r.write(bw)
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if missed := r.missed(); len(missed) > 0 {
		fmt.Fprintf(os.Stderr, "report: %d in-process target(s) missed:\n", len(missed))
		for _, what := range missed {
			fmt.Fprintln(os.Stderr, "  "+what)
		}
		if *failMissed {
			if f, ok := w.(*os.File); ok && f != os.Stdout {
				f.Close()
			}
			os.Exit(1)
		}
	}
}

type results struct {
	dir     string
	seed    uint64
	machine map[string]string
	meta    map[string]map[string]string // part -> its meta-PART.txt
	order   []string                     // benchmark names in first-seen order
	// bench holds name -> unit -> round -> value. inproc.txt marks its
	// rounds ("# round N"); in the other files the k-th result of a name is
	// its round k.
	bench   map[string]map[string]map[int]float64
	rounds  []int // the rounds of inproc.txt, ascending
	load    []loadRow
	scale   map[string][]map[string]string // command -> one map per run
	scaleOr []string
}

// parts are run.sh's parts, in its order.
var parts = []string{"inproc", "load", "scale", "cluster"}

type loadRow struct {
	name, kase string
	f          map[string]string
}

func load(dir string) (*results, error) {
	r := &results{dir: dir, machine: map[string]string{}, meta: map[string]map[string]string{},
		bench: map[string]map[string]map[int]float64{}, scale: map[string][]map[string]string{}}
	if err := eachLine(filepath.Join(dir, "machine.txt"), func(line string) {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.machine[k] = v
		}
	}); err != nil {
		return nil, err
	}
	for _, part := range parts {
		m := map[string]string{}
		if eachLine(filepath.Join(dir, "meta-"+part+".txt"), func(line string) {
			if k, v, ok := strings.Cut(line, "="); ok {
				m[k] = v
			}
		}) == nil {
			r.meta[part] = m
		}
	}
	r.rounds = r.parseBench(filepath.Join(dir, "inproc.txt"), "")
	r.parseBench(filepath.Join(dir, "roundtrips.txt"), "")
	r.parseBench(filepath.Join(dir, "mgmt.txt"), mgmtPrefix)
	_ = eachLine(filepath.Join(dir, "load.txt"), func(line string) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return
		}
		r.load = append(r.load, loadRow{name: fields[0], kase: fields[1], f: kv(fields[2:])})
	})
	_ = eachLine(filepath.Join(dir, "scale.txt"), func(line string) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return
		}
		if _, ok := r.scale[fields[0]]; !ok {
			r.scaleOr = append(r.scaleOr, fields[0])
		}
		r.scale[fields[0]] = append(r.scale[fields[0]], kv(fields[1:]))
	})
	return r, nil
}

// mgmtPrefix marks the pkg/session benchmarks of mgmt.txt among the
// in-process ones.
const mgmtPrefix = "pkg/session:"

// mgmtName shortens the management benchmarks' names for the table.
var mgmtName = strings.NewReplacer("RedisManagement/", "Redis ", "CookieRevocation/", "Cookie ")

// parseBench adds the benchmark lines of a go test -bench output to r.bench,
// each name prefixed by prefix, and returns the rounds it marks ("# round
// N" lines, which benchstat ignores). Without marks, the k-th result of a
// name is its round k.
func (r *results) parseBench(path, prefix string) []int {
	cur := 0 // the marked round; 0: none
	seen := map[string]int{}
	var rounds []int
	_ = eachLine(path, func(line string) {
		if rest, ok := strings.CutPrefix(line, "# round "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && n > 0 {
				cur = n
				if !slices.Contains(rounds, n) {
					rounds = append(rounds, n)
				}
			}
			return
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			return
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		name = prefix + name
		if r.bench[name] == nil {
			r.bench[name] = map[string]map[int]float64{}
			r.order = append(r.order, name)
		}
		seen[name]++
		rd := cur
		if rd == 0 {
			rd = seen[name]
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			unit := fields[i+1]
			if r.bench[name][unit] == nil {
				r.bench[name][unit] = map[int]float64{}
			}
			r.bench[name][unit][rd] = v
		}
	})
	slices.Sort(rounds)
	return rounds
}

func kv(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

func eachLine(path string, f func(string)) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f(sc.Text())
	}
	return sc.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// med returns the median over its rounds of a benchmark's unit, NaN when
// missing.
func (r *results) med(name, unit string) float64 {
	xs := make([]float64, 0, len(r.bench[name][unit]))
	for _, v := range r.bench[name][unit] {
		xs = append(xs, v)
	}
	return median(xs)
}

func (r *results) loadVal(name, kase, key string) float64 {
	for _, row := range r.load {
		if row.name == name && row.kase == kase {
			v, err := strconv.ParseFloat(row.f[key], 64)
			if err == nil {
				return v
			}
		}
	}
	return math.NaN()
}

// scaleVal returns the median over a command's runs of key (the maximum
// for peak RSS); NaN when a run failed or none was made.
func (r *results) scaleVal(name, key string) float64 {
	runs := r.scale[name]
	if len(runs) == 0 {
		return math.NaN()
	}
	xs := make([]float64, 0, len(runs))
	for _, run := range runs {
		v, err := strconv.ParseFloat(run[key], 64)
		if err != nil {
			return math.NaN()
		}
		xs = append(xs, v)
	}
	if key == "rss_kb" {
		return slices.Max(xs)
	}
	return median(xs)
}

// scaleLast returns key from a command's last run.
func (r *results) scaleLast(name, key string) string {
	runs := r.scale[name]
	if len(runs) == 0 {
		return ""
	}
	return runs[len(runs)-1][key]
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func ns(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= 1e6:
		return num(v/1e6, 2) + " ms"
	case v >= 1e3:
		return num(v/1e3, 2) + " µs"
	}
	return num(v, 0) + " ns"
}

// target is one row of the targets table.
type target struct {
	what, measured, goal string
	// verdict is met, missed or unclear; n/a when nothing was measured.
	verdict string
	// interval: the verdict comes from an interval over rounds (the
	// in-process targets), and a miss is a failure.
	interval bool
	// also is a second measure beside the one judged (information).
	also string
}

// check judges a one-run measurement (the load and scale parts): met or
// missed on that run.
func check(what, goal string, measured float64, prec int, suffix string, ok func(float64) bool) target {
	t := target{what: what, goal: goal, measured: num(measured, prec) + suffix, verdict: "n/a", also: "no interval (one run, or the median of SCALE_REPEAT): never a failure"}
	if !math.IsNaN(measured) {
		t.verdict = "missed"
		if ok(measured) {
			t.verdict = "met"
		}
	}
	return t
}

// missed returns the in-process targets whose verdict is missed.
func (r *results) missed() []string {
	var out []string
	for _, t := range r.targets() {
		if t.interval && t.verdict == "missed" {
			out = append(out, t.what)
		}
	}
	return out
}

func (r *results) targets() []target {
	var ts []target
	le := func(lim float64) func(float64) bool { return func(v float64) bool { return v <= lim } }
	ge := func(lim float64) func(float64) bool { return func(v float64) bool { return v >= lim } }
	ts = append(ts, r.inprocTargets()...)
	for _, c := range []struct {
		call  string
		limit float64
	}{{"wsess-redis read request", 2000}, {"wsess-redis counter request", 5000}} {
		ts = append(ts, check(fmt.Sprintf("(2) Redis's own time per %s (INFO commandstats, bench/cmd/rtcost)", strings.TrimPrefix(c.call, "wsess-redis ")),
			fmt.Sprintf("≤ %.0f µs", c.limit/1e3), r.rtServerNs(c.call)/1e3, 2, " µs", le(c.limit/1e3)))
	}
	for _, kase := range []string{"many", "shared"} {
		ts = append(ts,
			check(fmt.Sprintf("(3) wrk, %s sessions: serve demo (cookie) req/s ÷ the bare server", kase), "≥ 0.90",
				r.loadVal("wsess-cookie", kase, "rps")/r.loadVal("bare", kase, "rps"), 2, "", ge(0.90)),
			check(fmt.Sprintf("(3) wrk, %s sessions: serve demo (cookie) req/s ÷ gorilla", kase), "≥ 1.2",
				r.loadVal("wsess-cookie", kase, "rps")/r.loadVal("gorilla", kase, "rps"), 2, "", ge(1.2)),
			check(fmt.Sprintf("(3) wrk, %s sessions: serve demo (Redis) req/s ÷ scs (Redis)", kase), "≥ 1.0",
				r.loadVal("wsess-redis", kase, "rps")/r.loadVal("scs-redis", kase, "rps"), 2, "", ge(1.0)))
		for _, name := range []string{"wsess-cookie", "wsess-redis"} {
			ts = append(ts, check(fmt.Sprintf("(3) wrk, %s sessions: %s non-2xx + socket errors", kase, name), "= 0",
				r.loadVal(name, kase, "non2xx")+r.loadVal(name, kase, "errors"), 0, "", func(v float64) bool { return v == 0 }))
		}
	}
	sf := r.scaleVal("scanfloor", "wall")
	ts = append(ts,
		check("(4) ls --keys-only -o tsv ÷ SCAN floor (wall)", "≤ 1.3", r.scaleVal("ls-keys-only", "wall")/sf, 2, "", le(1.3)),
		check("(4) redis-cli --scan ÷ ls --keys-only (wall)", "≥ 4", r.scaleVal("redis-cli-scan", "wall")/r.scaleVal("ls-keys-only", "wall"), 2, "", ge(4)),
		check("(4) ls -o tsv ÷ SCAN floor (wall)", "≤ 4", r.scaleVal("ls", "wall")/sf, 2, "", le(4)),
		check("(4) xargs unlink ÷ expire --delete (wall)", "≥ 3", r.scaleVal("xargs-unlink", "wall")/r.scaleVal("expire-delete", "wall"), 2, "", ge(3)),
		check("(4) xargs unlink ÷ expire --in 1h (wall)", "≥ 3", r.scaleVal("xargs-unlink", "wall")/r.scaleVal("expire-in", "wall"), 2, "", ge(3)),
	)
	ts = append(ts,
		check("(4) expire --delete ÷ its floor, one UNLINK per batch (wall)", "≤ 1.3", r.scaleVal("expire-delete", "wall")/r.scaleVal("floor-delete", "wall"), 2, "", le(1.3)),
		check("(4) expire --in 1h ÷ its floor, one script call per batch (wall)", "≤ 1.3", r.scaleVal("expire-in", "wall")/r.scaleVal("floor-in", "wall"), 2, "", le(1.3)),
		check("(4) expire --no-ttl --in 24h ÷ its floor, one script call per batch (wall)", "≤ 1.3", r.scaleVal("expire-nottl", "wall")/r.scaleVal("floor-nottl", "wall"), 2, "", le(1.3)),
		check("(4) stats ÷ SCAN + describe-pipeline floor (wall; informational)", "≤ 1.3", r.scaleVal("stats", "wall")/r.scaleVal("floor-describe", "wall"), 2, "", le(1.3)),
		check("(4) redis doctor ÷ SCAN floor (wall)", "≤ 1.5", r.scaleVal("doctor", "wall")/r.scaleVal("scanfloor-doctor", "wall"), 2, "", le(1.5)),
	)
	for _, c := range []struct{ row, label, floor string }{
		{"cluster-ls-keys-only", "ls --keys-only", "cluster-scanfloor"},
		{"cluster-stats", "stats", "cluster-floor-describe"},
		{"cluster-expire-in", "expire --in 1h", "cluster-floor-in"},
	} {
		floorName := map[string]string{
			"cluster-scanfloor":      "all-masters SCAN floor",
			"cluster-floor-describe": "all-masters SCAN + describe-pipeline floor",
			"cluster-floor-in":       "all-masters script floor",
		}[c.floor]
		ts = append(ts,
			check("(4) cluster: "+c.label+" ÷ "+floorName+" (wall)", "≤ 1.3", r.scaleVal(c.row, "wall")/r.scaleVal(c.floor, "wall"), 2, "", le(1.3)),
			check("(4) cluster: "+c.label+" ÷ serial sum of its per-master walls", "≤ 0.8", r.scaleVal(c.row, "wall")/r.serialSum(c.row), 2, "", le(0.8)))
	}
	for _, name := range []string{"ls-keys-only", "ls", "stats", "expire-in", "expire-delete", "expire-nottl", "doctor",
		"cluster-ls-keys-only", "cluster-stats", "cluster-expire-in"} {
		ts = append(ts, check("(4) peak RSS of wsess "+name, "< 64 MiB", r.scaleVal(name, "rss_kb")/1024, 1, " MiB", func(v float64) bool { return v < 64 }))
	}
	return ts
}

// serialSum is the sum of the median walls of row-m1, row-m2 and row-m3:
// the time the walk takes one master after the other.
func (r *results) serialSum(row string) float64 {
	sum := 0.0
	for i := 1; i <= 3; i++ {
		sum += r.scaleVal(fmt.Sprintf("%s-m%d", row, i), "wall")
	}
	return sum
}

// scaleRow writes one row of a scale table.
func (r *results) scaleRow(w *bufio.Writer, name string) {
	walls := make([]string, 0, len(r.scale[name]))
	for _, run := range r.scale[name] {
		walls = append(walls, run["wall"])
	}
	fmt.Fprintf(w, "| %s | %d | %s s | %s | %s s | %s MiB | %s | %s | %s |\n", name, len(r.scale[name]),
		num(r.scaleVal(name, "wall"), 2), strings.Join(walls, " "), num(r.scaleVal(name, "server_s"), 2),
		num(r.scaleVal(name, "rss_kb")/1024, 1), r.scaleLast(name, "keys_before"), r.scaleLast(name, "keys_after"),
		r.scaleLast(name, "out"))
}

func (r *results) write(w *bufio.Writer) {
	r.writeHead(w)
	if len(r.bench) > 0 {
		r.writeInproc(w)
	}
	if len(r.load) > 0 {
		r.writeLoad(w)
	}
	var plain, cluster []string
	for _, name := range r.scaleOr {
		if strings.HasPrefix(name, "cluster-") {
			cluster = append(cluster, name)
		} else {
			plain = append(plain, name)
		}
	}
	if len(plain) > 0 {
		r.writeScale(w, plain)
	}
	if len(cluster) > 0 {
		r.writeCluster(w, cluster, r.partMeta("cluster"))
	}
}

// writeLoad writes the wrk section.
func (r *results) writeLoad(w *bufio.Writer) {
	m := r.partMeta("load")
	fmt.Fprintf(w, `
## Load: wrk against real servers on loopback

`+"`wrk %s -s bench/wrk/sessions.lua URL/counter`"+`, one run per row. wsess is
`+"`wsess serve demo --store cookie|redis`"+` (its /counter uses Session.Incr); the
peers are `+"`bench/cmd/peerserver -lib NAME`"+` (same server timeouts, same one
log line per request, stderr to a file). *many*: 4 sessions per connection
(the first responses' Set-Cookie), sent round-robin so that no two requests in
flight share one; *shared*: one cookie sent by all connections at once (a
user's concurrent requests: wsess Redis replays them so none is lost, scs and
the cookie stores keep the last write). wrk runs on the same 2 cores as the
server and Redis.

| server | sessions | req/s | p50 | p99 | non-2xx | socket errors | statuses in the server's log |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
`, m["wrkflags"])
	for _, row := range r.load {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.name, row.kase, num(r.loadVal(row.name, row.kase, "rps"), 0),
			ns(r.loadVal(row.name, row.kase, "p50_us")*1e3), ns(r.loadVal(row.name, row.kase, "p99_us")*1e3),
			row.f["non2xx"], row.f["errors"], row.f["statuses"])
	}

}

// writeScale writes the admin-command section, rows in run order.
func (r *results) writeScale(w *bufio.Writer, names []string) {
	w.WriteString(`
## Scale: admin commands on 1,000,000 sessions

A private redis-server filled by ` + "`bench/cmd/fill | redis-cli --pipe`" + ` with the
sessions under one prefix (43-character ids, small JSON values, TTLs of 30 min
to 3 h) and other keys beside them. Each command runs under
` + "`/usr/bin/time -v`" + ` (wall time, peak RSS of the largest process); those that
change nothing run SCALE_REPEAT times, interleaved, and the table shows the
median wall time and the largest peak RSS. *scanfloor*
is ` + "`bench/cmd/scanfloor`" + `: SCAN MATCH prefix* COUNT 1000 over one connection,
counting keys. *Redis busy* is the time Redis itself spent in the commands
of that row (INFO commandstats, reset before each): no client can finish a
walk faster than the server's SCANs, so it bounds every ratio to redis-cli.
The store is filled again before *xargs-unlink*, which runs
` + "`redis-cli --scan --pattern 'PREFIX*' | xargs -n 1000 redis-cli unlink`" + `.

| command | runs | wall (median) | all walls | Redis busy (median) | peak RSS (max) | keys before | keys after | last output line |
| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |
`)
	for _, name := range names {
		r.scaleRow(w, name)
	}
	w.WriteString(`
Commands (PREFIX, PORT and the binary paths are run.sh's):

` + "```" + `
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX
redis-cli --scan --pattern 'PREFIX*' | wc -l
wsess redis ls --prefix PREFIX --keys-only -o tsv | wc -l
wsess redis ls --prefix PREFIX -o tsv | wc -l
wsess redis stats --prefix PREFIX
wsess redis expire --prefix PREFIX --in 1h --yes
wsess redis expire --prefix PREFIX --delete --yes
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX -action in -ttl 1h      # floor-in
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX -action delete          # floor-delete
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX -action nottl -ttl 24h  # floor-nottl
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX -action describe        # floor-describe
wsess redis expire --prefix PREFIX --no-ttl --in 24h --yes             # expire-nottl
redis-cli --scan --pattern 'PREFIX*' | xargs -n 1000 redis-cli unlink
scanfloor -addr 127.0.0.1:PORT -prefix PREFIX                         # scanfloor-doctor
wsess redis doctor --prefix PREFIX -o tsv | wc -l
` + "```" + `

*doctor* and *scanfloor-doctor* run last, on the store filled again with
every tenth session logged in (` + "`fill -logged-in-every 10`" + `: 100,000 sessions
of 50,000 users, each listed in its user's index), so that doctor has indexes
to check; doctor walks every key (it looks for wsess's keys outside the
prefix too) and reads the PTTL and the value of each key under the prefix.

The floors (` + "`bench/cmd/scanfloor -action`" + `) are the same SCAN COUNT 1000 loop,
pipelined (the next SCAN runs while the previous batch is acted on), sending
per batch one variadic UNLINK (*floor-delete*), one script call that sets the
TTL of every key of the batch (*floor-in*), or one script call that sets the
TTL of the batch's keys that have none (*floor-nottl*), or one pipeline of
OBJECT IDLETIME, PTTL and STRLEN per key (*floor-describe*, what stats
reads; it also samples MEMORY USAGE; ls reads each value with GET in place
of STRLEN). For *floor-nottl* and
*expire-nottl* the store is filled with every second session without a
TTL before each; it is filled again before *floor-delete*.
`)
}

// writeCluster writes the cluster section, rows in run order.
func (r *results) writeCluster(w *bufio.Writer, cluster []string, m map[string]string) {
	fmt.Fprintf(w, `
## Scale: a 3-master cluster

Three redis-servers on loopback with cluster mode on and no replicas, filled
with the CLUSTER_SESSIONS sessions (%s) through a cluster client. The machine
has %s cores, so the masters, the client and the floor share them: the
floor is run the same way as wsess, *cluster-scanfloor* scanning all
masters at once (one connection each), *cluster-floor-describe* the same
with one describe pipeline per batch (the floor for stats), and
*cluster-floor-in* the same with one script call per batch that sets its
TTL. Rows ending in -mN run on master N
alone (wsess with that master's URL); the targets compare the cluster-wide
walls with the sum of those.

| command | runs | wall (median) | all walls | Redis busy (median) | peak RSS (max) | keys before | keys after | last output line |
| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |
`, settingOf(m["settings"], "CLUSTER_SESSIONS"), r.machine["nproc"])
	for _, name := range cluster {
		r.scaleRow(w, name)
	}
	w.WriteString(`
` + "```" + `
scanfloor -addrs M1,M2,M3 -prefix PREFIX                    # cluster-scanfloor
wsess --cluster M1,M2,M3 redis ls --prefix PREFIX --keys-only -o tsv | wc -l
wsess --cluster M1,M2,M3 redis stats --prefix PREFIX
scanfloor -addrs M1,M2,M3 -prefix PREFIX -action describe  # cluster-floor-describe
scanfloor -addrs M1,M2,M3 -prefix PREFIX -action in -ttl 1h # cluster-floor-in
wsess --cluster M1,M2,M3 redis expire --prefix PREFIX --in 1h --yes
wsess --redis-url redis://MN/0 redis ...                    # the -mN rows
` + "```" + `
`)
}

// settingOf returns KEY's value in the machine's settings line.
func settingOf(settings, key string) string {
	for _, f := range strings.Fields(settings) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v
		}
	}
	return "n/a"
}

// rtServerNs returns Redis's own time per call of the rtcost.txt row call
// (its "server/call" column), in nanoseconds; NaN when there is none.
func (r *results) rtServerNs(call string) float64 {
	data, err := os.ReadFile(filepath.Join(r.dir, "rtcost.txt"))
	if err != nil {
		return math.NaN()
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, call+" ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return math.NaN()
		}
		d, err := time.ParseDuration(strings.Replace(f[1], "µs", "us", 1))
		if err != nil {
			return math.NaN()
		}
		return float64(d.Nanoseconds())
	}
	return math.NaN()
}
