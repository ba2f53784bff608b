package manager

import (
	"context"
	"strings"
	"sync"
)

// ScanOptions select keys.
type ScanOptions struct {
	// Prefix is matched literally: glob characters in it (* ? [ ] \) are
	// escaped. Empty means every key.
	Prefix string
	// Match is an extra glob (Redis MATCH syntax) applied to the rest of the
	// key after Prefix. Empty means "*".
	Match string
	// Count is the SCAN COUNT hint and the size of the batches handed to the
	// callback. Zero means DefaultCount (1000).
	Count int
	// Values makes List read each value too (GET, in the same pipeline)
	// into Info.Value. Scan and Stats ignore it.
	Values bool
	// Filter, when set, makes List and Stats read each value (GET, in the
	// pipeline that describes the batch) and keep only the keys it
	// selects. Nil selects every key and reads no value.
	Filter Filter
	// Rate, when positive, limits the walk to that many keys per second
	// over all nodes together (batches shrink to a tenth of a second's
	// worth, so the load is even). Zero means as fast as Redis answers.
	Rate int
	// Progress, when set, is called by List and Stats after every batch
	// with the running totals (never concurrently).
	Progress func(Progress)
	// Top is how many of the largest string values Stats keeps in
	// Stats.Top (a bounded heap: memory for Top keys only). Zero keeps none.
	Top int
	// MemorySample makes Stats ask MEMORY USAGE for every MemorySample-th
	// string key (in the same pipeline as its description), to estimate
	// what the keys cost beyond their value bytes. Zero means
	// DefaultMemorySample (100); negative asks for none.
	MemorySample int
}

func (o ScanOptions) count() int {
	if o.Count <= 0 {
		return DefaultCount
	}
	return o.Count
}

// Pattern returns the SCAN MATCH pattern for a prefix and an extra glob.
func Pattern(prefix, match string) string {
	if match == "" {
		match = "*"
	}
	return EscapeGlob(prefix) + match
}

// EscapeGlob escapes the characters that are special in a Redis glob
// pattern, so that s matches only itself.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Scan walks the keys that match opts on every node with SCAN and hands
// them to fn in batches of about opts.Count keys. fn is never called
// concurrently and must not keep the slice after it returns. An error from
// fn stops the walk and is returned as is. opts.Rate paces the walk;
// opts.Values, Filter, Progress, Top and MemorySample are ignored. A
// cancelled ctx stops the walk after the batch in flight with an error
// wrapping ErrInterrupted and ctx.Err().
func (m *Manager) Scan(ctx context.Context, opts ScanOptions, fn func(keys []string) error) error {
	var mu sync.Mutex
	pattern := Pattern(opts.Prefix, opts.Match)
	n := rateBatch(opts.count(), opts.Rate)
	wo := walkOpts{count: n, batch: n, workers: 1, pace: newPacer(opts.Rate)}
	ns, err := m.nodes(ctx)
	if err != nil {
		return err
	}
	err = eachNode(ctx, ns, func(ctx context.Context, _ int, nd node) error {
		return scanBatches(ctx, nd, pattern, wo, func(_ context.Context, _ int, keys []string, _ uint64) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(keys)
		})
	})
	return finish("scan", ctx, err)
}

// finish turns the error of a walk stopped by the caller's ctx into one
// that wraps ErrInterrupted.
func finish(op string, ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return interrupted(op, ctx)
	}
	return err
}

// walkOpts say how scanBatches walks one node.
type walkOpts struct {
	// count is the SCAN COUNT hint, batch the least number of keys handed
	// to fn at once (fewer for the last batch).
	count, batch int
	// workers is how many calls of fn run at once.
	workers int
	// pace, when not nil, is waited on before each batch.
	pace *pacer
}

type scanned struct {
	keys   []string
	cursor uint64 // the cursor after the last SCAN that filled keys
}

// scanBatches runs SCAN on one node and calls fn with batches of at least
// o.batch keys (fewer for the last one). The SCAN for the next batch runs
// while fn works on the previous ones; with o.workers > 1, that many calls
// of fn run at once (w, from 0 to workers-1, tells which worker calls, so
// that each can keep its own scratch space). workers+1 buffers are reused
// throughout.
//
// fn gets a context that is not cancelled with ctx: a batch that has
// started is finished (its commands are bounded by the client's timeouts),
// so that a cancelled walk leaves nothing half done. No batch starts after
// ctx is done. The first error stops the walk; errors from fn come back
// unwrapped, Redis errors wrapped.
func scanBatches(ctx context.Context, nd node, pattern string, o walkOpts, fn func(ctx context.Context, w int, keys []string, cursor uint64) error) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := o.workers
	if workers < 1 {
		workers = 1
	}
	full := make(chan scanned, workers)
	free := make(chan []string, workers+1)
	for i := 0; i < workers+1; i++ {
		free <- make([]string, 0, o.batch+o.count)
	}
	var scanErr error
	go func() {
		defer close(full)
		buf := <-free
		var cursor uint64
		for {
			keys, next, err := nd.Scan(ctx, cursor, pattern, int64(o.count)).Result()
			if err != nil {
				scanErr = err
				return
			}
			buf = append(buf, keys...)
			cursor = next
			if len(buf) >= o.batch || (cursor == 0 && len(buf) > 0) {
				select {
				case full <- scanned{buf, cursor}:
				case <-ctx.Done():
					return
				}
				if cursor == 0 {
					return
				}
				select {
				case buf = <-free:
				case <-ctx.Done():
					return
				}
				buf = buf[:0]
			}
			if cursor == 0 {
				return
			}
		}
	}()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		fnErr error
	)
	stop := func(err error) { once.Do(func() { fnErr = err; cancel() }) }
	batchCtx := context.WithoutCancel(parent)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range full {
				if ctx.Err() == nil {
					if err := o.pace.wait(ctx, len(b.keys)); err != nil {
						stop(err)
					} else if ctx.Err() == nil {
						if err := fn(batchCtx, w, b.keys, b.cursor); err != nil {
							stop(err)
						}
					}
				}
				free <- b.keys
			}
		}()
	}
	wg.Wait()
	// full is closed and drained: the producer has returned, scanErr is settled.
	if fnErr != nil {
		return fnErr
	}
	if scanErr == nil && parent.Err() != nil {
		scanErr = parent.Err()
	}
	return wrap("scan", scanErr)
}
