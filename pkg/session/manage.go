package session

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoIndex is returned by the per-user index methods of a RedisManager
// whose ids are not hashed (RedisOptions.HashIDs false, the default for
// PickleCodec): such a manager keeps no index, since a handle could not
// name its keys.
var ErrNoIndex = fmt.Errorf("%w: the per-user index needs hashed ids (RedisOptions.HashIDs)", ErrInvalidOptions)

// Index reads and revokes the sessions a RedisManager lists per user (see
// Session.Login), without a manager: it is what the wsess CLI uses. Its
// prefix must be the manager's RedisOptions.Prefix, and the manager must
// hash ids (RedisOptions.HashIDs), so that a handle names a session key.
type Index struct {
	x   *userIndex
	rdb redis.UniversalClient
	now func() time.Time
}

// NewIndex returns the index of the sessions stored under prefix (""
// means DefaultPrefix) through rdb, a single node or a Cluster.
func NewIndex(rdb redis.UniversalClient, prefix string) *Index {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Index{x: newUserIndex(rdb, prefix, IPNone), rdb: rdb, now: time.Now}
}

// Sessions returns userID's live sessions, oldest first: those its index
// lists whose session key still exists (a session revoked by handle or
// expired a moment ago is not shown). Info.Expires is the session's real
// expiry: now plus its key's TTL, read with the listing.
func (ix *Index) Sessions(ctx context.Context, userID string) ([]Info, error) {
	now := ix.now()
	infos, err := ix.x.list(ctx, userID, now)
	if err != nil || len(infos) == 0 {
		return infos, err
	}
	cmds := make([]*redis.DurationCmd, len(infos))
	_, err = ix.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, info := range infos {
			cmds[i] = p.PTTL(ctx, ix.x.sessionKey(info.Handle))
		}
		return nil
	})
	if err != nil {
		return nil, storeErr("index list", err)
	}
	live := infos[:0]
	for i, info := range infos {
		switch ttl := cmds[i].Val(); {
		case ttl > 0:
			info.Expires = now.Add(ttl)
		case ttl == -1: // no TTL: nothing wsess writes, but it lives
			info.Expires = time.Time{}
		default: // gone (-2)
			continue
		}
		live = append(live, info)
	}
	return live, nil
}

// Revoke ends the sessions named by handles (Info.Handle, Session.Handle)
// and returns how many existed. A revoked session is absent from then on: a
// request that holds it gets a new, anonymous session, and a request in
// flight cannot write it back or list it again. A session renamed (RenewID,
// Login) after its handle was read is ended too: Revoke follows the
// tombstone the rename left under the old key. A handle that is not of the
// shape HashID returns is refused with ErrInvalidOptions, before anything
// is removed.
func (ix *Index) Revoke(ctx context.Context, handles ...string) (int, error) {
	for _, h := range handles {
		if !ValidID(h) || len(h) != idLen {
			return 0, fmt.Errorf("%w: %.60q is not a session handle", ErrInvalidOptions, h)
		}
	}
	if len(handles) == 0 {
		return 0, nil
	}
	_, n, err := ix.x.end(ctx, handles)
	return n, err
}

// RevokeUser ends every session the index lists for userID except those
// whose handles are in keep (e.g. the current one, for "log out my other
// devices"), takes them off the index, and returns how many it ended.
func (ix *Index) RevokeUser(ctx context.Context, userID string, keep ...string) (int, error) {
	return ix.x.revoke(ctx, userID, ix.now(), true, keep)
}

// ix returns the manager's index, or ErrNoIndex.
func (m *RedisManager) ix() (*Index, error) {
	if m.index == nil {
		return nil, ErrNoIndex
	}
	return &Index{x: m.index, rdb: m.rdb, now: m.opts.Clock}, nil
}

// UserSessions returns userID's live sessions, oldest first (see
// Index.Sessions). It reads only the user's index and checks each listed
// session exists: it never scans the store. Without hashed ids it returns
// ErrNoIndex.
func (m *RedisManager) UserSessions(ctx context.Context, userID string) ([]Info, error) {
	ix, err := m.ix()
	if err != nil {
		return nil, err
	}
	return ix.Sessions(ctx, userID)
}

// Revoke ends the session named by handle (Info.Handle, Session.Handle):
// from then on it is absent, whatever request races it. A handle of no
// session is not an error. Without hashed ids it returns ErrNoIndex.
func (m *RedisManager) Revoke(ctx context.Context, handle string) error {
	ix, err := m.ix()
	if err != nil {
		return err
	}
	_, err = ix.Revoke(ctx, handle)
	return err
}

// RevokeUser ends userID's sessions except those whose handles are in keep
// and returns how many it ended (see Index.RevokeUser). Without hashed ids
// it returns ErrNoIndex.
func (m *RedisManager) RevokeUser(ctx context.Context, userID string, keep ...string) (int, error) {
	ix, err := m.ix()
	if err != nil {
		return 0, err
	}
	return ix.RevokeUser(ctx, userID, keep...)
}
