package session

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// commitStripe serialises the compare-and-set commits of the sessions whose
// ids map to it, within this process, so that concurrent requests of one
// user handled here do not race each other into retries: only writers in
// other processes can make a commit retry.
type commitStripe struct {
	sync.Mutex
	// id and value are the last session this stripe committed: a request
	// that waited for the lock behind a commit of its own session replays
	// onto that value at once instead of losing a round trip to a
	// compare-and-set that is bound to fail.
	id, value string

	qmu     sync.Mutex       // guards waiting and each one's taken
	waiting []*pendingCommit // commits queued for the lock, in order
}

// pendingCommit is one request's commit queued on its stripe.
type pendingCommit struct {
	id    string        // the session's id when the commit began
	s     *Session      // its session: only its ops are read by others
	taken bool          // a request of the same session commits it (under qmu)
	ready chan struct{} // closed when that request has the outcome; nil when not queued (RenewID)

	// The outcome, set before ready is closed: status 1 written, -1 the
	// session is gone, -2 renamed, statusAlone commit on your own; or err.
	status int64
	data   string        // the value written
	expire time.Duration // its TTL
	err    error
}

// statusAlone tells a combined commit's waiting request to commit on its
// own: the batch could not be encoded together (one request's value has
// no encoding), and one request's bad value must not fail the others.
const statusAlone = 2

// take removes from the queue the commits of session id, in order, and
// marks them taken. Call with qmu held.
func (st *commitStripe) take(id string) []*pendingCommit {
	var batch []*pendingCommit
	rest := st.waiting[:0]
	for _, p := range st.waiting {
		if p.id == id {
			p.taken = true
			batch = append(batch, p)
		} else {
			rest = append(rest, p)
		}
	}
	clear(st.waiting[len(rest):])
	st.waiting = rest
	return batch
}

// replay applies to values the operations of every commit of the batch, in
// order.
func replay(values map[string]any, batch []*pendingCommit) {
	for _, p := range batch {
		for _, o := range p.s.ops {
			o.apply(values)
		}
	}
}

// settleCombined ends a commit that another request of the same session
// made for this one: s takes the written value (decoded into its own map),
// and its index entry and cookie are settled as after a commit of its own;
// a session that ended meanwhile is abandoned.
func (m *RedisManager) settleCombined(base context.Context, r *http.Request, h http.Header, s *Session, st *commitStripe, p *pendingCommit) error {
	switch p.status {
	case 1:
		values, err := unmarshalString(m.opts.Codec, p.data)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		s.values, s.rs.loaded = values, p.data
		s.ops = s.ops[:0]
		if m.index != nil {
			// In commit order with the session's other index changes, as
			// after a commit of its own.
			st.Lock()
			err := m.settleIndex(base, s, p.id, false, m.opts.Clock(), p.expire)
			st.Unlock()
			if err != nil {
				return err
			}
		}
		m.setCookie(h, s, p.expire)
		return nil
	case -1, -2:
		return m.abandon(base, h, s, "", p.status == -1)
	case statusAlone:
		return m.compareAndSet(base, r, h, s, true)
	}
	return p.err
}

// stripe maps a session id to one of the commit locks (FNV-1a).
func stripe(id string) uint8 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return uint8(h ^ h>>8 ^ h>>16 ^ h>>24)
}
