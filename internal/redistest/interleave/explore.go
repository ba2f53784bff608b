package interleave

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables read by Explore when the matching Options field is
// zero.
const (
	// EnvExplore set to "full" lifts Options.MaxSchedules to FullLimit:
	// every schedule of every scenario (slow; for occasional runs).
	EnvExplore = "WSESS_EXPLORE"
	// EnvSeed sets the random sample's seed (a decimal uint64), to run a
	// reported sample again.
	EnvSeed = "WSESS_INTERLEAVE_SEED"
	// EnvReplay runs one schedule only, given by the replay token a failure
	// reports (the slots released, dot-separated: "0.1.1.0"). Select the
	// scenario with go test -run.
	EnvReplay = "WSESS_INTERLEAVE_REPLAY"
)

// FullLimit bounds an exhaustive run (WSESS_EXPLORE=full), so that even a
// mistaken scenario ends.
const FullLimit = 1_000_000

// Options tune an exploration. The zero value means every default.
type Options struct {
	// MaxSchedules bounds the exhaustive search: when the first run
	// suggests more schedules (the multinomial of its step counts), or the
	// search has run this many without finishing, Explore samples instead.
	// Default 500; FullLimit with WSESS_EXPLORE=full.
	MaxSchedules int
	// Samples is how many random schedules a sample runs. Default 100.
	Samples int
	// Seed seeds the sample. Default: WSESS_INTERLEAVE_SEED, else the
	// time; Result.Seed reports it.
	Seed uint64
	// Replay runs the one schedule of a replay token (Failure.Replay)
	// instead of exploring. Default: WSESS_INTERLEAVE_REPLAY.
	Replay string
	// Timeout bounds each run, setup and checks excluded. Default 10 s.
	Timeout time.Duration
	// Reduce skips schedules that differ from one already run only by the
	// order of adjacent steps of different participants that touch no key
	// in common (sleep sets): it runs one schedule per equivalence class
	// instead of every interleaving. Sound only when participants interact
	// through the keys of their commands alone (no shared memory, no
	// ordering by time), and every script declares its keys. Commands whose
	// keys are not known (see keysOf) count as touching every key. The
	// bound then applies to the schedules run, and Estimate is not used to
	// decide. Default false.
	Reduce bool
	// Names labels scripts in step descriptions: SHA-1 (hex, lower case,
	// as redis.Script.Hash returns it) to name. Unnamed scripts show the
	// first 8 hex digits of their SHA-1.
	Names map[string]string
}

func (o *Options) defaults() error {
	if o.MaxSchedules <= 0 {
		o.MaxSchedules = 500
		if os.Getenv(EnvExplore) == "full" {
			o.MaxSchedules = FullLimit
		}
	}
	if o.Samples <= 0 {
		o.Samples = 100
	}
	if o.Seed == 0 {
		if v := os.Getenv(EnvSeed); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("interleave: %s=%q is not a positive decimal integer", EnvSeed, v)
			}
			o.Seed = n
		} else {
			o.Seed = uint64(time.Now().UnixNano())
		}
	}
	if o.Replay == "" {
		o.Replay = os.Getenv(EnvReplay)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return nil
}

// Scenario is one run's work: the participants' tasks (each participant at
// most once) and the checks to make once they have all returned.
type Scenario struct {
	Tasks []Task
	// Check inspects the outcome and reports what is wrong through c. It
	// may be nil.
	Check func(c *Checker)
}

// Checker collects the failed checks of one run.
type Checker struct {
	schedule Schedule
	taskErrs []error
	fails    []failed
}

type failed struct{ check, msg string }

// Errorf reports that the named check failed in this run. The name groups
// failures across runs: Result keeps the first failing schedule of each.
func (c *Checker) Errorf(check, format string, args ...any) {
	c.fails = append(c.fails, failed{check, fmt.Sprintf(format, args...)})
}

// Schedule returns the steps the run took.
func (c *Checker) Schedule() Schedule { return c.schedule }

// TaskErr returns what task i of the scenario returned.
func (c *Checker) TaskErr(i int) error { return c.taskErrs[i] }

// Failure is a check that failed, with the first schedule that broke it.
type Failure struct {
	Check    string
	Message  string   // the first failing run's message
	Schedule Schedule // that run's steps
	Replay   string   // its replay token (Options.Replay, WSESS_INTERLEAVE_REPLAY)
	Runs     int      // how many runs failed this check
	// Slot is the position of the first failing run in the exploration
	// (1-based).
	Slot int
}

func (f Failure) String() string {
	return fmt.Sprintf("check %q failed in %d run(s); first in run %d (%s=%s):\n%s\nschedule:\n%s",
		f.Check, f.Runs, f.Slot, EnvReplay, f.Replay, f.Message, f.Schedule)
}

// Result sums up an exploration.
type Result struct {
	// Schedules is how many runs completed; Distinct how many of them took
	// different schedules.
	Schedules, Distinct int
	// Exhaustive reports that every schedule was run.
	Exhaustive bool
	// Sampled reports that a random sample was run, from Seed.
	Sampled bool
	Seed    uint64
	// Estimate is the number of schedules the first run suggested: the
	// multinomial of its participants' step counts.
	Estimate float64
	// Blocked is how many runs the sleep sets cut short (Options.Reduce):
	// they would only have repeated schedules already run.
	Blocked int
	// Replays lists the replay token of every run, in order.
	Replays  []string
	Failures []Failure
}

// String is a one-line summary.
func (r *Result) String() string {
	mode := "exhaustive"
	switch {
	case r.Sampled:
		mode = fmt.Sprintf("sampled (%s=%d)", EnvSeed, r.Seed)
	case !r.Exhaustive:
		mode = "replay"
	}
	return fmt.Sprintf("%d schedules (%d distinct, %d cut short; %.0f interleavings in all), %s, %d check(s) failed", r.Schedules, r.Distinct, r.Blocked, r.Estimate, mode, len(r.Failures))
}

// Explore runs setup and then the scenario it returns once per schedule:
// every schedule while they stay within opts.MaxSchedules, else a random
// sample (see the package comment). setup runs before each run, outside
// any run (clients with a participant's hook pass commands straight
// through). The error reports a run that could not complete (timeout, a
// participant that is not repeatable) or a failed setup.
func Explore(opts Options, setup func() (Scenario, error)) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	res := &Result{Seed: opts.Seed}
	seen := map[string]bool{}
	one := func(ch chooser) (*outcome, error) {
		sc, err := setup()
		if err != nil {
			return nil, fmt.Errorf("interleave: setup: %w", err)
		}
		out, err := execute(sc.Tasks, ch, opts.Timeout, opts.Names)
		if err != nil {
			return nil, err
		}
		if out.blocked {
			res.Blocked++
			return out, nil
		}
		c := &Checker{schedule: out.schedule, taskErrs: out.taskErrs}
		for i, e := range out.taskErrs {
			if e != nil {
				c.Errorf("task error", "%s: %v", sc.Tasks[i].P.name, e)
			}
		}
		if sc.Check != nil {
			sc.Check(c)
		}
		tok := out.token()
		res.Schedules++
		res.Replays = append(res.Replays, tok)
		if !seen[tok] {
			seen[tok] = true
			res.Distinct++
		}
		res.record(c.fails, out, tok)
		return out, nil
	}

	if opts.Replay != "" {
		prefix, err := parseToken(opts.Replay)
		if err != nil {
			return nil, err
		}
		out, err := one(&dfsChooser{prefix: prefix})
		if out != nil {
			res.Estimate = multinomial(out.steps)
		}
		return res, err
	}

	var prefix []int
	for {
		ch := &dfsChooser{prefix: prefix, reduce: opts.Reduce}
		out, err := one(ch)
		if err != nil {
			return res, err
		}
		if res.Schedules+res.Blocked == 1 {
			res.Estimate = multinomial(out.steps)
			if !opts.Reduce && res.Estimate > float64(opts.MaxSchedules) {
				break
			}
		}
		next, ok := backtrack(out.choices, ch.awake)
		if !ok {
			res.Exhaustive = true
			return res, nil
		}
		// Runs cut short by the sleep sets cost time too: they count half.
		if res.Schedules+res.Blocked/2 >= opts.MaxSchedules {
			break
		}
		prefix = next
	}
	res.Sampled = true
	for i := range opts.Samples {
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
		if _, err := one(randomChooser{rng}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// record adds a run's failed checks to the result.
func (r *Result) record(fails []failed, out *outcome, tok string) {
	counted := map[string]bool{}
	for _, f := range fails {
		i := 0
		for i < len(r.Failures) && r.Failures[i].Check != f.check {
			i++
		}
		if i == len(r.Failures) {
			r.Failures = append(r.Failures, Failure{Check: f.check, Message: f.msg, Schedule: out.schedule, Replay: tok, Slot: r.Schedules})
		}
		if !counted[f.check] {
			counted[f.check] = true
			r.Failures[i].Runs++
		}
	}
}

// Test runs Explore for a test: it logs the summary (with the sample's
// seed), reports each failed check with its first failing schedule and the
// command that replays it, and fails the test on an exploration error.
func Test(t testing.TB, opts Options, setup func() (Scenario, error)) *Result {
	t.Helper()
	res, err := Explore(opts, setup)
	if res != nil {
		t.Logf("%s: %s", t.Name(), res)
		for _, f := range res.Failures {
			t.Errorf("%s\nreplay: %s=%s go test -run '%s'", f, EnvReplay, f.Replay, runPattern(t.Name()))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runPattern is a go test -run pattern selecting exactly the test name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// dfsChooser follows prefix (a choice that is not parked is an error: the
// run did not repeat), then picks the first parked participant that is
// awake. With reduce it keeps a sleep set: a participant whose step was
// explored at a choice point sleeps, in the siblings explored after it,
// until a step dependent on its own runs; the orders it would add differ
// only by swapping independent steps.
type dfsChooser struct {
	prefix []int
	reduce bool
	sleep  []int   // asleep at the current choice point
	awake  [][]int // per choice point: the parked participants not asleep
}

func (c *dfsChooser) choose(k int, enabled []int, pending []Step) (int, error) {
	var awake []int
	for _, e := range enabled {
		if !slices.Contains(c.sleep, e) {
			awake = append(awake, e)
		}
	}
	c.awake = append(c.awake, awake)
	var next int
	switch {
	case k < len(c.prefix):
		next = c.prefix[k]
		if !slices.Contains(awake, next) {
			return 0, fmt.Errorf("%w: at choice %d participant %d is not parked or asleep (parked: %v, awake: %v)", errNondeterministic, k+1, next, enabled, awake)
		}
	case len(awake) == 0:
		return 0, errBlocked
	default:
		next = awake[0]
	}
	if c.reduce {
		// Asleep after this step: those asleep here and the siblings
		// explored before next, whose steps are independent of next's.
		var sleep []int
		for _, r := range enabled {
			if r != next && (slices.Contains(c.sleep, r) || r < next && slices.Contains(awake, r)) && independent(pending[r], pending[next]) {
				sleep = append(sleep, r)
			}
		}
		c.sleep = sleep
	}
	return next, nil
}

type randomChooser struct{ rng *rand.Rand }

func (c randomChooser) choose(_ int, enabled []int, _ []Step) (int, error) {
	return enabled[c.rng.IntN(len(enabled))], nil
}

// backtrack returns the prefix of the next schedule in depth-first order:
// at the deepest choice point with an awake participant after the one
// chosen, choose that one instead. It reports false when none is left.
func backtrack(choices []int, awake [][]int) ([]int, bool) {
	for k := len(choices) - 1; k >= 0; k-- {
		en := awake[k]
		for i, e := range en {
			if e == choices[k] && i+1 < len(en) {
				next := append(append([]int(nil), choices[:k]...), en[i+1])
				return next, true
			}
		}
	}
	return nil, false
}

// multinomial returns (n1+...+nk)! / (n1!...nk!), the number of ways to
// interleave sequences of those lengths.
func multinomial(ns []int) float64 {
	total, r := 0, 1.0
	for _, n := range ns {
		for i := 1; i <= n; i++ {
			total++
			r = r * float64(total) / float64(i)
		}
	}
	return r
}

func parseToken(tok string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(tok, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("interleave: replay token %q: %q is not a participant index", tok, f)
		}
		out = append(out, n)
	}
	return out, nil
}
