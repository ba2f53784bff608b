package session

import (
	"context"

	"github.com/wsess/wsess/internal/manager"
)

// DeleteAll removes every session under the manager's prefix, on every master of
// a cluster, with SCAN and batched UNLINK (weppy's "DEL prefix*" deleted
// nothing: DEL takes no pattern), and with them the per-user index and the
// last-seen markers when the manager keeps them (their keys start with "{"
// and the prefix, so that each lives in its user's or session's hash slot;
// a second SCAN walk, as no one pattern matches both). Keys outside these
// are left alone. It returns how many keys it removed. (Session.Clear, by
// contrast, empties one session.)
func (m *RedisManager) DeleteAll(ctx context.Context) (int, error) {
	mg := manager.New(m.rdb)
	n, err := mg.DeletePrefix(ctx, m.prefix, 0)
	if err == nil && m.index != nil {
		var more int64
		more, err = mg.DeletePrefix(ctx, "{"+m.prefix, 0)
		n += more
	}
	if err != nil {
		return int(n), storeErr("delete all", err)
	}
	return int(n), nil
}
