package session

import (
	"context"

	"github.com/wsess/wsess/internal/manager"
)

// Clear removes every session under the manager's prefix, on every master of
// a cluster, with SCAN and batched UNLINK (weppy's "DEL prefix*" deleted
// nothing: DEL takes no pattern). Keys outside the prefix are left alone. It
// returns how many keys it removed.
func (m *RedisManager) Clear(ctx context.Context) (int64, error) {
	n, err := manager.New(m.rdb).DeletePrefix(ctx, m.prefix, 0)
	if err != nil {
		return n, storeErr("clear", err)
	}
	return n, nil
}
