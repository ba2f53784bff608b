// Package interleave runs concurrent Redis clients in every order of their
// commands, to test what races between them can break.
//
// Each actor of a test is a Participant, a redis.Hook installed on a client
// that actor alone uses (build one client per participant, with
// client.AddHook(p)). Inside an exploration, the hook parks every command
// and every pipeline (one pipeline is one step) until the scheduler
// releases it. The scheduler starts the participants' tasks together and,
// each time every participant is parked on its next step or has finished,
// picks the one that runs next: a choice point. Outside an exploration the
// hook passes everything through, so the same clients can be used for
// setup.
//
// Explore runs a Scenario (fresh setup, the tasks, then the checks) once
// per schedule. It first tries every schedule: a stateless depth-first
// search over the choice points that re-runs the setup and the schedule
// from scratch each time. When the first run suggests more schedules than
// Options.MaxSchedules, or the search passes it, it runs Options.Samples
// schedules chosen at random from a seed it reports, so that the sample can
// be run again (WSESS_INTERLEAVE_SEED). Every failing check is reported with
// the schedule that broke it, as a numbered list of steps
// ("3. renew: EVALSHA cas wppsess:Kx8…"), and a replay token that runs that
// schedule alone (WSESS_INTERLEAVE_REPLAY, with go test -run naming the
// test).
//
// What counts as one step:
//
//   - A command, or a pipeline (MULTI/EXEC included), from its release
//     until the participant parks on its next one or its task returns: the
//     participant's own Go code in between belongs to the step.
//   - A script's EVALSHA that Redis answers NOSCRIPT and the EVAL of the
//     same script that go-redis's Script.Run sends next are one step: the
//     hook lets that EVAL through without parking. Whether a script is
//     cached on a node is then invisible to the schedule, so runs are
//     repeatable whatever ran before (a FLUSHALL keeps the script cache; a
//     SCRIPT FLUSH does not matter either).
//   - The commands go-redis sends to set up a connection (HELLO, AUTH,
//     CLIENT, SELECT, READONLY; and ASKING, CLUSTER, COMMAND) pass
//     through: they run inside the step that needed the connection.
//
// With Options.Reduce, schedules that differ only by the order of adjacent
// steps of different participants on disjoint keys are run once (sleep
// sets over the keys each command declares): every outcome is still
// reached, with far fewer runs when participants mostly touch their own
// keys.
//
// A task must not return before the work it started is done: a command
// sent for a participant whose task has returned fails the exploration
// (one sent between runs would run unscheduled). A task that sends an HTTP
// request waits until the server's handler has returned, not just for the
// response headers.
//
// Runs must be repeatable: given the same choices, each participant must
// issue the same number of steps. Participants interact only through Redis
// (each its own client; no locks shared with another participant). A task
// blocked on something other than a Redis command of a hooked client (a
// lock, a channel, an unhooked client waiting on a parked one) would stop
// the scheduler: each run is bounded by Options.Timeout, after which the
// exploration fails with a message naming the participants still running.
package interleave

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrAborted is what a parked command returns when its run is abandoned
// (timeout, or a scheduling error): the command is not sent.
var ErrAborted = errors.New("interleave: run aborted, command not sent")

// Participant is one actor of an exploration and the redis.Hook that makes
// the commands of its client steps of a schedule. Install it on a client
// used by this participant alone (client.AddHook(p)); a participant takes
// part in one run at a time.
type Participant struct {
	name string

	mu   sync.Mutex
	run  *run // the run in progress, nil outside one
	slot int  // this participant's index in run.slots
	// freeEval is the SHA-1 of a script whose EVALSHA just came back
	// NOSCRIPT within the current step: its EVAL joins that step.
	freeEval string
}

var _ redis.Hook = (*Participant)(nil)

// NewParticipant returns a participant; name labels its steps.
func NewParticipant(name string) *Participant { return &Participant{name: name} }

// Name returns the participant's name.
func (p *Participant) Name() string { return p.name }

// DialHook passes dials through.
func (p *Participant) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook parks each command until the scheduler releases it.
func (p *Participant) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if exempt(cmd) {
			return next(ctx, cmd)
		}
		r, slot, free := p.enter(cmd)
		if r == nil || free {
			return next(ctx, cmd)
		}
		if err := r.park(slot, describe(p.name, slot, []redis.Cmder{cmd}, r.names)); err != nil {
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		if sha, ok := noScript(cmd, err); ok {
			p.mu.Lock()
			p.freeEval = sha
			p.mu.Unlock()
		}
		return err
	}
}

// ProcessPipelineHook parks each pipeline, as one step, until the scheduler
// releases it.
func (p *Participant) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		all := true
		for _, c := range cmds {
			all = all && exempt(c)
		}
		if all {
			return next(ctx, cmds)
		}
		r, slot, _ := p.enter(nil)
		if r == nil {
			return next(ctx, cmds)
		}
		if err := r.park(slot, describe(p.name, slot, cmds, r.names)); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// enter returns the run p takes part in (nil outside one) and p's slot in
// it, and reports whether cmd is the EVAL that completes the step whose
// EVALSHA Redis answered NOSCRIPT.
func (p *Participant) enter(cmd redis.Cmder) (*run, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sha := p.freeEval
	p.freeEval = ""
	if p.run == nil {
		return nil, 0, false
	}
	free := sha != "" && cmd != nil && strings.EqualFold(cmd.Name(), "eval") && scriptSHA(cmd) == sha
	return p.run, p.slot, free
}

// join binds p to r; it fails when p is in another run.
func (p *Participant) join(r *run, slot int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run != nil {
		if p.run.lingering() {
			return fmt.Errorf("interleave: participant %q took part in an aborted run whose task is still running: build new participants", p.name)
		}
		return fmt.Errorf("interleave: participant %q is already in a run", p.name)
	}
	p.run, p.slot, p.freeEval = r, slot, ""
	return nil
}

// leave unbinds p from r, unless r was aborted: a task still running then
// gets ErrAborted for its commands instead of running them unscheduled.
func (p *Participant) leave(r *run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == r && !r.lingering() {
		p.run = nil
	}
}

// exempt reports the commands go-redis sends to set up a connection or
// find a cluster's nodes: they are not steps of their own.
func exempt(cmd redis.Cmder) bool {
	switch strings.ToLower(cmd.Name()) {
	case "hello", "auth", "select", "client", "readonly", "readwrite", "asking", "cluster", "command":
		return true
	}
	return false
}

// noScript reports an EVALSHA (or EVALSHA_RO) that Redis answered NOSCRIPT,
// and the script's SHA-1.
func noScript(cmd redis.Cmder, err error) (string, bool) {
	name := strings.ToLower(cmd.Name())
	if name != "evalsha" && name != "evalsha_ro" || err == nil {
		return "", false
	}
	if !errors.Is(err, redis.ErrNoScript) && !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return "", false
	}
	args := cmd.Args()
	if len(args) < 2 {
		return "", false
	}
	sha, _ := args[1].(string)
	return strings.ToLower(sha), true
}

// scriptSHA returns the SHA-1 of an EVAL's script (hex), or of the digest
// an EVALSHA names.
func scriptSHA(cmd redis.Cmder) string {
	args := cmd.Args()
	if len(args) < 2 {
		return ""
	}
	s, _ := args[1].(string)
	switch strings.ToLower(cmd.Name()) {
	case "eval", "eval_ro":
		sum := sha1.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	return strings.ToLower(s)
}
