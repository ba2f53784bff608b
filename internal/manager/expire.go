package manager

import (
	"context"
	"fmt"
	"strconv"
	"sync"
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
	// TTL is the new time to live (set with PEXPIRE, which may lengthen as
	// well as shorten it). Exactly one of TTL > 0 and Delete must be set.
	TTL time.Duration
	// Delete removes the keys (UNLINK: the memory is freed in the background).
	Delete bool
	// Idle, when positive, restricts the operation to keys idle for at least
	// that long (OBJECT IDLETIME, second resolution). The check and the action
	// run in one server-side script per key, so a key used in between is
	// never caught.
	Idle time.Duration
	// DryRun counts the keys that would be changed and changes nothing.
	DryRun bool
	// Batch is the number of keys per SCAN batch and per pipeline. Zero means
	// DefaultBatch (1000).
	Batch int
	// Progress, when set, is called after every batch with the running
	// totals. It is never called concurrently.
	Progress func(Progress)
}

// Summary counts what Expire did. Keys seen twice by SCAN are counted twice.
type Summary struct {
	// Scanned is the number of keys SCAN returned under the prefix.
	Scanned int64
	// Matched is the number of those that passed the idle filter (all of
	// them without one): the keys that were (or, in a dry run, would be)
	// changed.
	Matched int64
	// Changed is the number of keys whose TTL was set or that were deleted
	// (a key that vanished in between is matched but not changed).
	Changed int64
	// Failed is the number of keys whose command returned an error.
	Failed int64
}

// Progress is passed to ExpireOptions.Progress.
type Progress struct {
	Summary
	// Elapsed is the time since Expire started.
	Elapsed time.Duration
}

// idleScript applies the action only to a key idle long enough, atomically.
// ARGV[1] is the minimum idle time in seconds, ARGV[2] the TTL in
// milliseconds or "" to delete, ARGV[3] "1" for a dry run. It returns 0 for a
// key not matched, 1 for a key changed (or that would be), 2 for a key that
// matched but was not changed.
var idleScript = redis.NewScript(`
local idle = redis.call('OBJECT', 'IDLETIME', KEYS[1])
if not idle or idle < tonumber(ARGV[1]) then return 0 end
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

// Expire sets a TTL on, or deletes, every key under opts.Prefix (optionally
// only the idle ones), in pipelined batches, and returns the totals. On a
// cluster the keys of each master are scanned on it and changed through it,
// all masters at once. A failure to reach Redis stops the walk and is
// returned (wrapping ErrUnavailable) with the totals so far.
func (m *Manager) Expire(ctx context.Context, opts ExpireOptions) (Summary, error) {
	if opts.Prefix == "" {
		return Summary{}, fmt.Errorf("manager: expire: empty prefix: %w", ErrInvalidOptions)
	}
	if opts.Delete == (opts.TTL > 0) {
		return Summary{}, fmt.Errorf("manager: expire: set exactly one of a positive TTL and Delete: %w", ErrInvalidOptions)
	}
	if opts.TTL < 0 || opts.Idle < 0 {
		return Summary{}, fmt.Errorf("manager: expire: negative duration: %w", ErrInvalidOptions)
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	start := time.Now()
	var (
		mu  sync.Mutex
		sum Summary
	)
	add := func(d Summary) {
		mu.Lock()
		defer mu.Unlock()
		sum.Scanned += d.Scanned
		sum.Matched += d.Matched
		sum.Changed += d.Changed
		sum.Failed += d.Failed
		if opts.Progress != nil {
			opts.Progress(Progress{Summary: sum, Elapsed: time.Since(start)})
		}
	}
	pattern := Pattern(opts.Prefix, opts.Match)
	_, single := m.c.(*redis.Client) // variadic UNLINK needs one node, no slots
	err := m.forEachNode(ctx, func(ctx context.Context, nd node) error {
		xs := make([]expirer, pipeWorkers)
		for w := range xs {
			xs[w] = expirer{opts: &opts, single: single}
		}
		if opts.Idle > 0 {
			if err := idleScript.Load(ctx, nd).Err(); err != nil {
				return wrap("expire: load script", err)
			}
		}
		return scanBatches(ctx, nd, pattern, batch, batch, pipeWorkers, func(w int, keys []string) error {
			d, err := xs[w].apply(ctx, nd, keys)
			add(d)
			return err
		})
	})
	return sum, err
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
	opts   *ExpireOptions
	single bool
	cmds   []*redis.IntCmd
	bools  []*redis.BoolCmd
	evals  []*redis.Cmd
}

func (x *expirer) apply(ctx context.Context, nd node, keys []string) (Summary, error) {
	d := Summary{Scanned: int64(len(keys))}
	o := x.opts
	switch {
	case o.Idle > 0:
		return x.applyIdle(ctx, nd, keys, d)
	case o.DryRun:
		d.Matched = d.Scanned
		return d, nil
	case o.Delete && x.single:
		// One variadic UNLINK: no per-key command overhead.
		d.Matched = d.Scanned
		n, err := nd.Unlink(ctx, keys...).Result()
		if err != nil {
			if pipelineFailed(err) != nil {
				return Summary{Scanned: d.Scanned}, wrap("expire: unlink", err)
			}
			d.Failed = d.Scanned
			return d, nil
		}
		d.Changed = n
		return d, nil
	}
	d.Matched = d.Scanned
	pipe := nd.Pipeline()
	x.cmds, x.bools = x.cmds[:0], x.bools[:0]
	for _, k := range keys {
		if o.Delete {
			x.cmds = append(x.cmds, pipe.Unlink(ctx, k))
		} else {
			x.bools = append(x.bools, pipe.PExpire(ctx, k, o.TTL))
		}
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return Summary{Scanned: d.Scanned}, wrap("expire", err)
	}
	for _, c := range x.cmds {
		n, err := c.Result()
		switch {
		case err != nil:
			d.Failed++
		case n > 0:
			d.Changed++
		}
	}
	for _, c := range x.bools {
		ok, err := c.Result()
		switch {
		case err != nil:
			d.Failed++
		case ok:
			d.Changed++
		}
	}
	return d, nil
}

func (x *expirer) applyIdle(ctx context.Context, nd node, keys []string, d Summary) (Summary, error) {
	o := x.opts
	ttl := ""
	if !o.Delete {
		ttl = strconv.FormatInt(o.TTL.Milliseconds(), 10)
	}
	dry := "0"
	if o.DryRun {
		dry = "1"
	}
	secs := strconv.FormatInt(int64((o.Idle+time.Second-1)/time.Second), 10)
	pipe := nd.Pipeline()
	x.evals = x.evals[:0]
	for _, k := range keys {
		x.evals = append(x.evals, idleScript.EvalSha(ctx, pipe, []string{k}, secs, ttl, dry))
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
