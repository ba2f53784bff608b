package manager

import (
	"context"
	"errors"
)

// errEnough stops a bounded walk.
var errEnough = errors.New("enough keys seen")

// Prefixes returns the key prefixes (each key up to and including its first
// ':', NoPrefix for keys without one) of at most limit keys, largest count
// first, and whether the walk covered every key (complete: the counts are
// exact). It is what an error message for a session that is not under the
// expected prefix can offer ("sessions exist under emtsess: and wppsess:"),
// at a bounded cost: about limit keys of SCAN, whatever the database size.
// limit <= 0 means 10,000. At most MaxPrefixes distinct prefixes are kept
// (the rest count under OtherPrefixes). wsess's own keys whose names say
// so (a user's index, a last-seen marker, a revocation: see Classify) are
// seen but not counted: their "prefixes" ("{wppsess:", "wsess:") hold no
// sessions.
func (m *Manager) Prefixes(ctx context.Context, limit int) (groups []Group, complete bool, err error) {
	if limit <= 0 {
		limit = 10_000
	}
	a := newAcc(0)
	seen := 0
	err = m.Scan(ctx, ScanOptions{}, func(keys []string) error {
		for _, k := range keys {
			if seen >= limit {
				return errEnough
			}
			seen++
			if Classify(k, "", nil).Kind != "" {
				continue // wsess's bookkeeping ({P u:...}, markers, revocations): no prefix of sessions
			}
			a.group(k).Keys++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, false, err
	}
	for _, g := range a.prefixes {
		groups = append(groups, *g)
	}
	sortGroups(groups)
	return groups, err == nil, nil
}
