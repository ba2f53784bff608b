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
// fn stops the walk and is returned as is.
func (m *Manager) Scan(ctx context.Context, opts ScanOptions, fn func(keys []string) error) error {
	var mu sync.Mutex
	pattern := Pattern(opts.Prefix, opts.Match)
	n := opts.count()
	return m.forEachNode(ctx, func(ctx context.Context, nd node) error {
		return scanBatches(ctx, nd, pattern, n, n, 1, func(_ int, keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(keys)
		})
	})
}

// scanBatches runs SCAN on one node and calls fn with batches of at least
// batch keys (fewer for the last one). The SCAN for the next batch runs
// while fn works on the previous ones; with workers > 1, that many calls of
// fn run at once (w, from 0 to workers-1, tells which worker calls, so that
// each can keep its own scratch space). workers+1 buffers are reused
// throughout. The first error stops the walk; errors from fn come back
// unwrapped, Redis errors wrapped.
func scanBatches(ctx context.Context, nd node, pattern string, count, batch, workers int, fn func(w int, keys []string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if workers < 1 {
		workers = 1
	}
	full := make(chan []string, workers)
	free := make(chan []string, workers+1)
	for i := 0; i < workers+1; i++ {
		free <- make([]string, 0, batch+count)
	}
	var scanErr error
	go func() {
		defer close(full)
		buf := <-free
		var cursor uint64
		for {
			keys, next, err := nd.Scan(ctx, cursor, pattern, int64(count)).Result()
			if err != nil {
				scanErr = err
				return
			}
			buf = append(buf, keys...)
			cursor = next
			if len(buf) >= batch || (cursor == 0 && len(buf) > 0) {
				select {
				case full <- buf:
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
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for keys := range full {
				if ctx.Err() == nil {
					if err := fn(w, keys); err != nil {
						once.Do(func() { fnErr = err; cancel() })
					}
				}
				free <- keys
			}
		}()
	}
	wg.Wait()
	// full is closed and drained: the producer has returned, scanErr is settled.
	if fnErr != nil {
		return fnErr
	}
	return wrap("scan", scanErr)
}
