package manager

import (
	"container/heap"
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bucket is one bar of a histogram: the keys whose value is below Upper
// and at or above the previous bucket's Upper. Upper is 0 for the
// open-ended bucket (">=7d", ">=64KiB") and for "none", "other" and
// "unknown".
type Bucket struct {
	// Label is a short name for the range, e.g. "<1m", "<1KiB", ">=7d".
	Label string `json:"label"`
	// Upper is the exclusive upper bound: bytes for a size bucket,
	// nanoseconds (a time.Duration) for a TTL or idle bucket; 0 for no bound.
	Upper int64 `json:"upper"`
	// Count is the number of keys in the range.
	Count int64 `json:"count"`
}

// DefaultMemorySample is ScanOptions.MemorySample when it is zero: Stats
// asks MEMORY USAGE for one string key in 100.
const DefaultMemorySample = 100

// MaxPrefixes bounds Stats.Prefixes: keys whose prefix is not among the
// first MaxPrefixes seen are counted under OtherPrefixes.
const MaxPrefixes = 64

// Names of the catch-all groups of Stats.Prefixes.
const (
	// NoPrefix groups the keys without a ':'.
	NoPrefix = "(none)"
	// OtherPrefixes groups the keys beyond MaxPrefixes distinct prefixes.
	OtherPrefixes = "(other)"
)

// The fixed histogram buckets. TTL buckets: <1m, <10m, <1h, <6h, <1d, <7d,
// >=7d, then "none" for keys that never expire. Idle buckets: the same
// ranges, then "unknown" (an LFU maxmemory policy keeps no idle time). Size
// buckets (string length in bytes): <64B, <256B, <1KiB, <4KiB, <16KiB,
// <64KiB, >=64KiB, then "other" for values that are not strings.
var (
	ttlBounds = []struct {
		label string
		upper time.Duration
	}{
		{"<1m", time.Minute},
		{"<10m", 10 * time.Minute},
		{"<1h", time.Hour},
		{"<6h", 6 * time.Hour},
		{"<1d", 24 * time.Hour},
		{"<7d", 7 * 24 * time.Hour},
		{">=7d", 0},
	}
	sizeBounds = []struct {
		label string
		upper int64
	}{
		{"<64B", 64},
		{"<256B", 256},
		{"<1KiB", 1 << 10},
		{"<4KiB", 4 << 10},
		{"<16KiB", 16 << 10},
		{"<64KiB", 64 << 10},
		{">=64KiB", 0},
	}
)

// Stats summarises the keys under a prefix. It marshals to JSON as is
// (durations in nanoseconds, sizes in bytes).
type Stats struct {
	// Keys is the number of keys seen (selected by the filter, if any),
	// wsess's own keys apart (see Bookkeeping).
	Keys int64 `json:"keys"`
	// NoTTL is the number of those that never expire.
	NoTTL int64 `json:"no_ttl"`
	// Bytes is the total length of the string values (STRLEN), or of
	// their MEMORY USAGE where SizeIsMemory.
	Bytes int64 `json:"bytes"`
	// SizeIsMemory says that the sizes (Bytes, MinSize, MaxSize, Size, Top)
	// are MEMORY USAGE, not lengths: the server has no CLIENT NO-TOUCH and
	// reading a length would have reset the key's idle time (see
	// Info.Size).
	SizeIsMemory bool `json:"size_is_memory,omitempty"`
	// Strings is the number of keys holding a string (the others do not
	// count towards Bytes or the size buckets except "other").
	Strings int64 `json:"strings"`
	// MinSize and MaxSize are the extremes of the string lengths (0 when
	// there is none).
	MinSize int64 `json:"min_size"`
	MaxSize int64 `json:"max_size"`
	// Memory is what the keys cost in the server, from a sample.
	Memory Memory `json:"memory"`
	// TTL is the TTL histogram (see the bucket list above); the last bucket
	// is "none".
	TTL []Bucket `json:"ttl"`
	// Size is the value size histogram; the last bucket is "other".
	Size []Bucket `json:"size"`
	// Idle is the idle time histogram; the last bucket is "unknown".
	Idle []Bucket `json:"idle"`
	// Top is the ScanOptions.Top largest string values, largest first
	// (ties by key).
	Top []Entry `json:"top,omitempty"`
	// Prefixes breaks the keys down by their prefix (the key up to and
	// including its first ':'), largest count first; at most MaxPrefixes+2
	// groups (NoPrefix, OtherPrefixes).
	Prefixes []Group `json:"prefixes,omitempty"`
	// Nodes breaks the keys down by master (by address) on a cluster or
	// ring; empty for one node.
	Nodes []Group `json:"nodes,omitempty"`
	// Scanned, Undecodable and FilterErrors count the keys SCAN returned
	// and, with a filter, the values that could not be decoded or on which
	// the filter failed (none of which are in Keys).
	Scanned      int64 `json:"scanned"`
	Undecodable  int64 `json:"undecodable"`
	FilterErrors int64 `json:"filter_errors"`
	// Bookkeeping counts the keys that are wsess's own and not sessions
	// (tombstones, index keys, last-seen markers, revocations: see
	// Classify), by kind. They are in Scanned and in nothing else above.
	Bookkeeping OwnCounts `json:"bookkeeping"`
}

// Memory estimates the memory the keys take in Redis. Value bytes (STRLEN)
// are exact; MEMORY USAGE (value, key name, allocator overhead) is asked
// for a sample of the string keys and scaled to all of them.
type Memory struct {
	// Sampled is the number of keys MEMORY USAGE was asked for.
	Sampled int64 `json:"sampled"`
	// SampledBytes is the sum of their value lengths, SampledUsage the sum
	// of what MEMORY USAGE reported for them.
	SampledBytes int64 `json:"sampled_bytes"`
	SampledUsage int64 `json:"sampled_usage"`
	// Estimated is the estimated total: Bytes scaled by
	// SampledUsage/SampledBytes when there is a sample, Bytes otherwise.
	Estimated int64 `json:"estimated"`
	// PerKey is Estimated divided by the number of string keys.
	PerKey float64 `json:"per_key"`
}

// Entry is one key in Stats.Top.
type Entry struct {
	Key  string        `json:"key"`
	Size int64         `json:"size"`
	TTL  time.Duration `json:"ttl"`
	Idle time.Duration `json:"idle"`
}

// Group counts the keys of one prefix or one node.
type Group struct {
	// Name is the prefix (or NoPrefix, OtherPrefixes), or the node address.
	Name  string `json:"name"`
	Keys  int64  `json:"keys"`
	NoTTL int64  `json:"no_ttl"`
	Bytes int64  `json:"bytes"`
}

// MeanSize is the mean string length in bytes (0 without strings).
func (s Stats) MeanSize() float64 {
	if s.Strings == 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Strings)
}

func newStats() Stats {
	s := Stats{}
	for _, b := range ttlBounds {
		s.TTL = append(s.TTL, Bucket{Label: b.label, Upper: int64(b.upper)})
		s.Idle = append(s.Idle, Bucket{Label: b.label, Upper: int64(b.upper)})
	}
	s.TTL = append(s.TTL, Bucket{Label: "none"})
	s.Idle = append(s.Idle, Bucket{Label: "unknown"})
	for _, b := range sizeBounds {
		s.Size = append(s.Size, Bucket{Label: b.label, Upper: b.upper})
	}
	s.Size = append(s.Size, Bucket{Label: "other"})
	return s
}

// durationBucket returns the index of d in ttlBounds.
func durationBucket(d time.Duration) int {
	for i, b := range ttlBounds {
		if b.upper == 0 || d < b.upper {
			return i
		}
	}
	return len(ttlBounds) - 1
}

// acc accumulates Stats for one worker: the plain counts, a bounded heap of
// the largest values and a bounded map of prefixes.
type acc struct {
	s        Stats
	top      topHeap
	topN     int
	prefixes map[string]*Group
}

func newAcc(topN int) *acc {
	return &acc{s: newStats(), topN: topN, prefixes: map[string]*Group{}}
}

func (a *acc) add(inf Info) {
	s := &a.s
	s.Keys++
	noTTL := inf.TTL == NoExpiry
	if noTTL {
		s.NoTTL++
		s.TTL[len(s.TTL)-1].Count++
	} else {
		s.TTL[durationBucket(inf.TTL)].Count++
	}
	if inf.Idle == IdleUnknown {
		s.Idle[len(s.Idle)-1].Count++
	} else {
		s.Idle[durationBucket(inf.Idle)].Count++
	}
	g := a.group(inf.Key)
	g.Keys++
	if noTTL {
		g.NoTTL++
	}
	if inf.Type != "string" {
		s.Size[len(s.Size)-1].Count++
		return
	}
	g.Bytes += inf.Size
	s.SizeIsMemory = s.SizeIsMemory || inf.SizeIsMemory
	if s.Strings == 0 || inf.Size < s.MinSize {
		s.MinSize = inf.Size
	}
	if inf.Size > s.MaxSize {
		s.MaxSize = inf.Size
	}
	s.Strings++
	s.Bytes += inf.Size
	for i, b := range sizeBounds {
		if b.upper == 0 || inf.Size < b.upper {
			s.Size[i].Count++
			break
		}
	}
	if inf.Memory > 0 {
		s.Memory.Sampled++
		s.Memory.SampledBytes += inf.Size
		s.Memory.SampledUsage += inf.Memory
	}
	a.offer(Entry{Key: inf.Key, Size: inf.Size, TTL: inf.TTL, Idle: inf.Idle})
}

// group returns the prefix group of key, creating it while there are fewer
// than MaxPrefixes.
func (a *acc) group(key string) *Group {
	name := NoPrefix
	if i := strings.IndexByte(key, ':'); i >= 0 {
		name = key[:i+1]
	}
	if g, ok := a.prefixes[name]; ok {
		return g
	}
	if len(a.prefixes) >= MaxPrefixes && name != NoPrefix {
		name = OtherPrefixes
		if g, ok := a.prefixes[name]; ok {
			return g
		}
	}
	g := &Group{Name: strings.Clone(name)}
	a.prefixes[g.Name] = g
	return g
}

// offer keeps e if it is among the topN largest seen so far.
func (a *acc) offer(e Entry) {
	if a.topN <= 0 {
		return
	}
	if len(a.top) < a.topN {
		e.Key = strings.Clone(e.Key)
		heap.Push(&a.top, e)
		return
	}
	if less(a.top[0], e) {
		e.Key = strings.Clone(e.Key)
		a.top[0] = e
		heap.Fix(&a.top, 0)
	}
}

// merge adds o into a.
func (a *acc) merge(o *acc) {
	s := &a.s
	if o.s.Strings > 0 {
		if s.Strings == 0 || o.s.MinSize < s.MinSize {
			s.MinSize = o.s.MinSize
		}
		if o.s.MaxSize > s.MaxSize {
			s.MaxSize = o.s.MaxSize
		}
	}
	s.Keys += o.s.Keys
	s.SizeIsMemory = s.SizeIsMemory || o.s.SizeIsMemory
	s.NoTTL += o.s.NoTTL
	s.Bytes += o.s.Bytes
	s.Strings += o.s.Strings
	s.Memory.Sampled += o.s.Memory.Sampled
	s.Memory.SampledBytes += o.s.Memory.SampledBytes
	s.Memory.SampledUsage += o.s.Memory.SampledUsage
	s.Scanned += o.s.Scanned
	s.Undecodable += o.s.Undecodable
	s.FilterErrors += o.s.FilterErrors
	s.Bookkeeping.add(o.s.Bookkeeping)
	for i := range s.TTL {
		s.TTL[i].Count += o.s.TTL[i].Count
	}
	for i := range s.Idle {
		s.Idle[i].Count += o.s.Idle[i].Count
	}
	for i := range s.Size {
		s.Size[i].Count += o.s.Size[i].Count
	}
	for _, e := range o.top {
		a.offer(e)
	}
	for name, og := range o.prefixes {
		g, ok := a.prefixes[name]
		if !ok && len(a.prefixes) >= MaxPrefixes && name != NoPrefix {
			g, ok = a.prefixes[OtherPrefixes]
			if !ok {
				g = &Group{Name: OtherPrefixes}
				a.prefixes[OtherPrefixes] = g
			}
		} else if !ok {
			g = &Group{Name: name}
			a.prefixes[name] = g
		}
		g.Keys += og.Keys
		g.NoTTL += og.NoTTL
		g.Bytes += og.Bytes
	}
}

// result fills in the derived fields of the total.
func (a *acc) result() Stats {
	s := a.s
	mem := &s.Memory
	mem.Estimated = s.Bytes
	if mem.SampledBytes > 0 {
		mem.Estimated = int64(float64(s.Bytes) * float64(mem.SampledUsage) / float64(mem.SampledBytes))
	} else if mem.Sampled > 0 && s.Strings > 0 {
		mem.Estimated = mem.SampledUsage * s.Strings / mem.Sampled
	}
	if s.Strings > 0 {
		mem.PerKey = float64(mem.Estimated) / float64(s.Strings)
	}
	s.Top = make([]Entry, len(a.top))
	copy(s.Top, a.top)
	sort.Slice(s.Top, func(i, j int) bool { return less(s.Top[j], s.Top[i]) })
	if len(s.Top) == 0 {
		s.Top = nil
	}
	for _, g := range a.prefixes {
		s.Prefixes = append(s.Prefixes, *g)
	}
	sortGroups(s.Prefixes)
	return s
}

func sortGroups(gs []Group) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Keys != gs[j].Keys {
			return gs[i].Keys > gs[j].Keys
		}
		return gs[i].Name < gs[j].Name
	})
}

// less orders entries by size, then by key (the larger key first among
// equal sizes, so that the top list is stable: the smallest key wins ties).
func less(a, b Entry) bool {
	if a.Size != b.Size {
		return a.Size < b.Size
	}
	return a.Key > b.Key
}

// topHeap is a min-heap of entries (the smallest at [0]).
type topHeap []Entry

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return less(h[i], h[j]) }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(Entry)) }
func (h *topHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Stats walks the keys that match opts (and that opts.Filter selects) and
// summarises them: counts, keys without a TTL, sizes, sampled memory, the
// largest values, TTL, size and idle histograms, and breakdowns by prefix
// and by node, in constant memory (one pipelined round trip per batch, as
// List). A cancelled ctx stops the walk after the batch in flight and
// returns the Stats so far with an error wrapping ErrInterrupted.
func (m *Manager) Stats(ctx context.Context, opts ScanOptions) (Stats, error) {
	ns, t, err := m.startWalk(ctx, opts.Prefix, opts.Match, opts.Progress)
	if err != nil {
		return Stats{}, err
	}
	every := opts.MemorySample
	if every == 0 {
		every = DefaultMemorySample
	}
	var (
		mu    sync.Mutex
		total = newAcc(opts.Top)
	)
	pattern := Pattern(opts.Prefix, opts.Match)
	n := rateBatch(opts.count(), opts.Rate)
	wo := walkOpts{count: n, batch: n, workers: pipeWorkers, pace: newPacer(opts.Rate)}
	nodes := make([]Group, len(ns))
	err = eachNode(ctx, ns, func(walkCtx context.Context, i int, nd node) error {
		ds := make([]describer, pipeWorkers)
		infos := make([][]Info, pipeWorkers)
		local := make([]*acc, pipeWorkers)
		for w := range local {
			local[w] = newAcc(opts.Top)
			ds[w] = describer{m: m, values: opts.Filter != nil, own: true}
			if every > 0 {
				// Offset each worker so that the sample does not depend on
				// which worker a batch lands on.
				ds[w].memEvery, ds[w].memSeen = every, w
			}
		}
		err := scanBatches(walkCtx, nd, pattern, wo, func(ctx context.Context, w int, keys []string, cursor uint64) error {
			var err error
			infos[w], err = ds[w].describe(ctx, nd, keys, infos[w])
			if err != nil {
				return err
			}
			l := local[w]
			d := Summary{Scanned: int64(len(keys))}
			before := l.s.Keys
			for _, inf := range infos[w] {
				if inf.TTL == Missing || inf.Err != nil {
					continue
				}
				if inf.Own.Kind != "" {
					l.s.Bookkeeping.count(inf.Own.Kind)
					continue
				}
				if opts.Filter != nil && !judge(walkCtx, opts.Filter, inf.Key, inf.Value, &d) {
					continue
				}
				l.add(inf)
			}
			d.Matched = l.s.Keys - before
			l.s.Scanned += d.Scanned
			l.s.Undecodable += d.Undecodable
			l.s.FilterErrors += d.FilterErrors
			t.add(i, cursor, d)
			return nil
		})
		err = t.walked(i, err)
		node := newAcc(0)
		for _, l := range local {
			node.merge(l)
		}
		nodes[i] = Group{Name: nodeName(nd), Keys: node.s.Keys, NoTTL: node.s.NoTTL, Bytes: node.s.Bytes}
		mu.Lock()
		for _, l := range local {
			total.merge(l)
		}
		mu.Unlock()
		return err
	})
	s := total.result()
	if len(ns) > 1 {
		s.Nodes = nodes
	}
	return s, finish("stats", ctx, err)
}

// nodeName is the address of a node, or "" for a client that is not one
// server.
func nodeName(nd node) string {
	if c, ok := nd.(*redis.Client); ok {
		return c.Options().Addr
	}
	return ""
}
