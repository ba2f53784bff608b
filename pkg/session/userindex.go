package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTouchInterval is how often, at most, a read-only request of a
// logged-in Redis session records its last-seen time in the user index.
const DefaultTouchInterval = 5 * time.Minute

// maxUserAgent bounds the user agent kept per session, in bytes.
const maxUserAgent = 256

// Info describes one session of a user, as the per-user index keeps it.
type Info struct {
	// Handle names the session: HashID of its id. It is safe to show and
	// to pass back to a revoke; it cannot be used as a cookie.
	Handle string `json:"handle"`
	// Created is when the session began (or last logged in).
	Created time.Time `json:"created"`
	// LastSeen is the last request the index recorded; it lags the real
	// last request by up to the touch interval.
	LastSeen time.Time `json:"last_seen"`
	// AuthTime is when the user logged in (Session.Login).
	AuthTime time.Time `json:"auth_time"`
	// Expires is when the session ends if not used again: the idle timeout
	// counted from LastSeen, cut at the absolute lifetime.
	Expires time.Time `json:"expires"`
	// UserAgent is the login request's User-Agent, cut to 256 bytes.
	UserAgent string `json:"user_agent,omitempty"`
	// IP is the client address as IPRecording allows: empty by default.
	IP string `json:"ip,omitempty"`

	// from is the handle of the session this one was renamed from (RenewID,
	// Login), recorded when it joins the index: a revoke that keeps or
	// ends a session keeps or ends what it was renamed into.
	from string
}

// IPRecording says what the per-user index keeps of a client's address.
type IPRecording int

const (
	// IPNone keeps no address (the default: an address is personal data).
	IPNone IPRecording = iota
	// IPTruncated keeps the network only: /24 for IPv4, /48 for IPv6
	// (the /24 or /48 network); enough to tell "home" from "abroad".
	IPTruncated
	// IPFull keeps the whole address.
	IPFull
)

// truncateIP returns the /24 (IPv4) or /48 (IPv6) network of ip in CIDR
// form ("192.0.2.0/24", "2001:db8:1::/48"), or "" when ip does not parse.
// An IPv4-mapped IPv6 address counts as IPv4.
func truncateIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// recordIP applies the recording mode to a client address.
func recordIP(mode IPRecording, ip string) string {
	switch mode {
	case IPTruncated:
		return truncateIP(ip)
	case IPFull:
		if addr, err := netip.ParseAddr(ip); err == nil {
			return addr.Unmap().WithZone("").String()
		}
	}
	return ""
}

// indexExpiry returns the score a session gets in its user's index when it
// is recorded at now: the idle timeout plus the touch interval (a read-only
// request slides the session's TTL without writing to the index, so the
// index allows for the touches it has not seen), never past the absolute
// lifetime. An index entry thus never ends before its session, and ends at
// most one touch interval after it.
//
// The cap is the deadline plus a second: a session key's TTL is whole
// seconds counted from the current second, so the key itself may outlive
// the deadline by under a second, and its entry must not go first.
func indexExpiry(now, created time.Time, idle, absolute, touch time.Duration) time.Time {
	exp := now.Add(idle + touch)
	if dl := deadline(created, absolute); !dl.IsZero() && dl.Add(time.Second).Before(exp) {
		return dl.Add(time.Second)
	}
	return exp
}

// userIndex is the per-user index of Redis sessions: which sessions a user
// has, with metadata to show them, so that an application can list them
// and revoke one, all, or all but the current, without scanning the store.
//
// Layout, for user U and session prefix P (both keys in one hash slot, named
// by a hash tag, so every operation is one script on one node of a Cluster):
//
//	{P"u:"HashID(U)}    sorted set: member = session handle, score = the
//	                    entry's expiry in Unix ms (indexExpiry)
//	{P"u:"HashID(U)}:m  hash: handle -> JSON {c, a, ua, ip} written once;
//	                    handle+":t" -> "lastSeenMs:expiresMs" (touches)
//
// No user id appears in a key name (HashID), and the keys start with "{",
// so a SCAN of P* (wsess redis ls) does not see them. The metadata lives
// apart from the session's value: touching it never goes through the
// session's compare-and-set. Every write prunes the entries whose score has
// passed, and sets both keys to expire at the highest remaining score (or
// deletes them when none remains), so the index never outlives its
// sessions.
//
// Session keys live in other slots. Revoking unlinks each session key on
// its own (one UNLINK per key, pipelined: the cluster client sends each to
// the node of its slot) before it removes the entries from the index; if
// the unlinks fail, the index still lists the sessions, and a retry finds
// them.
type userIndex struct {
	rdb        redis.UniversalClient
	prefix     string                     // the sessions' key prefix
	sessionKey func(handle string) string // default prefix + handle
	ip         IPRecording
}

func newUserIndex(rdb redis.UniversalClient, prefix string, ip IPRecording) *userIndex {
	x := &userIndex{rdb: rdb, prefix: prefix, ip: ip}
	x.sessionKey = func(handle string) string { return x.prefix + handle }
	return x
}

// keys returns the sorted set and the hash of userID.
// Both are in one hash slot, named by the hash tag {P"u:"HashID(U)}; a
// prefix holding "}" would cut that tag short (or empty it), so such a
// prefix gets a tag chosen for the slot, followed by the usual name.
func (x *userIndex) keys(userID string) []string {
	name := x.prefix + "u:" + HashID(userID)
	tag := "{" + name + "}"
	if strings.IndexByte(name, '}') >= 0 {
		tag = "{" + slotTags()[crc16(name)%clusterSlots] + "}" + name
	}
	return []string{tag, tag + ":m"}
}

// indexMeta is the part of Info written once, when a session joins.
type indexMeta struct {
	Created   int64  `json:"c"`
	AuthTime  int64  `json:"a,omitempty"`
	UserAgent string `json:"ua,omitempty"`
	IP        string `json:"ip,omitempty"`
	From      string `json:"r,omitempty"` // Info.from
}

// indexLib holds the pruning and expiry rules every write script shares.
// KEYS[1] is the sorted set, KEYS[2] the hash; ARGV[1] is now in Unix ms.
const indexLib = `
local function prune()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 512)
  for _, h in ipairs(dead) do
    redis.call('ZREM', KEYS[1], h)
    redis.call('HDEL', KEYS[2], h, h .. ':t')
  end
end
local function settle()
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('DEL', KEYS[1], KEYS[2])
    return
  end
  local at = string.format('%d', math.floor(tonumber(top[2])))
  redis.call('PEXPIREAT', KEYS[1], at)
  redis.call('PEXPIREAT', KEYS[2], at)
end
`

// addScript: ARGV[2] handle, ARGV[3] score, ARGV[4] metadata JSON, ARGV[5]
// touch value.
var addScript = redis.NewScript(indexLib + `
prune()
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4], ARGV[2] .. ':t', ARGV[5])
settle()
return 1
`)

// touchScript: like add for a session already listed; a session that is
// not (revoked, pruned) is not brought back. The score never moves back: a
// touch computed by a request that loaded before another request raised
// the session's TTL (SetExpire) may land after it, and must not shorten
// the entry below the session's real expiry. Returns 1 when touched.
var touchScript = redis.NewScript(indexLib + `
local cur = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not cur then
  prune()
  settle()
  return 0
end
if tonumber(ARGV[3]) > tonumber(cur) then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[2])
end
redis.call('HSET', KEYS[2], ARGV[2] .. ':t', ARGV[4])
prune()
settle()
return 1
`)

// removeScript: ARGV[2:] handles. Returns how many were listed.
var removeScript = redis.NewScript(indexLib + `
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i], ARGV[i] .. ':t')
end
prune()
settle()
return n
`)

func ms(t time.Time) int64 { return t.UnixMilli() }

// add lists a session (at login): info's Handle, Created, AuthTime,
// UserAgent and IP are kept; LastSeen and Expires are recorded as a touch.
func (x *userIndex) add(ctx context.Context, userID string, info Info) error {
	meta := indexMeta{Created: info.Created.Unix(), UserAgent: info.UserAgent, IP: recordIP(x.ip, info.IP), From: info.from}
	if !info.AuthTime.IsZero() {
		meta.AuthTime = info.AuthTime.Unix()
	}
	if len(meta.UserAgent) > maxUserAgent {
		meta.UserAgent = strings.ToValidUTF8(meta.UserAgent[:maxUserAgent], "")
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("session: index metadata: %w", err)
	}
	err = addScript.Run(ctx, x.rdb, x.keys(userID), ms(info.LastSeen), info.Handle, ms(info.Expires), b, touchValue(info)).Err()
	if err != nil {
		return storeErr("index add", err)
	}
	return nil
}

func touchValue(info Info) string {
	return strconv.FormatInt(ms(info.LastSeen), 10) + ":" + strconv.FormatInt(ms(info.Expires), 10)
}

// touch records a listed session's last-seen and expiry. It reports false
// (and writes nothing for it) when the session is not listed.
func (x *userIndex) touch(ctx context.Context, userID, handle string, lastSeen, expires time.Time) (bool, error) {
	info := Info{LastSeen: lastSeen, Expires: expires}
	n, err := touchScript.Run(ctx, x.rdb, x.keys(userID), ms(lastSeen), handle, ms(expires), touchValue(info)).Int()
	if err != nil {
		return false, storeErr("index touch", err)
	}
	return n == 1, nil
}

// remove takes handles off userID's index (a logout, a session that ended)
// and returns how many were listed. It does not touch the sessions.
func (x *userIndex) remove(ctx context.Context, userID string, now time.Time, handles ...string) (int, error) {
	args := make([]any, 0, 1+len(handles))
	args = append(args, ms(now))
	for _, h := range handles {
		args = append(args, h)
	}
	n, err := removeScript.Run(ctx, x.rdb, x.keys(userID), args...).Int()
	if err != nil {
		return 0, storeErr("index remove", err)
	}
	return n, nil
}

// list returns userID's live sessions at now, oldest first. It only reads.
func (x *userIndex) list(ctx context.Context, userID string, now time.Time) ([]Info, error) {
	keys := x.keys(userID)
	var zs *redis.ZSliceCmd
	var meta *redis.MapStringStringCmd
	_, err := x.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		zs = p.ZRangeByScoreWithScores(ctx, keys[0], &redis.ZRangeBy{Min: "(" + strconv.FormatInt(ms(now), 10), Max: "+inf"})
		meta = p.HGetAll(ctx, keys[1])
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, storeErr("index list", err)
	}
	fields := meta.Val()
	out := make([]Info, 0, len(zs.Val()))
	for _, z := range zs.Val() {
		handle, _ := z.Member.(string)
		info := Info{Handle: handle, Expires: time.UnixMilli(int64(z.Score))}
		var m indexMeta
		if err := json.Unmarshal([]byte(fields[handle]), &m); err == nil {
			info.Created = time.Unix(m.Created, 0)
			if m.AuthTime != 0 {
				info.AuthTime = time.Unix(m.AuthTime, 0)
			}
			info.UserAgent, info.IP = m.UserAgent, m.IP
		}
		if seen, exp, ok := strings.Cut(fields[handle+":t"], ":"); ok {
			if n, err := strconv.ParseInt(seen, 10, 64); err == nil {
				info.LastSeen = time.UnixMilli(n)
			}
			if n, err := strconv.ParseInt(exp, 10, 64); err == nil {
				info.Expires = time.UnixMilli(n)
			}
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Handle, b.Handle)
	})
	return out, nil
}

// revoke ends userID's listed sessions named by handles (only those the
// index lists: a handle of another user's session is ignored), or, with
// all, every listed session except those in keep, and returns how many
// sessions it ended.
//
// A session renamed (RenewID, Login) while the revoke runs must not escape
// it, nor must a kept one be ended because it was renamed. The index lists
// a renamed session's new key, with the handle it was renamed from, before
// the old key names it (see RedisManager.compareAndSet), so:
//   - members and their metadata are read together (one MULTI), and a
//     member renamed from a chosen handle is chosen too, transitively: the
//     rename of a kept session is kept, the rename of a victim is ended;
//   - each victim is ended by end, which follows the tombstone a rename
//     left under its key to the key it was renamed into, so a rename that
//     completed after the read is ended too;
//   - a rename still in flight when its old key is ended finds the old key
//     gone at its compare-and-set and deletes its new key (abandon).
//
// Then every ended handle, followed ones included, leaves the index.
func (x *userIndex) revoke(ctx context.Context, userID string, now time.Time, all bool, handles []string) (int, error) {
	keys := x.keys(userID)
	var zr *redis.StringSliceCmd
	var hm *redis.MapStringStringCmd
	_, err := x.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		zr = p.ZRange(ctx, keys[0], 0, -1)
		hm = p.HGetAll(ctx, keys[1])
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, storeErr("index read", err)
	}
	members, meta := zr.Val(), hm.Val()
	chosen := make(map[string]bool, len(handles))
	for _, h := range handles {
		chosen[h] = true
	}
	if all && len(handles) > 0 {
		// A kept session renamed more than once before the revoke read
		// the index is listed only under its last name, whose origin (the
		// name before) is no longer listed: follow the tombstones the
		// renames left from each kept handle to its current name.
		if err := x.followRenames(ctx, chosen); err != nil {
			return 0, err
		}
	}
	from := make(map[string]string, len(members))
	for _, h := range members {
		var m indexMeta
		if json.Unmarshal([]byte(meta[h]), &m) == nil && m.From != "" {
			from[h] = m.From
		}
	}
	for grew := true; grew; {
		grew = false
		for _, h := range members {
			if f, ok := from[h]; ok && !chosen[h] && chosen[f] {
				chosen[h], grew = true, true
			}
		}
	}
	var victims []string
	for _, h := range members {
		if all != chosen[h] {
			victims = append(victims, h)
		}
	}
	if len(victims) == 0 {
		return 0, nil
	}
	gone, n, err := x.end(ctx, victims)
	if err != nil {
		return n, err
	}
	if _, err := x.remove(ctx, userID, now, gone...); err != nil {
		return n, err
	}
	return n, nil
}

// followRenames adds to handles, in place, the names the sessions they
// name were renamed into (RenewID, Login), by the tombstones under their
// keys, up to maxRenames renames deep. It only reads.
func (x *userIndex) followRenames(ctx context.Context, handles map[string]bool) error {
	next := make([]string, 0, len(handles))
	for h := range handles {
		next = append(next, h)
	}
	for range maxRenames {
		if len(next) == 0 {
			return nil
		}
		cmds := make([]*redis.StringCmd, len(next))
		_, err := x.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range next {
				cmds[i] = p.Get(ctx, x.sessionKey(h))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) && !isForeign(err) {
			return storeErr("revoke: follow renames", err)
		}
		var found []string
		for _, c := range cmds {
			v, err := c.Result()
			if err != nil || !strings.HasPrefix(v, tombstone) {
				continue
			}
			if h := v[len(tombstone):]; ValidID(h) && !handles[h] {
				handles[h] = true
				found = append(found, h)
			}
		}
		next = found
	}
	return nil
}

// endScript unlinks KEYS[1] and returns {1} when it held a session, {0}
// when it held nothing, or {0, next} when it held a tombstone (ARGV[1]
// followed by next: the key, without the prefix, of the session it was
// renamed into).
var endScript = redis.NewScript(`
local v = redis.pcall('GET', KEYS[1])
local n = redis.call('UNLINK', KEYS[1])
if type(v) == 'string' and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
  return {0, string.sub(v, #ARGV[1] + 1)}
end
return {n}
`)

// end deletes the sessions named by handles, and those they were renamed
// into (endSessions), and returns every handle it deleted and how many
// sessions it ended.
func (x *userIndex) end(ctx context.Context, handles []string) ([]string, int, error) {
	gone, n, err := endSessions(ctx, x.rdb, x.prefix, handles)
	if err != nil {
		return gone, n, storeErr("revoke sessions", err)
	}
	return gone, n, nil
}

// endSessions deletes the sessions stored under prefix + each of names
// and, following the tombstones their keys hold, the sessions they were
// renamed into (up to maxRenames renames deep), one round per rename: a
// round of one key runs the script by its digest, a longer one pipelines
// it. It returns every name it deleted (the tombstones' included) and how
// many sessions it ended. A Destroy and a revoke both end sessions here.
func endSessions(ctx context.Context, rdb redis.UniversalClient, prefix string, names []string) (gone []string, n int, err error) {
	done := make(map[string]bool, len(names))
	next := names
	for range maxRenames + 1 {
		var round []string
		for _, h := range next {
			if !done[h] {
				done[h] = true
				round = append(round, h)
			}
		}
		if len(round) == 0 {
			break
		}
		results := make([][]any, len(round))
		if len(round) == 1 {
			results[0], err = endScript.Run(ctx, rdb, []string{prefix + round[0]}, tombstone).Slice()
		} else {
			cmds := make([]*redis.Cmd, len(round))
			_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, h := range round {
					cmds[i] = endScript.Eval(ctx, p, []string{prefix + h}, tombstone)
				}
				return nil
			})
			for i, c := range cmds {
				results[i], _ = c.Slice()
			}
		}
		if err != nil {
			return gone, n, err
		}
		next = next[:0:0]
		for i, res := range results {
			gone = append(gone, round[i])
			if len(res) > 0 {
				if k, _ := res[0].(int64); k == 1 {
					n++
				}
			}
			if len(res) > 1 {
				// A tombstone names the renamed session's key without the
				// prefix, which has the shape of an id (a handle).
				if h, _ := res[1].(string); ValidID(h) {
					next = append(next, h)
				}
			}
		}
	}
	return gone, n, nil
}
