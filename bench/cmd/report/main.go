// Command report turns the raw results of bench/run.sh (machine.txt,
// inproc.txt, load.txt, scale.txt in -dir) into BENCHMARKS.md: the machine,
// the commands, tables of medians and each target with its measured ratio.
//
//	report -dir bench/out -o BENCHMARKS.md
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
)

func main() {
	dir := flag.String("dir", "out", "directory with run.sh's raw results")
	out := flag.String("o", "-", "file to write (- for stdout)")
	flag.Parse()
	r, err := load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
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
}

type results struct {
	dir     string
	machine map[string]string
	order   []string                        // benchmark names in first-seen order
	bench   map[string]map[string][]float64 // name -> unit -> samples
	load    []loadRow
	scale   map[string][]map[string]string // command -> one map per run
	scaleOr []string
}

type loadRow struct {
	name, kase string
	f          map[string]string
}

func load(dir string) (*results, error) {
	r := &results{dir: dir, machine: map[string]string{}, bench: map[string]map[string][]float64{}, scale: map[string][]map[string]string{}}
	if err := eachLine(filepath.Join(dir, "machine.txt"), func(line string) {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.machine[k] = v
		}
	}); err != nil {
		return nil, err
	}
	r.parseBench(filepath.Join(dir, "inproc.txt"), "")
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
// each name prefixed by prefix.
func (r *results) parseBench(path, prefix string) {
	_ = eachLine(path, func(line string) {
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
			r.bench[name] = map[string][]float64{}
			r.order = append(r.order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			r.bench[name][fields[i+1]] = append(r.bench[name][fields[i+1]], v)
		}
	})
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

// med returns the median of a benchmark's unit, NaN when missing.
func (r *results) med(name, unit string) float64 {
	return median(r.bench[name][unit])
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

// writeRoom says how much of the (1) ratio targets the harness itself
// takes: each ratio divides wsess's whole op, the bare floor included, by
// the peer's, so a middleware that cost nothing would score floor ÷ peer,
// and what is left under 0.25 is all a middleware may spend.
func (r *results) writeRoom(w *bufio.Writer) {
	var rows []string
	for _, kase := range []struct{ bench, label, floor string }{
		{"Counter", "counter", "Counter/bare/new"}, {"Read", "read-only", "Read/bare/existing"},
	} {
		floor := r.med(kase.floor, "ns/op")
		own := r.med(kase.bench+"/wsess-cookie/existing", "ns/op") - floor
		for _, peer := range []string{"gorilla", "scs-mem"} {
			p := r.med(kase.bench+"/"+peer+"/existing", "ns/op")
			if math.IsNaN(floor) || math.IsNaN(p) || math.IsNaN(own) {
				continue
			}
			rows = append(rows, fmt.Sprintf("| %s ÷ %s | %s | %s µs | %s µs |", kase.label, peer,
				num(floor/p, 3), num((0.25*p-floor)/1e3, 2), num(own/1e3, 2)))
		}
	}
	if len(rows) == 0 {
		return
	}
	w.WriteString(`
The (1) ratios divide wsess's whole op by the peer's, the harness's bare
floor (request, recorder, mux, handler) included in both. A middleware that
cost nothing would score *floor ÷ peer*; what is left under 0.25 is all the
time a middleware may spend, against what wsess's spends (its op − the floor).
How fast the peers run varies from run to run with the machine's load (they
allocate about ten times as much as wsess, and their garbage collection
competes for the second core), and the room varies with it; the floor itself
moves by a microsecond between runs, so wsess's own cost is known to about
that.

| ratio | floor ÷ peer | room under 0.25 | wsess's own cost |
| --- | ---: | ---: | ---: |
`)
	for _, row := range rows {
		w.WriteString(row + "\n")
	}
}

type target struct {
	what, measured, goal string
	ok                   bool
	known                bool
}

func check(what, goal string, measured float64, prec int, suffix string, ok func(float64) bool) target {
	t := target{what: what, goal: goal, measured: num(measured, prec) + suffix}
	if !math.IsNaN(measured) {
		t.known, t.ok = true, ok(measured)
	}
	return t
}

func (r *results) targets() []target {
	var ts []target
	le := func(lim float64) func(float64) bool { return func(v float64) bool { return v <= lim } }
	ge := func(lim float64) func(float64) bool { return func(v float64) bool { return v >= lim } }
	for _, kase := range []struct{ bench, label string }{
		{"Counter", "counter"}, {"Read", "read-only"},
	} {
		w := kase.bench + "/wsess-cookie/existing"
		floor := r.med("Counter/bare/new", "ns/op")
		if kase.bench == "Read" {
			floor = r.med("Read/bare/existing", "ns/op")
		}
		for _, peer := range []string{"gorilla", "scs-mem"} {
			p := kase.bench + "/" + peer + "/existing"
			ts = append(ts,
				check(fmt.Sprintf("(1) cookie, existing session, %s: wsess ns/op ÷ %s", kase.label, peer), "≤ 0.25",
					r.med(w, "ns/op")/r.med(p, "ns/op"), 3, "", le(0.25)),
				check(fmt.Sprintf("(1) cookie, existing session, %s: wsess allocs/op ÷ %s", kase.label, peer), "≤ 0.25",
					r.med(w, "allocs/op")/r.med(p, "allocs/op"), 3, "", le(0.25)))
		}
		cpuFloor := r.med("Counter/bare/new", "cpu-ns/op")
		if kase.bench == "Read" {
			cpuFloor = r.med("Read/bare/existing", "cpu-ns/op")
		}
		ts = append(ts,
			check(fmt.Sprintf("(1) cookie, existing session, %s: wsess ns/op − bare floor", kase.label), "≤ 2 µs",
				(r.med(w, "ns/op")-floor)/1e3, 2, " µs", le(2)),
			check(fmt.Sprintf("(1) cookie, existing session, %s: wsess cpu-ns/op − bare floor (CPU time, for a busy machine)", kase.label), "≤ 2 µs",
				(r.med(w, "cpu-ns/op")-cpuFloor)/1e3, 2, " µs", le(2)))
	}
	ts = append(ts,
		check("(2) Redis, read-only: wsess round trips per request", "= 1",
			r.med("RoundTrips/wsess-redis/read", "roundtrips/op"), 2, "", func(v float64) bool { return v == 1 }),
		check("(2) Redis, read-only: scs ns/op ÷ wsess ns/op", "≥ 1.8",
			r.med("Read/scs-redis/existing", "ns/op")/r.med("Read/wsess-redis/existing", "ns/op"), 2, "", ge(1.8)),
		check("(2) Redis, counter: wsess round trips per request", "= 2",
			r.med("RoundTrips/wsess-redis/counter", "roundtrips/op"), 2, "", func(v float64) bool { return v == 2 }),
		check("(2) Redis, counter, existing session: scs ns/op ÷ wsess ns/op", "≥ 1.0",
			r.med("Counter/scs-redis/existing", "ns/op")/r.med("Counter/wsess-redis/existing", "ns/op"), 2, "", ge(1.0)),
	)
	for _, kase := range []string{"many", "shared"} {
		ts = append(ts,
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
	for _, name := range []string{"ls-keys-only", "ls", "stats", "expire-in", "expire-delete", "expire-nottl",
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
	m := r.machine
	fmt.Fprintf(w, `# Benchmarks

Generated by `+"`bench/run.sh`"+` (also `+"`make bench`"+`) on %s; do not edit by hand,
run it again. Every number below comes from that one run on one machine; ratios
compare numbers of the same run. Medians of %s.

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
| load average at start | %s |
| commit | %s |
| settings | %s |
| run time | %s |

`, m["date"], "the `-count` runs", m["cpu"], m["nproc"], m["mem"], m["kernel"], m["go"], m["redis"], m["wrk"],
		m["load"], m["commit"], "`"+m["settings"]+"`", m["elapsed"])

	w.WriteString("## Targets\n\n| target | goal | measured | met |\n| --- | --- | --- | --- |\n")
	for _, t := range r.targets() {
		mark := "n/a"
		if t.known {
			mark = "no"
			if t.ok {
				mark = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.what, t.goal, t.measured, mark)
	}
	r.writeRoom(w)

	w.WriteString(`
## In-process: weppy's counter through each library's middleware

` + "`cd bench && go test -run '^$' -bench . -benchmem -count N`" + ` (run.sh passes
` + "`WSESS_BENCH_REDIS_ADDR`" + `; alone, the benchmarks start their own
redis-server). One op = a fresh ` + "`httptest`" + ` request and recorder through
the middleware and an ` + "`http.ServeMux`" + `. *new*: no cookie, so a new session
each op; *existing*: the cookie of a session made before the loop. *Counter*
reads an int, adds one and writes it back; *Read* loads the session and
changes nothing. gorilla/sessions v1.4.0 ` + "`CookieStore`" + ` with a hash key and
a block key (encrypted); scs v2.9.0 with IdleTimeout set (memstore, and
redisstore over redigo); *bare* is the same handler without sessions.
` + "`rediscmds/op`" + ` counts Redis commands from INFO commandstats (commands run
inside a Lua script included); ` + "`cookie-B`" + ` is the size of name=value;
` + "`cpu-ns/op`" + ` is the process's user + system CPU time per op (getrusage),
steadier than wall time when other work shares the cores (it includes the GC's
background work; Redis's own CPU is not in it).

| benchmark | ns/op | cpu-ns/op | B/op | allocs/op | cookie-B | rediscmds/op |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
`)
	for _, name := range r.order {
		if strings.HasPrefix(name, "RoundTrips/") || strings.HasPrefix(name, mgmtPrefix) {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name, ns(r.med(name, "ns/op")), ns(r.med(name, "cpu-ns/op")),
			num(r.med(name, "B/op"), 0), num(r.med(name, "allocs/op"), 0),
			num(r.med(name, "cookie-B"), 0), num(r.med(name, "rediscmds/op"), 2))
	}
	w.WriteString(`
### Redis round trips per request

` + "`BenchmarkRoundTrips`" + ` sends each library's Redis traffic through a loopback
proxy that counts a round trip each time a client starts sending after it last
received: a pipeline or a MULTI block sent in one write counts once. Existing
session; its ns/op include the proxy hop and are not a timing.

| benchmark | round trips/op | Redis commands/op |
| --- | ---: | ---: |
`)
	for _, name := range r.order {
		if !strings.HasPrefix(name, "RoundTrips/") {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", strings.TrimPrefix(name, "RoundTrips/"),
			num(r.med(name, "roundtrips/op"), 2), num(r.med(name, "rediscmds/op"), 2))
	}

	w.WriteString(`
### What session management costs a request

` + "`go test -run '^$' -bench '^Benchmark(RedisManagement|CookieRevocation)$' -benchmem ./pkg/session`" + `:
the Redis store read-only (*read*) and counter requests with raw ids (the
pickle default), hashed ids (the JSON default), hashed ids with the absolute
lifetime, and a logged-in session (its index entry's last-seen touch is due
at most once per TouchInterval: *logged-in* is a request with no touch due,
*logged-in+touch* one that writes it); the cookie store's logged-in read
without and with the ` + "`Revocations`" + ` lookup (one GET).

| benchmark | ns/op | B/op | allocs/op |
| --- | ---: | ---: | ---: |
`)
	for _, name := range r.order {
		if !strings.HasPrefix(name, mgmtPrefix) {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mgmtName.Replace(strings.TrimPrefix(name, mgmtPrefix)),
			ns(r.med(name, "ns/op")), num(r.med(name, "B/op"), 0), num(r.med(name, "allocs/op"), 0))
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
	for _, name := range r.scaleOr {
		if !strings.HasPrefix(name, "cluster-") {
			r.scaleRow(w, name)
		}
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
` + "```" + `

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
	var cluster []string
	for _, name := range r.scaleOr {
		if strings.HasPrefix(name, "cluster-") {
			cluster = append(cluster, name)
		}
	}
	if len(cluster) == 0 {
		return
	}
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
`, settingOf(m["settings"], "CLUSTER_SESSIONS"), m["nproc"])
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
