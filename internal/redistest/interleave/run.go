package interleave

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Task is what one participant does in a run: Do runs in its own
// goroutine, and every Redis command it sends through P's client is a step.
// ctx is cancelled when the run is abandoned.
type Task struct {
	P  *Participant
	Do func(ctx context.Context) error
}

// slot states.
const (
	running = iota // released or starting: neither parked nor done
	parked
	done
)

// slot is one participant's place in a run.
type slot struct {
	p       *Participant
	state   int
	pending Step       // the step it is parked on
	release chan error // nil: go; an error: do not send, fail with it
	err     error      // what its task returned
	steps   int        // steps it ran
}

// run is one execution of a scenario under a chooser.
type run struct {
	names   map[string]string
	mu      sync.Mutex
	slots   []*slot
	changed chan struct{} // signalled on every state change
	abort   bool
	stuck   bool  // aborted with tasks that did not return
	fault   error // a participant misbehaved (two commands at once)
}

func (r *run) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// lingering reports a run abandoned with tasks still running.
func (r *run) lingering() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stuck
}

// park records slot i's next step and waits until the scheduler releases
// it.
func (r *run) park(i int, st Step) error {
	r.mu.Lock()
	if r.abort {
		r.mu.Unlock()
		return ErrAborted
	}
	sl := r.slots[i]
	if sl.state != running {
		// Two commands of one participant at once, or one after its task
		// returned: the schedule would depend on timing.
		if r.fault == nil && sl.state == done {
			r.fault = fmt.Errorf("interleave: participant %q sent %q after its task returned: a task must wait for the work it started (a server handler serving its request)", sl.p.name, st.Command)
		} else if r.fault == nil {
			r.fault = fmt.Errorf("interleave: participant %q sent %q while parked on %q: a participant must send one command at a time (give concurrent work its own participant)", sl.p.name, st.Command, sl.pending.Command)
		}
		r.signal()
		r.mu.Unlock()
		return ErrAborted
	}
	sl.state, sl.pending = parked, st
	r.signal()
	r.mu.Unlock()
	return <-sl.release
}

// chooser picks the participant to release at each choice point.
type chooser interface {
	// choose returns the slot to release at choice point k among enabled
	// (sorted slot indices, at least one); pending[i] is the step slot i
	// is parked on. errBlocked ends the run unchecked.
	choose(k int, enabled []int, pending []Step) (int, error)
}

// errBlocked is a chooser's answer when every parked participant is asleep
// (Options.Reduce): the run can only repeat one already explored.
var errBlocked = errors.New("interleave: every parked participant is asleep")

// outcome is what one run did.
type outcome struct {
	schedule Schedule
	choices  []int   // the slot released at each choice point
	enabled  [][]int // the slots parked at each choice point
	steps    []int   // steps per slot
	taskErrs []error // per slot
	blocked  bool    // cut short by errBlocked: not a schedule
}

// token is the replay token of a run: the slots released, in order.
func (o *outcome) token() string {
	parts := make([]string, len(o.choices))
	for i, c := range o.choices {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, ".")
}

// execute runs tasks under ch. It returns an error when the run could not
// be completed (timeout, a misbehaving participant, a choice the chooser
// could not make); the participants of such a run are not reusable.
func execute(tasks []Task, ch chooser, timeout time.Duration, names map[string]string) (*outcome, error) {
	r := &run{names: names, changed: make(chan struct{}, 1)}
	for i, t := range tasks {
		if t.P == nil || t.Do == nil {
			return nil, fmt.Errorf("interleave: task %d has no participant or no function", i)
		}
		for _, u := range tasks[:i] {
			if u.P == t.P {
				return nil, fmt.Errorf("interleave: participant %q has two tasks", t.P.name)
			}
		}
		r.slots = append(r.slots, &slot{p: t.P, release: make(chan error, 1)})
	}
	joined := 0
	defer func() {
		for _, sl := range r.slots[:joined] {
			sl.p.leave(r)
		}
	}()
	for i, sl := range r.slots {
		if err := sl.p.join(r, i); err != nil {
			return nil, err
		}
		joined++
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, t := range tasks {
		go func() {
			var err error
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("interleave: task of %q panicked: %v", t.P.name, v)
				}
				r.mu.Lock()
				r.slots[i].state, r.slots[i].err = done, err
				r.signal()
				r.mu.Unlock()
			}()
			err = t.Do(ctx)
		}()
	}

	out := &outcome{}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	pending := make([]Step, len(r.slots))
	for k := 0; ; k++ {
		enabled, finished, err := r.quiesce(deadline.C)
		if err != nil {
			return nil, r.abandon(cancel, out, fmt.Errorf("%w after %d steps (run timeout %v)", err, len(out.schedule), timeout))
		}
		if finished {
			break
		}
		r.mu.Lock()
		for _, e := range enabled {
			pending[e] = r.slots[e].pending
		}
		r.mu.Unlock()
		next, err := ch.choose(k, enabled, pending)
		if errors.Is(err, errBlocked) {
			out.blocked = true
			return out, r.abandon(cancel, out, nil)
		}
		if err == nil && !slices.Contains(enabled, next) {
			err = fmt.Errorf("interleave: chose participant %d, not parked", next)
		}
		if err != nil {
			return nil, r.abandon(cancel, out, err)
		}
		r.mu.Lock()
		sl := r.slots[next]
		out.schedule = append(out.schedule, sl.pending)
		out.choices = append(out.choices, next)
		out.enabled = append(out.enabled, enabled)
		sl.state = running
		sl.steps++
		r.mu.Unlock()
		sl.release <- nil
	}
	for _, sl := range r.slots {
		out.steps = append(out.steps, sl.steps)
		out.taskErrs = append(out.taskErrs, sl.err)
	}
	return out, nil
}

// quiesce waits until no participant is running: it returns the parked
// slots, or finished when every task has returned.
func (r *run) quiesce(timeout <-chan time.Time) (enabled []int, finished bool, err error) {
	for {
		r.mu.Lock()
		if r.fault != nil {
			err := r.fault
			r.mu.Unlock()
			return nil, false, err
		}
		busy := false
		finished = true
		enabled = enabled[:0]
		for i, sl := range r.slots {
			switch sl.state {
			case running:
				busy = true
				finished = false
			case parked:
				enabled = append(enabled, i)
				finished = false
			}
		}
		r.mu.Unlock()
		if !busy {
			return enabled, finished, nil
		}
		select {
		case <-r.changed:
		case <-timeout:
			r.mu.Lock()
			var stuck []string
			for _, sl := range r.slots {
				if sl.state == running {
					stuck = append(stuck, fmt.Sprintf("%q (after %d steps)", sl.p.name, sl.steps))
				}
			}
			r.mu.Unlock()
			return nil, false, fmt.Errorf("interleave: run timed out: %s neither sent a Redis command through its hooked client nor returned; it is blocked on something else (a lock, a channel, a client without the hook)", strings.Join(stuck, ", "))
		}
	}
}

// abandon aborts the run: parked commands fail with ErrAborted, tasks see
// their context cancelled, and it waits a little for them to return (then
// the participants can take part in another run). It returns err with the
// steps that ran, or, when every task returned and err is nil, nil.
func (r *run) abandon(cancel context.CancelFunc, out *outcome, err error) error {
	r.mu.Lock()
	r.abort = true
	r.mu.Unlock()
	cancel()
	wait := time.NewTimer(2 * time.Second)
	defer wait.Stop()
	for {
		r.mu.Lock()
		all := true
		for _, sl := range r.slots {
			if sl.state == parked {
				sl.state = running
				sl.release <- ErrAborted
			}
			all = all && sl.state == done
		}
		r.mu.Unlock()
		if all {
			break
		}
		select {
		case <-r.changed:
		case <-wait.C:
			r.mu.Lock()
			r.stuck = true
			r.mu.Unlock()
			return withSteps(err, out)
		}
	}
	if err == nil {
		return nil
	}
	return withSteps(err, out)
}

// withSteps adds the steps that ran to err.
func withSteps(err error, out *outcome) error {
	if err == nil {
		err = errors.New("interleave: an abandoned run's tasks did not return")
	}
	if len(out.schedule) == 0 {
		return err
	}
	return fmt.Errorf("%w\nsteps so far:\n%s", err, out.schedule)
}

// errNondeterministic marks a replayed prefix that did not reproduce.
var errNondeterministic = errors.New("interleave: the run did not repeat: a participant issued different steps for the same choices")
