package manager

import (
	"context"
	"sync"
	"time"
)

// Bucket is one bar of a histogram: the keys whose value is below Upper
// and at or above the previous bucket's Upper. Upper is 0 for the
// open-ended bucket (">=7d", ">=64KiB") and for "none" and "other".
type Bucket struct {
	// Label is a short name for the range, e.g. "<1m", "<1KiB", ">=7d".
	Label string
	// Upper is the exclusive upper bound: bytes for a size bucket,
	// nanoseconds (a time.Duration) for a TTL bucket; 0 for no bound.
	Upper int64
	// Count is the number of keys in the range.
	Count int64
}

// The fixed histogram buckets. TTL buckets: <1m, <10m, <1h, <6h, <1d, <7d,
// >=7d, then "none" for keys that never expire. Size buckets (string length in
// bytes): <64B, <256B, <1KiB, <4KiB, <16KiB, <64KiB, >=64KiB, then "other"
// for values that are not strings.
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

// Stats summarises the keys under a prefix.
type Stats struct {
	// Keys is the number of keys seen.
	Keys int64
	// Bytes is the total length of the string values (STRLEN).
	Bytes int64
	// Strings is the number of keys holding a string (the others do not
	// count towards Bytes or the size buckets except "other").
	Strings int64
	// MinSize and MaxSize are the extremes of the string lengths (0 when
	// there is none).
	MinSize, MaxSize int64
	// TTL is the TTL histogram (see the bucket list above); the last bucket
	// is "none".
	TTL []Bucket
	// Size is the value size histogram; the last bucket is "other".
	Size []Bucket
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
	}
	s.TTL = append(s.TTL, Bucket{Label: "none"})
	for _, b := range sizeBounds {
		s.Size = append(s.Size, Bucket{Label: b.label, Upper: b.upper})
	}
	s.Size = append(s.Size, Bucket{Label: "other"})
	return s
}

func (s *Stats) add(inf Info) {
	s.Keys++
	switch {
	case inf.TTL == NoExpiry:
		s.TTL[len(s.TTL)-1].Count++
	default:
		for i, b := range ttlBounds {
			if b.upper == 0 || inf.TTL < b.upper {
				s.TTL[i].Count++
				break
			}
		}
	}
	if inf.Type != "string" {
		s.Size[len(s.Size)-1].Count++
		return
	}
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
}

func (s *Stats) merge(o Stats) {
	if o.Strings > 0 {
		if s.Strings == 0 || o.MinSize < s.MinSize {
			s.MinSize = o.MinSize
		}
		if o.MaxSize > s.MaxSize {
			s.MaxSize = o.MaxSize
		}
	}
	s.Keys += o.Keys
	s.Bytes += o.Bytes
	s.Strings += o.Strings
	for i := range s.TTL {
		s.TTL[i].Count += o.TTL[i].Count
	}
	for i := range s.Size {
		s.Size[i].Count += o.Size[i].Count
	}
}

// Stats walks the keys that match opts and returns their count, sizes and
// TTL and size histograms, in constant memory (one pipelined round trip per
// batch, as List).
func (m *Manager) Stats(ctx context.Context, opts ScanOptions) (Stats, error) {
	var (
		mu    sync.Mutex
		total = newStats()
	)
	pattern := Pattern(opts.Prefix, opts.Match)
	n := opts.count()
	err := m.forEachNode(ctx, func(ctx context.Context, nd node) error {
		ds := make([]describer, pipeWorkers)
		infos := make([][]Info, pipeWorkers)
		local := make([]Stats, pipeWorkers)
		for w := range local {
			local[w] = newStats()
		}
		err := scanBatches(ctx, nd, pattern, n, n, pipeWorkers, func(w int, keys []string) error {
			ds[w].m = m
			var err error
			infos[w], err = ds[w].describe(ctx, nd, keys, infos[w])
			if err != nil {
				return err
			}
			for _, inf := range infos[w] {
				if inf.TTL != Missing && inf.Err == nil {
					local[w].add(inf)
				}
			}
			return nil
		})
		mu.Lock()
		for _, l := range local {
			total.merge(l)
		}
		mu.Unlock()
		return err
	})
	if err != nil {
		return Stats{}, err
	}
	return total, nil
}
