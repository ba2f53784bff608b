package manager

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Verdict is what a Filter says about one key.
type Verdict int

const (
	// VerdictNoMatch: the key is left alone (not listed, not counted in
	// Stats, not changed by Expire).
	VerdictNoMatch Verdict = iota
	// VerdictMatch: the key is selected.
	VerdictMatch
	// VerdictUndecodable: the value could not be decoded; the key is not
	// selected and is counted in Summary.Undecodable.
	VerdictUndecodable
	// VerdictError: the filter failed on this value (for example a jq
	// runtime error); the key is not selected and is counted in
	// Summary.FilterErrors.
	VerdictError
)

// Filter selects keys by their value. It is called for string keys only
// (other types and keys gone since SCAN never match), may be called
// concurrently, and must not keep value after it returns. Setting a Filter
// makes a walk read every value (GET, in the pipeline that describes the
// batch, or one pipelined GET per batch for Expire), so it costs the
// transfer of the values; a nil Filter reads none.
//
// ctx is the walk's context: it is done as soon as the caller's is (Ctrl-C),
// also in the middle of a batch, and a filter that may run long (a jq
// expression that never ends) must then return promptly. A verdict given
// once ctx is done is ignored and counted nowhere; the walk ends with
// ErrInterrupted after the batch in flight.
type Filter func(ctx context.Context, key string, value []byte) Verdict

// Progress is passed to the Progress callbacks of List, Stats and Expire
// after every batch, never concurrently.
type Progress struct {
	Summary
	// Elapsed is the time since the walk started.
	Elapsed time.Duration
	// Total is the number of keys the walk will see when it is known (the
	// keyspace size from DBSIZE, summed over the nodes, when the walk selects
	// every key), 0 when it is not.
	Total int64
	// Fraction estimates how much of the keyspace SCAN has covered, from 0
	// to 1, from the position of each node's SCAN cursor in its hash table
	// (averaged over the nodes, weighted by their DBSIZE). With Elapsed it
	// gives an ETA when Total is 0: Elapsed*(1-Fraction)/Fraction. It is an
	// estimate: Redis rehashing moves it a little.
	Fraction float64
}

// Rate returns the keys scanned per second so far (0 before any time has
// passed).
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Scanned) / p.Elapsed.Seconds()
}

// ETA estimates the time left: from Total when known, else from Fraction.
// It returns -1 when there is nothing to estimate from yet.
func (p Progress) ETA() time.Duration {
	switch {
	case p.Total > 0 && p.Scanned > 0:
		left := p.Total - p.Scanned
		if left < 0 {
			left = 0
		}
		return time.Duration(float64(p.Elapsed) * float64(left) / float64(p.Scanned))
	case p.Fraction > 0:
		return time.Duration(float64(p.Elapsed) * (1 - p.Fraction) / p.Fraction)
	}
	return -1
}

// ErrInterrupted is what a walk stopped by its context wraps (together with
// ctx.Err()): the batch in flight was finished and counted, nothing after
// it was started. Every action is idempotent, so running the same call again
// finishes the job.
var ErrInterrupted = errors.New("interrupted")

// interrupted wraps a context error of the caller's ctx.
func interrupted(op string, ctx context.Context) error {
	return fmt.Errorf("manager: %s: %w: %w", op, ErrInterrupted, context.Cause(ctx))
}

// pacer spreads the keys of a walk over time: at most rate keys per second,
// over all nodes together. Each batch reserves its keys' time slot; the
// first batch starts at once, so n keys take about (n-batch)/rate.
type pacer struct {
	mu   sync.Mutex
	per  time.Duration // time per key
	next time.Time
}

func newPacer(rate int) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{per: time.Second / time.Duration(rate)}
}

// wait blocks until n more keys may be worked on, or ctx is done.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil || n == 0 {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(n) * p.per)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rateBatch is the batch size under a rate limit: about a tenth of a
// second's worth of keys, so that the work is spread evenly, and never more
// than batch.
func rateBatch(batch, rate int) int {
	if rate <= 0 {
		return batch
	}
	if b := rate / 10; b < batch {
		if b < 1 {
			return 1
		}
		return b
	}
	return batch
}

// tracker keeps the running totals of a walk and calls the progress
// callback under its lock.
type tracker struct {
	mu       sync.Mutex
	sum      Summary
	start    time.Time
	total    int64
	progress func(Progress)
	// frac and weight are the SCAN position and DBSIZE of each node.
	frac   []float64
	weight []int64
}

func newTracker(progress func(Progress)) *tracker {
	return &tracker{start: time.Now(), progress: progress}
}

// setNodes records each node's DBSIZE (for Fraction, and Total when
// every key is selected). It is only called when a Progress callback is set.
func (t *tracker) setNodes(ctx context.Context, ns []node, all bool) {
	sizes := make([]int64, len(ns))
	var wg sync.WaitGroup
	for i, nd := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := nd.DBSize(ctx).Result(); err == nil {
				sizes[i] = n
			}
		}()
	}
	wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.frac = make([]float64, len(ns))
	t.weight = sizes
	if all {
		for _, n := range sizes {
			t.total += n
		}
	}
}

// add adds d to the totals, notes node i's cursor and reports progress.
func (t *tracker) add(i int, cursor uint64, d Summary) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sum.add(d)
	if i >= 0 && i < len(t.frac) {
		if cursor == 0 {
			t.frac[i] = 1
		} else if f := cursorFraction(cursor); f > t.frac[i] {
			t.frac[i] = f
		}
	}
	if t.progress != nil {
		t.progress(t.snapshot())
	}
}

// walked marks node i as fully scanned when its walk ended without err,
// and reports progress once more: the last SCAN of a node may return no
// keys, so no batch carries its final cursor. It returns err.
func (t *tracker) walked(i int, err error) error {
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i >= 0 && i < len(t.frac) && t.frac[i] != 1 {
		t.frac[i] = 1
		if t.progress != nil {
			t.progress(t.snapshot())
		}
	}
	return nil
}

func (t *tracker) snapshot() Progress {
	p := Progress{Summary: t.sum, Elapsed: time.Since(t.start), Total: t.total}
	var w, f float64
	for i, x := range t.frac {
		wt := float64(t.weight[i])
		if wt == 0 {
			wt = 1
		}
		w += wt
		f += wt * x
	}
	if w > 0 {
		p.Fraction = f / w
	}
	return p
}

func (t *tracker) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sum
}

// cursorFraction is how far a SCAN cursor is through the hash table: Redis
// walks the table by incrementing the bit-reversed bucket index, so the
// reversed cursor grows steadily from 0 to the table size.
func cursorFraction(cursor uint64) float64 {
	return float64(bits.Reverse64(cursor)) / (1 << 64)
}

// fetchValues reads the values of keys with one pipelined GET per key on
// nd (wrapped in CLIENT NO-TOUCH where possible) into vals (reused); a key
// that is gone or not a string gets a nil value.
func (m *Manager) fetchValues(ctx context.Context, nd node, keys []string, cmds []*redis.StringCmd, vals [][]byte) ([]*redis.StringCmd, [][]byte, error) {
	cmds, vals = cmds[:0], vals[:0]
	pipe := nd.Pipeline()
	var nt *redis.Cmd
	if m.noTouchOn(nd) {
		nt = pipe.Do(ctx, "client", "no-touch", "on")
	}
	for _, k := range keys {
		cmds = append(cmds, pipe.Get(ctx, k))
	}
	if nt != nil {
		pipe.Do(ctx, "client", "no-touch", "off")
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return cmds, vals, wrap("read values", err)
	}
	m.noteNoTouch(nt)
	for _, c := range cmds {
		b, err := c.Bytes()
		if err != nil {
			b = nil
		}
		vals = append(vals, b)
	}
	return cmds, vals, nil
}

// judge applies f to one key and counts the verdict into d; it reports
// whether the key is selected. A nil value (gone, or not a string) is never
// selected and not counted, and neither is one of wsess's own keys
// (Classify) nor a verdict given once ctx is done (the filter may have been
// cut short).
func judge(ctx context.Context, f Filter, key string, val []byte, d *Summary) bool {
	if val == nil {
		return false
	}
	if Classify(key, "string", val).Kind != "" {
		return false // wsess's own key: no session to judge
	}
	v := f(ctx, key, val)
	if ctx.Err() != nil {
		return false
	}
	switch v {
	case VerdictMatch:
		return true
	case VerdictUndecodable:
		d.Undecodable++
	case VerdictError:
		d.FilterErrors++
	}
	return false
}

// eachNode runs fn on every node of ns concurrently (i is the node's index
// in ns) and returns the first error; the first failure cancels the others,
// which finish the batch they are working on.
func eachNode(ctx context.Context, ns []node, fn func(ctx context.Context, i int, nd node) error) error {
	if len(ns) == 1 {
		return fn(ctx, 0, ns[0])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for i, nd := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, i, nd); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// startWalk lists the nodes and, when progress is wanted, their sizes.
func (m *Manager) startWalk(ctx context.Context, prefix, match string, progress func(Progress)) ([]node, *tracker, error) {
	ns, err := m.nodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	t := newTracker(progress)
	if progress != nil {
		t.setNodes(ctx, ns, prefix == "" && (match == "" || match == "*"))
	}
	return ns, t, nil
}
