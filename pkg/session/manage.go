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

// UserSessions returns userID's live sessions, oldest first: those its
// index lists whose session key still exists (a session revoked or expired
// a moment ago is not shown). Info.Expires is the session's real expiry:
// now plus its key's TTL, read with the listing. It reads only the user's
// index and each listed session's TTL: it never scans the store. Without
// hashed ids it returns ErrNoIndex.
//
// An admin tool outside the app lists and revokes the same sessions with a
// RedisManager of its own built with the app's Prefix.
func (m *RedisManager) UserSessions(ctx context.Context, userID string) ([]Info, error) {
	if m.index == nil {
		return nil, ErrNoIndex
	}
	now := m.opts.Clock()
	infos, err := m.index.list(ctx, userID, now)
	if err != nil || len(infos) == 0 {
		return infos, err
	}
	cmds := make([]*redis.DurationCmd, len(infos))
	_, err = m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, info := range infos {
			cmds[i] = p.PTTL(ctx, m.index.sessionKey(info.Handle))
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
// tombstone the rename left under the old key (for 5 minutes after the
// rename). A handle that is not of the shape HashID returns is refused
// with ErrInvalidOptions, before anything is removed. Without hashed ids it
// returns ErrNoIndex.
func (m *RedisManager) Revoke(ctx context.Context, handles ...string) (n int, err error) {
	if o := m.opts.Observer; o != nil {
		start := time.Now()
		defer func() { o.observed(EventRevoke, storeRedis, start, n, err) }()
	}
	if m.index == nil {
		return 0, ErrNoIndex
	}
	for _, h := range handles {
		if !ValidID(h) || len(h) != hashIDLen {
			return 0, fmt.Errorf("%w: %.60q is not a session handle", ErrInvalidOptions, h)
		}
	}
	if len(handles) == 0 {
		return 0, nil
	}
	_, n, err = m.index.end(ctx, handles)
	return n, err
}

// RevokeUser ends every session the index lists for userID except those
// whose handles are in keep (e.g. the current one, for "log out my other
// devices"), and the sessions those were renamed into while it ran; it
// takes them off the index and returns how many it ended. A kept session
// renamed meanwhile stays kept. Without hashed ids it returns ErrNoIndex.
func (m *RedisManager) RevokeUser(ctx context.Context, userID string, keep ...string) (n int, err error) {
	if o := m.opts.Observer; o != nil {
		start := time.Now()
		defer func() { o.observed(EventRevoke, storeRedis, start, n, err) }()
	}
	if m.index == nil {
		return 0, ErrNoIndex
	}
	return m.index.revoke(ctx, userID, m.opts.Clock(), true, keep)
}
