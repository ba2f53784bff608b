package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/rediserr"
)

// Special values of Info.TTL and Info.Idle.
const (
	// NoExpiry is the TTL of a key that never expires.
	NoExpiry time.Duration = -1
	// Missing is the TTL of a key that does not exist (any more).
	Missing time.Duration = -2
	// IdleUnknown is the idle time when the server does not track it (an
	// LFU maxmemory policy) or the key is gone.
	IdleUnknown time.Duration = -1
)

// Info describes one key. Reading it changes neither the TTL nor the value.
type Info struct {
	Key string
	// TTL is the time left, to the millisecond (PTTL); NoExpiry or Missing.
	TTL time.Duration
	// Size is the length of a string value in bytes (STRLEN); -1 for other
	// types, 0 for a missing key. Where reading the length would reset the
	// key's idle time (a server without CLIENT NO-TOUCH, before Redis 7.2)
	// and the value is not read anyway, it is what MEMORY USAGE reports
	// instead (value, key and allocator overhead: more than the length) and
	// SizeIsMemory is true.
	Size int64
	// SizeIsMemory says that Size is MEMORY USAGE, not the length (see Size).
	SizeIsMemory bool
	// Idle is the time since the last access, to the second (OBJECT
	// IDLETIME), read before the size; IdleUnknown when not available.
	Idle time.Duration
	// Type is "string" for a string value (every session), the Redis type
	// name (TYPE) for others, "none" for a missing key.
	Type string
	// Value is the stored value, read only by List with ScanOptions.Values
	// (nil otherwise, and for other types). It is valid only during the
	// callback.
	Value []byte
	// Memory is what MEMORY USAGE reports for the key (value, key and
	// allocator overhead), read by Stats for a sample of the keys
	// (ScanOptions.MemorySample), and for every key where it stands in for
	// the size (SizeIsMemory); 0 when not read.
	Memory int64
	// Err is a reply error for this key alone (for example MOVED while a
	// cluster reshards); the other fields are then unreliable.
	Err error
	// Own says whether the key is one of wsess's own (a tombstone, a
	// user's index, a last-seen marker, a revocation: see Classify) and
	// not a session. Stats fills it in for every key, List when it reads
	// values (ScanOptions.Values or Filter); Kind is "" otherwise.
	Own Own
}

// describer holds the per-batch command slices, reused between batches.
type describer struct {
	m    *Manager
	idle []*redis.DurationCmd
	ttl  []*redis.DurationCmd
	size []*redis.IntCmd
	get  []*redis.StringCmd
	mem  []*redis.IntCmd
	typ  []*redis.StatusCmd
	// values makes describe read the values too.
	values bool
	// memEvery, when positive, makes describe ask MEMORY USAGE for every
	// memEvery-th key it sees (memSeen counts them across batches).
	memEvery, memSeen int
	// own makes describe fill in Info.Own: from the values when it reads
	// them, else from the names and types, and for the string keys whose
	// size a tombstone can have, from their values read in a second
	// pipeline.
	own bool
	// headKeys (at headIdx in the batch), heads and headVals are that
	// second pipeline's scratch, reused between batches.
	headKeys []string
	headIdx  []int
	heads    []*redis.StringCmd
	headVals [][]byte
}

// What resets a key's idle time (OBJECT IDLETIME, the LRU clock that
// Expire's idle filter selects on) on a server without CLIENT NO-TOUCH,
// found on redis-server 7.0.15 by OBJECT IDLETIME before and after each
// command on keys idle for seconds:
//
//	command                             resets the idle time
//	SCAN (MATCH, TYPE), RANDOMKEY, DBSIZE   no
//	TYPE, EXISTS                        no
//	TTL, PTTL, EXPIRETIME               no
//	OBJECT IDLETIME/ENCODING/REFCOUNT   no
//	MEMORY USAGE (also from a script)   no
//	DEBUG OBJECT                        (refused: enable-debug-command no)
//	STRLEN (also on another type, and from a script)   yes
//	GET, GETEX, GETRANGE, SUBSTR, BITCOUNT, LCS, DUMP  yes
//	HLEN, ZCARD, ZRANGE, SORT_RO, COPY (its source)    yes
//	TOUCH, SETRANGE k 0 "", EXPIRE/PEXPIRE             yes
//
// No command gives the exact length of a string without resetting its
// idle time there, so where CLIENT NO-TOUCH is missing describe reads
// TYPE and MEMORY USAGE instead of STRLEN (Info.SizeIsMemory), unless the
// values are read anyway (List with Values or a Filter, Get), which the
// caller is told about by ReadsTouch.

// noTouchOn reports whether pipelines through nd may be wrapped in CLIENT
// NO-TOUCH (only when nd is one server and the server may know it).
func (m *Manager) noTouchOn(nd node) bool {
	if nd == node(m.c) && m.isCluster() {
		return false
	}
	return m.noTouch.Load() != noTouchNo
}

// noteNoTouch records whether the server accepted CLIENT NO-TOUCH.
func (m *Manager) noteNoTouch(cmd *redis.Cmd) {
	if cmd == nil || m.noTouch.Load() != noTouchUnknown {
		return
	}
	if cmd.Err() == nil {
		m.noTouch.Store(noTouchYes)
	} else if pipelineFailed(cmd.Err()) == nil {
		m.noTouch.Store(noTouchNo)
	}
}

// canNoTouch reports whether pipelines through nd are wrapped in CLIENT
// NO-TOUCH: asked of the server once (CLIENT NO-TOUCH OFF, which changes
// nothing where it exists) and remembered.
func (m *Manager) canNoTouch(ctx context.Context, nd node) (bool, error) {
	if nd == node(m.c) && m.isCluster() {
		return false, nil
	}
	switch m.noTouch.Load() {
	case noTouchYes:
		return true, nil
	case noTouchNo:
		return false, nil
	}
	pipe := nd.Pipeline() // a node is a redis.Cmdable, which has no Do
	cmd := pipe.Do(ctx, "client", "no-touch", "off")
	_, _ = pipe.Exec(ctx)
	err := cmd.Err()
	if err == nil {
		m.noTouch.Store(noTouchYes)
		return true, nil
	}
	if err := pipelineFailed(err); err != nil {
		return false, wrap("describe", err)
	}
	m.noTouch.Store(noTouchNo) // unknown subcommand, or refused (ACL)
	return false, nil
}

// ReadsTouch reports whether reading a value (or its length) resets the
// key's idle time on the server, which Expire's idle filter selects on: so
// it is where CLIENT NO-TOUCH is missing (before Redis 7.2). version is
// the server's redis_version (INFO server), "" when unknown, for messages.
// On a cluster or ring one master is asked.
func (m *Manager) ReadsTouch(ctx context.Context) (touch bool, version string, err error) {
	ns, err := m.nodes(ctx)
	if err != nil {
		return false, "", err
	}
	ok, err := m.canNoTouch(ctx, ns[0])
	if err != nil || ok {
		return false, "", err
	}
	if info, err := ns[0].Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, found := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); found {
				version = v
				break
			}
		}
	}
	return true, version, nil
}

// describe fills out (reused) with one Info per key using one pipeline on nd.
func (d *describer) describe(ctx context.Context, nd node, keys []string, out []Info) ([]Info, error) {
	out = out[:0]
	if len(keys) == 0 {
		return out, nil
	}
	if !d.values {
		ok, err := d.m.canNoTouch(ctx, nd)
		if err != nil {
			return out, err
		}
		if !ok {
			return d.describeGently(ctx, nd, keys, out)
		}
	}
	d.idle, d.ttl, d.size, d.get, d.mem = d.idle[:0], d.ttl[:0], d.size[:0], d.get[:0], d.mem[:0]
	pipe := nd.Pipeline()
	var nt *redis.Cmd
	if d.m.noTouchOn(nd) {
		nt = pipe.Do(ctx, "client", "no-touch", "on")
	}
	for _, k := range keys {
		// Idle first: STRLEN counts as an access on servers without NO-TOUCH.
		d.idle = append(d.idle, pipe.ObjectIdleTime(ctx, k))
		d.ttl = append(d.ttl, pipe.PTTL(ctx, k))
		// With the value at hand its length is the size: STRLEN would
		// cost Redis a command per key for nothing.
		if d.values {
			d.get = append(d.get, pipe.Get(ctx, k))
		} else {
			d.size = append(d.size, pipe.StrLen(ctx, k))
		}
		if d.memEvery > 0 {
			var c *redis.IntCmd
			if d.memSeen%d.memEvery == 0 {
				c = pipe.MemoryUsage(ctx, k)
			}
			d.memSeen++
			d.mem = append(d.mem, c)
		}
	}
	if nt != nil {
		pipe.Do(ctx, "client", "no-touch", "off")
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return out, wrap("describe", err)
	}
	d.m.noteNoTouch(nt)
	var others []int
	for i, k := range keys {
		inf := Info{Key: k, Type: "string", Idle: IdleUnknown}
		ttl, err := d.ttl[i].Result()
		switch {
		case err != nil:
			inf.Err = err
		case ttl == -2:
			inf.TTL, inf.Type = Missing, "none"
		case ttl == -1:
			inf.TTL = NoExpiry
		default:
			inf.TTL = ttl
		}
		if idle, err := d.idle[i].Result(); err == nil {
			inf.Idle = idle
		}
		var size int64
		var value []byte
		if d.values {
			value, err = d.get[i].Bytes()
			size = int64(len(value))
			if errors.Is(err, redis.Nil) {
				err = nil // gone since the SCAN: its TTL says Missing
			}
		} else {
			size, err = d.size[i].Result()
		}
		switch {
		case err == nil:
			inf.Size = size
		case rediserr.IsWrongType(err):
			inf.Size, inf.Type = -1, ""
			others = append(others, i)
		default:
			if inf.Err == nil {
				inf.Err = err
			}
		}
		if d.values && inf.Type == "string" && err == nil {
			inf.Value = value
		}
		if d.memEvery > 0 && d.mem[i] != nil {
			if n, err := d.mem[i].Result(); err == nil {
				inf.Memory = n
			}
		}
		out = append(out, inf)
	}
	if len(others) > 0 {
		if err := typesOf(ctx, nd, out, others); err != nil {
			return out, err
		}
	}
	if d.own {
		if err := d.classify(ctx, nd, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// describeGently is describe where CLIENT NO-TOUCH cannot be used and the
// values are not read: only commands that leave the idle time alone (see
// the table above), MEMORY USAGE standing in for the size.
func (d *describer) describeGently(ctx context.Context, nd node, keys []string, out []Info) ([]Info, error) {
	d.idle, d.ttl, d.mem = d.idle[:0], d.ttl[:0], d.mem[:0]
	d.typ = d.typ[:0]
	pipe := nd.Pipeline()
	for _, k := range keys {
		d.idle = append(d.idle, pipe.ObjectIdleTime(ctx, k))
		d.ttl = append(d.ttl, pipe.PTTL(ctx, k))
		d.typ = append(d.typ, pipe.Type(ctx, k))
		d.mem = append(d.mem, pipe.MemoryUsage(ctx, k))
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return out, wrap("describe", err)
	}
	for i, k := range keys {
		inf := Info{Key: k, Idle: IdleUnknown, Size: -1}
		ttl, err := d.ttl[i].Result()
		switch {
		case err != nil:
			inf.Err = err
		case ttl == -2:
			inf.TTL = Missing
		case ttl == -1:
			inf.TTL = NoExpiry
		default:
			inf.TTL = ttl
		}
		if idle, err := d.idle[i].Result(); err == nil {
			inf.Idle = idle
		}
		typ, err := d.typ[i].Result()
		if err != nil && inf.Err == nil {
			inf.Err = err
		}
		inf.Type = typ
		if typ == "none" {
			inf.TTL, inf.Size = Missing, 0
		}
		if n, err := d.mem[i].Result(); err == nil {
			inf.Memory = n
			if typ == "string" {
				inf.Size, inf.SizeIsMemory = n, true
			}
		}
		out = append(out, inf)
	}
	if d.own {
		if err := d.classify(ctx, nd, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// classify fills in the Own of each key of out (see describer.own).
func (d *describer) classify(ctx context.Context, nd node, out []Info) error {
	d.headKeys, d.headIdx = d.headKeys[:0], d.headIdx[:0]
	for i := range out {
		inf := &out[i]
		if inf.Err != nil || inf.TTL == Missing {
			continue
		}
		if !d.values && inf.Type == "string" && mayBeTombstone(inf) {
			d.headKeys = append(d.headKeys, inf.Key)
			d.headIdx = append(d.headIdx, i)
			continue
		}
		inf.Own = Classify(inf.Key, inf.Type, inf.Value)
	}
	if len(d.headKeys) == 0 {
		return nil
	}
	var err error
	d.heads, d.headVals, err = d.m.fetchValues(ctx, nd, d.headKeys, d.heads, d.headVals)
	if err != nil {
		return err
	}
	for j, i := range d.headIdx {
		// A value gone since (nil) is judged by its name.
		out[i].Own = Classify(out[i].Key, "string", d.headVals[j])
	}
	return nil
}

// typesOf fills in the Type of the non-string keys out[idx...].
func typesOf(ctx context.Context, nd node, out []Info, idx []int) error {
	pipe := nd.Pipeline()
	cmds := make([]*redis.StatusCmd, len(idx))
	for j, i := range idx {
		cmds[j] = pipe.Type(ctx, out[i].Key)
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return wrap("describe", err)
	}
	for j, i := range idx {
		t, err := cmds[j].Result()
		if err != nil {
			out[i].Err = err
		}
		out[i].Type = t
	}
	return nil
}

// Describe returns the TTL, size, idle time and type of each key, in the
// order given, with one pipelined round trip (per node of a cluster). Keys
// that do not exist are reported with TTL Missing.
func (m *Manager) Describe(ctx context.Context, keys []string) ([]Info, error) {
	d := &describer{m: m}
	return d.describe(ctx, m.c, keys, make([]Info, 0, len(keys)))
}

// List walks the keys that match opts (as Scan does) and hands fn their
// descriptions in batches, one pipelined round trip per batch. Keys that
// disappear between SCAN and the description are left out, and so are the
// keys opts.Filter does not select. fn is never called concurrently and must
// not keep the slice after it returns. opts.Progress gets the running
// counts (Matched: the keys handed to fn). A cancelled ctx stops the walk
// after the batch in flight with an error wrapping ErrInterrupted.
func (m *Manager) List(ctx context.Context, opts ScanOptions, fn func(infos []Info) error) error {
	ns, t, err := m.startWalk(ctx, opts.Prefix, opts.Match, opts.Progress)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	pattern := Pattern(opts.Prefix, opts.Match)
	n := rateBatch(opts.count(), opts.Rate)
	wo := walkOpts{count: n, batch: n, workers: pipeWorkers, pace: newPacer(opts.Rate)}
	err = eachNode(ctx, ns, func(walkCtx context.Context, i int, nd node) error {
		ds := make([]describer, pipeWorkers)
		infos := make([][]Info, pipeWorkers)
		return t.walked(i, scanBatches(walkCtx, nd, pattern, wo, func(ctx context.Context, w int, keys []string, cursor uint64) error {
			ds[w].m, ds[w].values = m, opts.Values || opts.Filter != nil
			ds[w].own = ds[w].values
			var err error
			infos[w], err = ds[w].describe(ctx, nd, keys, infos[w])
			if err != nil {
				return err
			}
			d := Summary{Scanned: int64(len(keys))}
			kept := infos[w][:0]
			for _, inf := range infos[w] {
				if inf.TTL == Missing {
					continue
				}
				// wsess's own keys are no sessions: a filter on session
				// data never selects them, nor counts them undecodable.
				if opts.Filter != nil && inf.Own.Kind != "" {
					continue
				}
				if opts.Filter != nil && !judge(walkCtx, opts.Filter, inf.Key, inf.Value, &d) {
					continue
				}
				if !opts.Values {
					inf.Value = nil
				}
				kept = append(kept, inf)
			}
			d.Matched = int64(len(kept))
			mu.Lock()
			defer mu.Unlock()
			if len(kept) > 0 {
				if err := fn(kept); err != nil {
					return err
				}
			}
			t.add(i, cursor, d)
			return nil
		}))
	})
	return finish("list", ctx, err)
}

// Get returns the value of a string key and its description, without
// changing its TTL. A missing key is ErrNotFound.
func (m *Manager) Get(ctx context.Context, key string) ([]byte, Info, error) {
	var nd node = m.c
	if cc, ok := m.c.(*redis.ClusterClient); ok {
		c, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, Info{}, wrap("get", err)
		}
		nd = c
	}
	pipe := nd.Pipeline()
	var nt *redis.Cmd
	if m.noTouchOn(nd) {
		nt = pipe.Do(ctx, "client", "no-touch", "on")
	}
	idle := pipe.ObjectIdleTime(ctx, key)
	ttl := pipe.PTTL(ctx, key)
	get := pipe.Get(ctx, key)
	if nt != nil {
		pipe.Do(ctx, "client", "no-touch", "off")
	}
	_, err := pipe.Exec(ctx)
	if err := pipelineFailed(err); err != nil {
		return nil, Info{}, wrap("get", err)
	}
	m.noteNoTouch(nt)
	val, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, Info{Key: key, TTL: Missing, Idle: IdleUnknown, Type: "none"}, fmt.Errorf("manager: get: %w", ErrNotFound)
	}
	if err != nil {
		return nil, Info{}, wrap("get", err)
	}
	inf := Info{Key: key, Size: int64(len(val)), Type: "string", Idle: IdleUnknown}
	switch t := ttl.Val(); t {
	case -1:
		inf.TTL = NoExpiry
	case -2:
		inf.TTL = Missing
	default:
		inf.TTL = t
	}
	if d, err := idle.Result(); err == nil {
		inf.Idle = d
	}
	return val, inf, nil
}
