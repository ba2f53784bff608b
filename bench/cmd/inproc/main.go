// Command inproc runs one round of bench/run.sh's in-process benchmarks.
// For each group of apps that the targets compare, it serves their
// requests interleaved one by one (bench.Interleave: a b c a b c ...), so
// that whatever else runs on the machine meanwhile falls on all of them
// alike, and prints one line per app in go test -bench's format (benchstat
// and bench/cmd/report read it):
//
//	inproc [-round N] [-time 0.3s] [-redis-addr HOST:PORT] [-groups REGEXP] [-list]
//
// Units: ns/op and p50-ns/op, the mean and the median wall time of a
// request (a fresh httptest request and recorder through the app);
// tcpu-ns/op and p50-tcpu-ns/op, the mean and the median CPU time of the
// thread that served it (cookie groups only: there the goroutine is locked
// to its thread; a Redis request waits on the network, and a locked
// goroutine is woken more slowly); B/op and allocs/op, from 200 requests
// of the app alone (bench.Allocs); rediscmds/op (Redis apps: INFO
// commandstats around those 200) and cookie-B (the cookie stores'
// name=value).
//
// On even rounds each group's apps take their turns in reverse order. The
// Redis groups flush the server first and are skipped without -redis-addr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wsess/wsess/bench"
)

// member is one app of a group and the session its requests carry.
type member struct{ app, kind string }

type group struct {
	name  string
	path  string
	redis bool
	apps  []member
}

var (
	cookieExisting = []member{{"bare", bench.KindExisting}, {"wsess-cookie", bench.KindExisting},
		{"gorilla", bench.KindExisting}, {"scs-mem", bench.KindExisting}}
	groups = []group{
		{"read-cookie", "/read", false, cookieExisting},
		{"counter-cookie", "/counter", false, cookieExisting},
		{"read-redis", "/read", true, []member{{"redis-floor", bench.KindExisting}, {"wsess-redis", bench.KindExisting},
			{"wsess-redis", bench.KindLoggedIn}, {"redis-floor", bench.KindLoggedIn}, {"scs-redis", bench.KindExisting}}},
		{"counter-redis", "/counter", true, []member{{"redis-floor", bench.KindExisting}, {"wsess-redis", bench.KindExisting},
			{"scs-redis", bench.KindExisting}}},
		{"new-cookie", "/counter", false, []member{{"wsess-cookie", bench.KindNew}, {"gorilla", bench.KindNew}, {"scs-mem", bench.KindNew}}},
		{"new-redis", "/counter", true, []member{{"wsess-redis", bench.KindNew}, {"scs-redis", bench.KindNew}}},
	}
)

// allocRuns is how many requests Allocs serves per app.
const allocRuns = 200

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "inproc:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inproc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	round := fs.Int("round", 1, "this round's number (even: each group's apps in reverse order)")
	per := fs.Duration("time", 300*time.Millisecond, "wall time per app and group")
	redisAddr := fs.String("redis-addr", "", "Redis host:port for the Redis groups (none: they are skipped)")
	only := fs.String("groups", ".", "run the groups whose names match this regexp: "+groupNames())
	list := fs.Bool("list", false, "print the names of the groups -groups matches, one a line, and run nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	re, err := regexp.Compile(*only)
	if err != nil {
		return fmt.Errorf("-groups: %w", err)
	}
	if *list {
		for _, g := range groups {
			if re.MatchString(g.name) {
				fmt.Fprintln(stdout, g.name)
			}
		}
		return nil
	}
	ctx := context.Background()
	fmt.Fprintf(stdout, "goos: %s\ngoarch: %s\npkg: github.com/wsess/wsess/bench\n", runtime.GOOS, runtime.GOARCH)
	for _, g := range groups {
		if !re.MatchString(g.name) {
			continue
		}
		if g.redis && *redisAddr == "" {
			fmt.Fprintf(stderr, "inproc: no -redis-addr, skipping %s\n", g.name)
			continue
		}
		if err := runGroup(ctx, stdout, g, *round, *per, *redisAddr); err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
	}
	return nil
}

func groupNames() string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.name
	}
	return strings.Join(names, ", ")
}

// runGroup measures one group and prints its lines, in the group's order
// whatever the round's.
func runGroup(ctx context.Context, out io.Writer, g group, round int, per time.Duration, redisAddr string) error {
	var adm *bench.Admin
	if g.redis {
		var err error
		if adm, err = bench.NewAdmin(ctx, redisAddr); err != nil {
			return err
		}
		defer adm.Close()
		if err := adm.FlushAll(ctx); err != nil {
			return err
		}
	}
	apps := make([]*bench.Prepared, len(g.apps))
	for i, m := range g.apps {
		p, err := bench.Prepare(ctx, redisAddr, m.app, m.kind, g.path)
		if err != nil {
			return err
		}
		defer p.Close()
		apps[i] = p
	}
	type extra struct{ allocs, bytes, cmds float64 }
	extras := make([]extra, len(apps))
	for i, p := range apps {
		e := extra{cmds: math.NaN()}
		var before map[string]int64
		if p.Redis {
			var err error
			if before, err = adm.CommandStats(ctx); err != nil {
				return err
			}
		}
		var err error
		if e.allocs, e.bytes, err = bench.Allocs(p, allocRuns); err != nil {
			return err
		}
		if p.Redis {
			after, err := adm.CommandStats(ctx)
			if err != nil {
				return err
			}
			var total int64
			for _, n := range bench.CommandDiff(before, after) {
				total += n
			}
			e.cmds = float64(total) / allocRuns
		}
		extras[i] = e
	}
	order := slices.Clone(apps)
	if round%2 == 0 {
		slices.Reverse(order)
	}
	ms, err := bench.Interleave(order, bench.InterleaveOptions{PerApp: per, ThreadCPU: !g.redis})
	if err != nil {
		return err
	}
	byName := map[string]bench.Measurement{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	for i, p := range apps {
		m := byName[p.Name]
		var b strings.Builder
		fmt.Fprintf(&b, "Benchmark%s-%d\t%8d\t%10.0f ns/op\t%10.0f p50-ns/op", p.Name, runtime.GOMAXPROCS(0), m.N, m.WallMean, m.WallP50)
		if !math.IsNaN(m.CPUP50) {
			fmt.Fprintf(&b, "\t%10.0f tcpu-ns/op\t%10.0f p50-tcpu-ns/op", m.CPUMean, m.CPUP50)
		}
		fmt.Fprintf(&b, "\t%8.0f B/op\t%6.1f allocs/op", extras[i].bytes, extras[i].allocs)
		if !math.IsNaN(extras[i].cmds) {
			fmt.Fprintf(&b, "\t%5.2f rediscmds/op", extras[i].cmds)
		}
		if g.apps[i].app == "wsess-cookie" || g.apps[i].app == "gorilla" {
			if p.Cookie != "" {
				fmt.Fprintf(&b, "\t%4d cookie-B", len(p.Cookie))
			}
		}
		fmt.Fprintln(out, b.String())
	}
	return nil
}
