package interleave_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/internal/redistest/interleave"
)

// hooked returns a new client of the topology rdb belongs to (one node or
// a cluster) with p's hook, closed when the test ends.
func hooked(t *testing.T, rdb redis.UniversalClient, p *interleave.Participant) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	switch r := rdb.(type) {
	case *redis.Client:
		c = redis.NewClient(&redis.Options{Addr: r.Options().Addr})
	case *redis.ClusterClient:
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: r.Options().Addrs})
	default:
		t.Fatalf("unexpected client %T", rdb)
	}
	c.AddHook(p)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// flush empties every node.
func flush(t *testing.T, rdb redis.UniversalClient) error {
	var err error
	redistest.EachNode(t, rdb, func(n *redis.Client) error {
		err = errors.Join(err, n.FlushAll(context.Background()).Err())
		return nil
	})
	return err
}

// pushes returns a task that appends name+"1".. name+n to the list "log",
// one RPUSH per step.
func pushes(c redis.UniversalClient, p *interleave.Participant, n int) interleave.Task {
	return interleave.Task{P: p, Do: func(ctx context.Context) error {
		for i := 1; i <= n; i++ {
			if err := c.RPush(ctx, "log", p.Name()+strconv.Itoa(i)).Err(); err != nil {
				return err
			}
		}
		return nil
	}}
}

// TestExhaustiveTwoByThree: participants of 2 and 3 steps interleave in
// exactly C(5,2) = 10 ways; each is run once, and Redis saw the commands in
// the order the schedule reports (the list "log" is the schedule).
func TestExhaustiveTwoByThree(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
		ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
		var orders []string
		res, err := interleave.Explore(interleave.Options{}, func() (interleave.Scenario, error) {
			return interleave.Scenario{
				Tasks: []interleave.Task{pushes(ca, a, 2), pushes(cb, b, 3)},
				Check: func(c *interleave.Checker) {
					got, err := rdb.LRange(context.Background(), "log", 0, -1).Result()
					if err != nil {
						c.Errorf("read", "%v", err)
						return
					}
					var want []string
					n := map[string]int{}
					for _, st := range c.Schedule() {
						n[st.Participant]++
						want = append(want, st.Participant+strconv.Itoa(n[st.Participant]))
						if st.Command != "RPUSH log" {
							c.Errorf("description", "step %q, want %q", st.Command, "RPUSH log")
						}
					}
					if !slices.Equal(got, want) {
						c.Errorf("order", "Redis saw %v, the schedule says %v", got, want)
					}
					orders = append(orders, strings.Join(got, " "))
				},
			}, flush(t, rdb)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Failures {
			t.Error(f)
		}
		if res.Schedules != 10 || res.Distinct != 10 || !res.Exhaustive || res.Sampled || res.Estimate != 10 {
			t.Fatalf("result %+v, want 10 distinct schedules, exhaustive", res)
		}
		slices.Sort(orders)
		if len(slices.Compact(orders)) != 10 {
			t.Fatalf("Redis saw %d distinct orders, want 10: %q", len(orders), orders)
		}
		// Every order of a1 a2 among b1 b2 b3: the positions of a's two steps.
		for i := 0; i < 5; i++ {
			for j := i + 1; j < 5; j++ {
				var want []string
				for k, na, nb := 0, 1, 1; k < 5; k++ {
					if k == i || k == j {
						want = append(want, "a"+strconv.Itoa(na))
						na++
					} else {
						want = append(want, "b"+strconv.Itoa(nb))
						nb++
					}
				}
				if _, ok := slices.BinarySearch(orders, strings.Join(want, " ")); !ok {
					t.Errorf("order %v never ran", want)
				}
			}
		}
	})
}

// TestPipelineIsOneStep: a pipeline of three commands (on a cluster, in
// three slots) is one step: with a one-command participant, two schedules.
func TestPipelineIsOneStep(t *testing.T) {
	redistest.EachTopology(t, func(t *testing.T, rdb redis.UniversalClient) {
		a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
		ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
		res, err := interleave.Explore(interleave.Options{}, func() (interleave.Scenario, error) {
			return interleave.Scenario{Tasks: []interleave.Task{
				{P: a, Do: func(ctx context.Context) error {
					_, err := ca.Pipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "x", 1, time.Minute)
						p.Set(ctx, "y", 1, time.Minute)
						p.Set(ctx, "z", 1, time.Minute)
						return nil
					})
					return err
				}},
				pushes(cb, b, 1),
			}, Check: func(c *interleave.Checker) {
				if s := c.Schedule(); len(s) != 2 || s[0].Participant == "a" && s[0].Command != "SET×3 x" {
					c.Errorf("steps", "schedule\n%s", s)
				}
			}}, flush(t, rdb)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Failures {
			t.Error(f)
		}
		if res.Schedules != 2 || !res.Exhaustive {
			t.Fatalf("result %+v, want 2 schedules", res)
		}
	})
}

// TestNoScriptIsOneStep: with the script cache flushed before every run,
// Script.Run sends EVALSHA, gets NOSCRIPT and sends EVAL; the two are one
// step, so the schedules are those of one command.
func TestNoScriptIsOneStep(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
	ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
	script := redis.NewScript(`return redis.call('INCR', KEYS[1])`)
	ctx := context.Background()
	res, err := interleave.Explore(interleave.Options{Names: map[string]string{script.Hash(): "incr"}}, func() (interleave.Scenario, error) {
		err := errors.Join(rdb.FlushAll(ctx).Err(), rdb.ScriptFlush(ctx).Err(), rdb.ConfigResetStat(ctx).Err())
		return interleave.Scenario{
			Tasks: []interleave.Task{
				{P: a, Do: func(ctx context.Context) error {
					if err := script.Run(ctx, ca, []string{"n"}).Err(); err != nil {
						return err
					}
					return ca.Get(ctx, "n").Err()
				}},
				pushes(cb, b, 1),
			},
			Check: func(c *interleave.Checker) {
				info, err := rdb.Info(ctx, "commandstats").Result()
				if err != nil {
					c.Errorf("read", "%v", err)
					return
				}
				if !strings.Contains(info, "cmdstat_eval:calls=1,") || !strings.Contains(info, "cmdstat_evalsha:calls=1,") {
					c.Errorf("noscript", "EVALSHA then EVAL did not both run once:\n%s", info)
				}
				s := c.Schedule()
				if len(s) != 3 || !slices.ContainsFunc(s, func(st interleave.Step) bool { return st.String() == "a: EVALSHA incr n" }) {
					c.Errorf("steps", "schedule\n%s", s)
				}
			},
		}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failures {
		t.Error(f)
	}
	if res.Schedules != 3 || !res.Exhaustive {
		t.Fatalf("result %+v, want 3 schedules", res)
	}
}

// threeByThree explores three participants of three steps each: 9!/3!3!3!
// = 1680 schedules, more than the bound, so a sample is run.
func threeByThree(t *testing.T, rdb redis.UniversalClient, seed uint64) *interleave.Result {
	t.Helper()
	ps := []*interleave.Participant{interleave.NewParticipant("a"), interleave.NewParticipant("b"), interleave.NewParticipant("c")}
	cs := []redis.UniversalClient{hooked(t, rdb, ps[0]), hooked(t, rdb, ps[1]), hooked(t, rdb, ps[2])}
	res, err := interleave.Explore(interleave.Options{MaxSchedules: 50, Samples: 20, Seed: seed}, func() (interleave.Scenario, error) {
		return interleave.Scenario{Tasks: []interleave.Task{pushes(cs[0], ps[0], 3), pushes(cs[1], ps[1], 3), pushes(cs[2], ps[2], 3)}}, flush(t, rdb)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sampled || res.Exhaustive || res.Seed != seed || res.Estimate != 1680 || res.Schedules != 21 {
		t.Fatalf("result %+v, want a sample of 20 after the first run, seed %d", res, seed)
	}
	return res
}

// TestSampleReproducible: past the bound, the sample depends on the seed
// only: the same seed runs the same schedules, another seed others.
func TestSampleReproducible(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	first := threeByThree(t, rdb, 42)
	again := threeByThree(t, rdb, 42)
	other := threeByThree(t, rdb, 43)
	if !slices.Equal(first.Replays, again.Replays) {
		t.Fatalf("seed 42 ran\n%q\nthen\n%q", first.Replays, again.Replays)
	}
	if slices.Equal(first.Replays[1:], other.Replays[1:]) {
		t.Fatalf("seeds 42 and 43 ran the same sample %q", first.Replays)
	}
	if first.Distinct < 15 {
		t.Fatalf("only %d distinct schedules in a sample of 20 out of 1680", first.Distinct)
	}
	t.Setenv(interleave.EnvSeed, "42")
	ps := []*interleave.Participant{interleave.NewParticipant("a"), interleave.NewParticipant("b"), interleave.NewParticipant("c")}
	cs := []redis.UniversalClient{hooked(t, rdb, ps[0]), hooked(t, rdb, ps[1]), hooked(t, rdb, ps[2])}
	env, err := interleave.Explore(interleave.Options{MaxSchedules: 50, Samples: 20}, func() (interleave.Scenario, error) {
		return interleave.Scenario{Tasks: []interleave.Task{pushes(cs[0], ps[0], 3), pushes(cs[1], ps[1], 3), pushes(cs[2], ps[2], 3)}}, flush(t, rdb)
	})
	if err != nil {
		t.Fatal(err)
	}
	if env.Seed != 42 || !slices.Equal(env.Replays, first.Replays) {
		t.Fatalf("%s=42 ran seed %d: %q", interleave.EnvSeed, env.Seed, env.Replays)
	}
}

// lostUpdate explores two read-modify-write increments, the textbook lost
// update: it fails in the 4 of the 6 schedules where both read first.
func lostUpdate(t *testing.T, rdb redis.UniversalClient, opts interleave.Options) (*interleave.Result, error) {
	a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
	ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
	incr := func(c redis.UniversalClient, p *interleave.Participant) interleave.Task {
		return interleave.Task{P: p, Do: func(ctx context.Context) error {
			n, err := c.Get(ctx, "x").Int()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			return c.Set(ctx, "x", n+1, 0).Err()
		}}
	}
	return interleave.Explore(opts, func() (interleave.Scenario, error) {
		return interleave.Scenario{
			Tasks: []interleave.Task{incr(ca, a), incr(cb, b)},
			Check: func(c *interleave.Checker) {
				if n, _ := rdb.Get(context.Background(), "x").Int(); n != 2 {
					c.Errorf("lost update", "x = %d after two increments", n)
				}
			},
		}, flush(t, rdb)
	})
}

// TestFailureReportsSchedule: a failing check is reported once, with how
// many runs failed it, the first failing schedule step by step, and a
// replay token that runs that schedule again.
func TestFailureReportsSchedule(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	res, err := lostUpdate(t, rdb, interleave.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Schedules != 6 || len(res.Failures) != 1 {
		t.Fatalf("result %+v, want 6 schedules and one failed check", res)
	}
	f := res.Failures[0]
	want := "1. a: GET x\n2. b: GET x\n3. a: SET x\n4. b: SET x"
	if f.Check != "lost update" || f.Runs != 4 || f.Schedule.String() != want || f.Replay != "0.1.0.1" || f.Message != "x = 1 after two increments" {
		t.Fatalf("failure %+v, want the lost update in 4 runs, first\n%s", f, want)
	}
	if s := f.String(); !strings.Contains(s, want) || !strings.Contains(s, interleave.EnvReplay+"=0.1.0.1") {
		t.Fatalf("report %q lacks the schedule or the replay token", s)
	}

	// The token runs that schedule alone, from the option or the environment.
	t.Setenv(interleave.EnvReplay, f.Replay)
	again, err := lostUpdate(t, rdb, interleave.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Schedules != 1 || len(again.Failures) != 1 || again.Failures[0].Schedule.String() != want {
		t.Fatalf("replay ran %+v", again)
	}
}

// TestTimeout: a participant blocked on something other than Redis stops
// the run; Explore fails after the timeout, naming it, and the other
// participant's parked command is not sent.
func TestTimeout(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	a, b := interleave.NewParticipant("stuck"), interleave.NewParticipant("fine")
	ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
	block := make(chan struct{})
	defer close(block)
	var sent atomic.Int64
	_, err := interleave.Explore(interleave.Options{Timeout: 300 * time.Millisecond}, func() (interleave.Scenario, error) {
		return interleave.Scenario{Tasks: []interleave.Task{
			{P: a, Do: func(ctx context.Context) error {
				if err := ca.Set(ctx, "a", 1, 0).Err(); err != nil {
					return err
				}
				<-block // neither Redis nor the run's context
				return nil
			}},
			{P: b, Do: func(ctx context.Context) error {
				err := cb.Set(ctx, "b", 1, 0).Err()
				if err == nil {
					sent.Add(1)
				}
				if !errors.Is(err, interleave.ErrAborted) {
					return fmt.Errorf("got %v, want ErrAborted", err)
				}
				return nil
			}},
		}}, flush(t, rdb)
	})
	if err == nil || !strings.Contains(err.Error(), `"stuck" (after 1 steps)`) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout naming the stuck participant", err)
	}
	if n, _ := rdb.Exists(context.Background(), "b").Result(); n != 0 || sent.Load() != 0 {
		t.Fatalf("the parked command of the aborted run was sent")
	}
	// Participants of an aborted run are not reused.
	_, err = interleave.Explore(interleave.Options{}, func() (interleave.Scenario, error) {
		return interleave.Scenario{Tasks: []interleave.Task{pushes(ca, a, 1)}}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "aborted run") {
		t.Fatalf("reuse after abort: err = %v", err)
	}
}

// TestNotRepeatable: a participant whose steps change between runs for the
// same choices is reported, not explored wrongly.
func TestNotRepeatable(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
	ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
	runs := 0
	_, err := interleave.Explore(interleave.Options{}, func() (interleave.Scenario, error) {
		runs++
		n := 2 * (runs % 2) // 2 steps, then none
		return interleave.Scenario{Tasks: []interleave.Task{pushes(ca, a, n), pushes(cb, b, 2)}}, flush(t, rdb)
	})
	if err == nil || !strings.Contains(err.Error(), "did not repeat") {
		t.Fatalf("err = %v, want a run that did not repeat", err)
	}
}

// TestOutsideRunPassesThrough: a hooked client used outside a run (setup,
// checks) is not held.
func TestOutsideRunPassesThrough(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	c := hooked(t, rdb, interleave.NewParticipant("a"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Get(ctx, "k")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// pushTo returns a task that appends name+i to each list of keys in turn,
// one RPUSH per step.
func pushTo(c redis.UniversalClient, p *interleave.Participant, keys ...string) interleave.Task {
	return interleave.Task{P: p, Do: func(ctx context.Context) error {
		for i, k := range keys {
			if err := c.RPush(ctx, k, p.Name()+strconv.Itoa(i+1)).Err(); err != nil {
				return err
			}
		}
		return nil
	}}
}

// lists explores one participant per plan entry, each pushing to the
// lists it names (w, x, y, z) in turn, and returns the result and the
// distinct final states (every list's contents).
func lists(t *testing.T, rdb redis.UniversalClient, reduce bool, plan [][]string) (*interleave.Result, map[string]bool) {
	t.Helper()
	var ps []*interleave.Participant
	var cs []redis.UniversalClient
	for i := range plan {
		p := interleave.NewParticipant(string(rune('a' + i)))
		ps = append(ps, p)
		cs = append(cs, hooked(t, rdb, p))
	}
	states := map[string]bool{}
	res, err := interleave.Explore(interleave.Options{Reduce: reduce, MaxSchedules: 5000}, func() (interleave.Scenario, error) {
		var tasks []interleave.Task
		for i, keys := range plan {
			tasks = append(tasks, pushTo(cs[i], ps[i], keys...))
		}
		return interleave.Scenario{Tasks: tasks, Check: func(c *interleave.Checker) {
			var b strings.Builder
			for _, k := range []string{"w", "x", "y", "z"} {
				fmt.Fprintf(&b, "%s=%v ", k, rdb.LRange(context.Background(), k, 0, -1).Val())
			}
			states[b.String()] = true
		}}, flush(t, rdb)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failures {
		t.Error(f)
	}
	if !res.Exhaustive {
		t.Fatalf("result %+v, want an exhaustive search", res)
	}
	return res, states
}

// TestReduce: with Options.Reduce, steps on disjoint keys are not
// reordered: two participants that share no key run once, two that share
// one key twice (its two orders), and on a larger plan the reduced search
// reaches every final state the full one does, with one schedule per
// state (RPUSH records the order of every dependent pair, so states and
// equivalence classes correspond).
func TestReduce(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	if res, _ := lists(t, rdb, true, [][]string{{"x", "x"}, {"y", "y", "y"}}); res.Schedules != 1 {
		t.Fatalf("disjoint keys: %+v, want 1 schedule", res)
	}
	res, states := lists(t, rdb, true, [][]string{{"x", "y"}, {"z", "x"}})
	if res.Schedules != 2 || len(states) != 2 {
		t.Fatalf("one shared key: %+v, %d states, want 2 schedules", res, len(states))
	}
	plan := [][]string{{"x", "y", "z"}, {"y", "w", "x"}, {"w", "z"}}
	full, all := lists(t, rdb, false, plan)
	if full.Schedules != 560 {
		t.Fatalf("full search: %d schedules, want 8!/(3!3!2!) = 560", full.Schedules)
	}
	reduced, some := lists(t, rdb, true, plan)
	if !maps.Equal(all, some) {
		t.Fatalf("the reduced search reached %d states, the full one %d", len(some), len(all))
	}
	if reduced.Schedules != len(all) {
		t.Fatalf("reduced search: %d schedules for %d equivalence classes", reduced.Schedules, len(all))
	}
	t.Logf("full: %v; reduced: %v", full, reduced)
}

// TestCommandAfterTaskReturned: a command sent for a participant whose
// task has returned (work the task left running) fails the exploration
// instead of running unscheduled.
func TestCommandAfterTaskReturned(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	a, b := interleave.NewParticipant("a"), interleave.NewParticipant("b")
	ca, cb := hooked(t, rdb, a), hooked(t, rdb, b)
	late := make(chan error, 1)
	_, err := interleave.Explore(interleave.Options{}, func() (interleave.Scenario, error) {
		return interleave.Scenario{Tasks: []interleave.Task{
			{P: a, Do: func(ctx context.Context) error {
				go func() {
					time.Sleep(100 * time.Millisecond)
					late <- ca.Set(context.Background(), "late", 1, 0).Err()
				}()
				return nil
			}},
			{P: b, Do: func(ctx context.Context) error {
				if err := cb.Set(ctx, "x", 1, 0).Err(); err != nil {
					return err
				}
				time.Sleep(300 * time.Millisecond) // running, not parked: the late command comes now
				return cb.Set(ctx, "y", 1, 0).Err()
			}},
		}}, flush(t, rdb)
	})
	if err == nil || !strings.Contains(err.Error(), `participant "a" sent "SET late" after its task returned`) {
		t.Fatalf("err = %v, want the late command reported", err)
	}
	if err := <-late; !errors.Is(err, interleave.ErrAborted) {
		t.Fatalf("the late command got %v, want ErrAborted", err)
	}
}
