package manager

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ExpireOptions select keys and say what to do with them.
type ExpireOptions struct {
	// Prefix selects the keys (matched literally). Required: an empty Prefix
	// is ErrInvalidOptions, so that no call touches a whole database by
	// accident.
	Prefix string
	// Match is an extra glob on the rest of the key (see ScanOptions).
	Match string
	// TTL is the new time to live (PEXPIRE, which may lengthen as well as
	// shorten it). Exactly one of TTL > 0 and Delete must be set.
	TTL time.Duration
	// Delete removes the keys (UNLINK: the memory is freed in the background).
	Delete bool
	// NoTTL restricts the operation to keys that have no TTL. The check and
	// the action run together in one server-side script, so a key that got
	// a TTL in between keeps it.
	NoTTL bool
	// Idle, when positive, restricts the operation to keys idle for at least
	// that long (OBJECT IDLETIME, second resolution). The check and the action
	// run in one server-side script per key, so a key used in between is
	// never caught.
	Idle time.Duration
	// Filter, when set, restricts the operation to the keys whose value it
	// selects. The values of each batch are read with one pipelined GET
	// before the batch's action; a value that changes between the two is
	// judged as it was read.
	Filter Filter
	// DryRun counts the keys that would be changed and changes nothing.
	DryRun bool
	// Batch is the number of keys per SCAN batch and per pipeline. Zero means
	// DefaultBatch (1000).
	Batch int
	// Rate, when positive, limits the walk to that many keys per second over
	// all nodes together (see ScanOptions.Rate). Zero means no limit.
	Rate int
	// Progress, when set, is called after every batch with the running
	// totals. It is never called concurrently.
	Progress func(Progress)
}

// Summary counts what a walk did. Keys seen twice by SCAN are counted twice.
type Summary struct {
	// Scanned is the number of keys SCAN returned under the prefix.
	Scanned int64 `json:"scanned"`
	// Matched is the number of those that passed the filters (all of them
	// without one): the keys that were (or, in a dry run, would be)
	// changed, listed or counted.
	Matched int64 `json:"matched"`
	// Changed is the number of keys whose TTL was set or that were deleted
	// (a key that vanished in between is matched but not changed).
	Changed int64 `json:"changed"`
	// Failed is the number of keys whose command returned an error.
	Failed int64 `json:"failed"`
	// Undecodable is the number of values a Filter could not decode (never
	// matched).
	Undecodable int64 `json:"undecodable"`
	// FilterErrors is the number of values on which a Filter failed (never
	// matched).
	FilterErrors int64 `json:"filter_errors"`
}

func (s *Summary) add(d Summary) {
	s.Scanned += d.Scanned
	s.Matched += d.Matched
	s.Changed += d.Changed
	s.Failed += d.Failed
	s.Undecodable += d.Undecodable
	s.FilterErrors += d.FilterErrors
}

// idleScript applies the action only to a key idle long enough, atomically.
// ARGV[1] is the minimum idle time in seconds, ARGV[2] the TTL in
// milliseconds or "" to delete, ARGV[3] "1" for a dry run, ARGV[4] "1" to
// act only on a key without a TTL. It returns 0 for a key not matched, 1 for
// a key changed (or that would be), 2 for a key that matched but was not
// changed.
var idleScript = redis.NewScript(`
local idle = redis.call('OBJECT', 'IDLETIME', KEYS[1])
if not idle or idle < tonumber(ARGV[1]) then return 0 end
if ARGV[4] == '1' and redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
if ARGV[3] == '1' then return 1 end
local n
if ARGV[2] == '' then
  n = redis.call('UNLINK', KEYS[1])
else
  n = redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if n == 1 then return 1 end
return 2
`)

// batchScript applies the action to every key of a batch in one call, on
// one server. ARGV[1] is the TTL in milliseconds or "" to delete, ARGV[2]
// "1" to act only on keys without a TTL (checked and changed atomically, as
// the script runs alone), ARGV[3] "1" for a dry run, and ARGV[4...] are the
// keys. It returns {matched, changed}: without NoTTL or a dry run every key
// counts as matched (as with one PEXPIRE per key), and only those that
// still exist as changed.
//
// The keys travel as arguments, not as KEYS: a cluster refuses declared
// keys of different slots (CROSSSLOT) even for a script flagged
// allow-cross-slot-keys, but with that flag the script may touch any key
// the node serves, and the manager sends each batch to the master it
// scanned the keys on. A key whose slot moved in between makes the call
// fail; its keys are counted as Failed and a rerun picks them up.
var batchScript = redis.NewScript(`#!lua flags=allow-cross-slot-keys
local ttl, nottl, dry = ARGV[1], ARGV[2] == '1', ARGV[3] == '1'
local check = nottl or dry
local matched, changed = 0, 0
for i = 4, #ARGV do
  local k = ARGV[i]
  local pick = true
  if check then
    local pttl = redis.call('PTTL', k)
    pick = pttl ~= -2 and (not nottl or pttl == -1)
  end
  if pick then
    matched = matched + 1
    if not dry then
      if ttl == '' then
        changed = changed + redis.call('UNLINK', k)
      else
        changed = changed + redis.call('PEXPIRE', k, ttl)
      end
    end
  end
end
return {matched, changed}
`)

// Expire sets a TTL on, or deletes, every key under opts.Prefix (optionally
// only those without a TTL, the idle ones, or those a Filter selects), in
// batches, and returns the totals.
//
// Round trips per batch of keys (one node): deleting is one variadic UNLINK;
// setting a TTL, or acting on the keys without one, is one script call
// (EVALSHA) that covers the whole batch; a Filter adds one pipelined GET
// before it; an idle filter makes it one pipelined script call per key. On a
// cluster the keys of each master are scanned on it and changed through it
// (one script call per batch, which may span slots), all masters at once,
// each with a scanning connection and two pipelines in flight.
//
// A failure to reach Redis stops the walk and is returned (wrapping
// ErrUnavailable) with the totals so far. A cancelled ctx stops the walk
// after the batches in flight, which are finished and counted, and returns
// the totals so far with an error wrapping ErrInterrupted and ctx.Err().
// Every action is idempotent: running the same call again finishes the job.
func (m *Manager) Expire(ctx context.Context, opts ExpireOptions) (Summary, error) {
	if opts.Prefix == "" {
		return Summary{}, fmt.Errorf("manager: expire: empty prefix: %w", ErrInvalidOptions)
	}
	if opts.Delete == (opts.TTL > 0) {
		return Summary{}, fmt.Errorf("manager: expire: set exactly one of a positive TTL and Delete: %w", ErrInvalidOptions)
	}
	if opts.TTL < 0 || opts.Idle < 0 || opts.Rate < 0 {
		return Summary{}, fmt.Errorf("manager: expire: negative duration or rate: %w", ErrInvalidOptions)
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	batch = rateBatch(batch, opts.Rate)
	ns, t, err := m.startWalk(ctx, opts.Prefix, opts.Match, opts.Progress)
	if err != nil {
		return Summary{}, err
	}
	pattern := Pattern(opts.Prefix, opts.Match)
	_, single := m.c.(*redis.Client) // variadic UNLINK needs one node, no slots
	wo := walkOpts{count: batch, batch: batch, workers: pipeWorkers, pace: newPacer(opts.Rate)}
	err = eachNode(ctx, ns, func(ctx context.Context, i int, nd node) error {
		xs := make([]expirer, pipeWorkers)
		for w := range xs {
			xs[w] = expirer{m: m, opts: &opts, single: single, walkCtx: ctx}
		}
		script := batchScript
		if opts.Idle > 0 {
			script = idleScript
		}
		if err := script.Load(ctx, nd).Err(); err != nil {
			return wrap("expire: load script", err)
		}
		return t.walked(i, scanBatches(ctx, nd, pattern, wo, func(ctx context.Context, w int, keys []string, cursor uint64) error {
			d, err := xs[w].apply(ctx, nd, keys)
			t.add(i, cursor, d)
			return err
		}))
	})
	return t.summary(), finish("expire", ctx, err)
}

// DeletePrefix removes every key under prefix (SCAN and batched UNLINK on
// every master) and returns how many it removed. batch <= 0 means
// DefaultBatch. It is what a session store's Clear calls.
func (m *Manager) DeletePrefix(ctx context.Context, prefix string, batch int) (int64, error) {
	s, err := m.Expire(ctx, ExpireOptions{Prefix: prefix, Delete: true, Batch: batch})
	return s.Changed, err
}

// expirer applies one ExpireOptions to batches of keys on one node.
type expirer struct {
	m      *Manager
	opts   *ExpireOptions
	single bool
	// walkCtx is the walk's context, done when the caller's is: the
	// Filter gets it (the batch's own context is never cancelled).
	walkCtx context.Context
	evals   []*redis.Cmd
	gets    []*redis.StringCmd
	vals    [][]byte
	picked  []string
	args    []any
}

func (x *expirer) apply(ctx context.Context, nd node, keys []string) (Summary, error) {
	d := Summary{Scanned: int64(len(keys))}
	o := x.opts
	if o.Filter != nil {
		var err error
		x.gets, x.vals, err = x.m.fetchValues(ctx, nd, keys, x.gets, x.vals)
		if err != nil {
			return Summary{Scanned: d.Scanned}, err
		}
		x.picked = x.picked[:0]
		for i, k := range keys {
			if judge(x.walkCtx, o.Filter, k, x.vals[i], &d) {
				x.picked = append(x.picked, k)
			}
		}
		keys = x.picked
		if len(keys) == 0 {
			return d, nil
		}
	}
	switch {
	case o.Idle > 0:
		return x.applyIdle(ctx, nd, keys, d)
	case o.Delete && !o.NoTTL && !o.DryRun && x.single:
		// One variadic UNLINK: no per-key command overhead.
		d.Matched += int64(len(keys))
		n, err := nd.Unlink(ctx, keys...).Result()
		if err != nil {
			if pipelineFailed(err) != nil {
				return Summary{Scanned: d.Scanned}, wrap("expire: unlink", err)
			}
			d.Failed += int64(len(keys))
			return d, nil
		}
		d.Changed += n
		return d, nil
	}
	return x.applyScript(ctx, nd, keys, d)
}

// applyScript runs batchScript once for the batch.
func (x *expirer) applyScript(ctx context.Context, nd node, keys []string, d Summary) (Summary, error) {
	o := x.opts
	ttl := ""
	if !o.Delete {
		ttl = strconv.FormatInt(o.TTL.Milliseconds(), 10)
	}
	x.args = append(x.args[:0], ttl, flag(o.NoTTL), flag(o.DryRun))
	for _, k := range keys {
		x.args = append(x.args, k)
	}
	res, err := batchScript.Run(ctx, nd, nil, x.args...).Int64Slice()
	if err != nil {
		if pipelineFailed(err) != nil {
			return Summary{Scanned: d.Scanned}, wrap("expire", err)
		}
		d.Failed += int64(len(keys))
		return d, nil
	}
	if len(res) != 2 {
		return Summary{Scanned: d.Scanned}, fmt.Errorf("manager: expire: script returned %d values, want 2", len(res))
	}
	d.Matched += res[0]
	if o.DryRun {
		d.Changed = 0
	} else {
		d.Changed += res[1]
	}
	return d, nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (x *expirer) applyIdle(ctx context.Context, nd node, keys []string, d Summary) (Summary, error) {
	o := x.opts
	ttl := ""
	if !o.Delete {
		ttl = strconv.FormatInt(o.TTL.Milliseconds(), 10)
	}
	secs := strconv.FormatInt(int64((o.Idle+time.Second-1)/time.Second), 10)
	pipe := nd.Pipeline()
	x.evals = x.evals[:0]
	for _, k := range keys {
		x.evals = append(x.evals, idleScript.EvalSha(ctx, pipe, []string{k}, secs, ttl, flag(o.DryRun), flag(o.NoTTL)))
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return Summary{Scanned: d.Scanned}, wrap("expire", err)
	}
	for _, c := range x.evals {
		n, err := c.Int64()
		switch {
		case err != nil:
			d.Failed++
		case n == 1:
			d.Matched++
			if !o.DryRun {
				d.Changed++
			}
		case n == 2:
			d.Matched++
		}
	}
	return d, nil
}
