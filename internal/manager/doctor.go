package manager

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Problem is one kind of inconsistency Doctor finds: a way the store
// breaks what pkg/session promises.
type Problem string

// The problems, in the order reports list them.
const (
	// ProblemNotListed: a logged-in session (a "_wsess_user" in its value)
	// that its user's index does not list: RevokeUser would miss it.
	ProblemNotListed Problem = "not_listed"
	// ProblemListedShort: an index entry that expires before its session
	// does: the session drops off its user's list while it still lives.
	ProblemListedShort Problem = "listed_short"
	// ProblemEntryGone: an index entry whose session key is gone.
	ProblemEntryGone Problem = "entry_gone"
	// ProblemMetaGone: index metadata of a handle the index no longer lists.
	ProblemMetaGone Problem = "meta_gone"
	// ProblemIndexNoTTL: an index or its metadata without a TTL: it would
	// outlive every session it names.
	ProblemIndexNoTTL Problem = "index_no_ttl"
	// ProblemMarkerNoTTL: a last-seen marker without a TTL: its session's
	// last-seen time would never be recorded again.
	ProblemMarkerNoTTL Problem = "marker_no_ttl"
	// ProblemKeyNoTTL: a key under the prefix without a TTL: a session that
	// never expires.
	ProblemKeyNoTTL Problem = "key_no_ttl"
	// ProblemPastLifetime: a session past its absolute lifetime
	// ("_wsess_created" plus the lifetime): no load accepts it, but it
	// holds memory and may be listed.
	ProblemPastLifetime Problem = "past_lifetime"
	// ProblemTombstoneTTL: a rename tombstone with no TTL or one longer
	// than its 5-minute bound.
	ProblemTombstoneTTL Problem = "tombstone_ttl"
	// ProblemRawID: a key named by a raw (UUID) session id in a store whose
	// app hashes ids: the id can be read off the key name. Not repaired:
	// only the app can move its sessions.
	ProblemRawID Problem = "raw_id"
	// ProblemRevocationNoTTL: a cookie-store revocation key without a TTL.
	ProblemRevocationNoTTL Problem = "revocation_no_ttl"
)

// Problems lists every Problem in report order.
var Problems = []Problem{ProblemNotListed, ProblemListedShort, ProblemEntryGone, ProblemMetaGone,
	ProblemIndexNoTTL, ProblemMarkerNoTTL, ProblemKeyNoTTL, ProblemPastLifetime, ProblemTombstoneTTL,
	ProblemRawID, ProblemRevocationNoTTL}

// Describe says what a Problem is, for people.
func (p Problem) Describe() string {
	switch p {
	case ProblemNotListed:
		return "logged-in session missing from its user's index"
	case ProblemListedShort:
		return "index entry that expires before its session"
	case ProblemEntryGone:
		return "index entry whose session is gone"
	case ProblemMetaGone:
		return "index metadata of an entry that is gone"
	case ProblemIndexNoTTL:
		return "index key without a TTL"
	case ProblemMarkerNoTTL:
		return "last-seen marker without a TTL"
	case ProblemKeyNoTTL:
		return "key under the prefix without a TTL"
	case ProblemPastLifetime:
		return "session past its absolute lifetime"
	case ProblemTombstoneTTL:
		return "rename tombstone past its 5-minute TTL bound"
	case ProblemRawID:
		return "key named by a raw session id in a hashed-ids store (not fixed: the app must move it)"
	case ProblemRevocationNoTTL:
		return "revocation key without a TTL"
	}
	return string(p)
}

// DoctorOptions say what the store is expected to hold.
type DoctorOptions struct {
	// Prefix is the sessions' key prefix (required).
	Prefix string
	// Now is the time the checks are judged at. Zero means the Redis
	// server's clock (TIME), the one its TTLs and the index's scores
	// follow.
	Now time.Time
	// Absolute is the sessions' absolute lifetime; 0 means pkg/session's
	// default (24 h); negative means none (no session is past it).
	Absolute time.Duration
	// TTL is what --fix gives a key under the prefix that has none. 0
	// means one hour (weppy's and pkg/session's idle timeout).
	TTL time.Duration
	// HashedIDs says the app hashes its session ids: a key named by a raw
	// UUID id is ProblemRawID.
	HashedIDs bool
	// Samples is how many keys each Finding keeps; 0 means 5.
	Samples int
	// Rate, when positive, limits the walk to that many keys a second
	// over all masters together. Zero means as fast as Redis answers.
	Rate int
	// Progress, when set, is called after every batch of the walk with
	// the keys scanned (Scanned) and the problems found so far (Matched;
	// those found by reading the indexes after the walk are not in it).
	Progress func(Progress)
}

// Finding is one Problem with how often it was found and a few of the
// keys (for an index entry: "INDEX HANDLE").
type Finding struct {
	Problem Problem
	Count   int64
	Sample  []string
}

// DoctorReport is what Doctor found, and the repairs Fix would make.
type DoctorReport struct {
	// Keys is how many keys the walk saw.
	Keys int64
	// Findings holds one Finding per Problem, in the order of Problems.
	Findings []Finding
	repairs  []repair
}

// Problems returns how many problems were found in all.
func (r *DoctorReport) Problems() int64 {
	var n int64
	for _, f := range r.Findings {
		n += f.Count
	}
	return n
}

// Repairs returns how many repairs Fix would make.
func (r *DoctorReport) Repairs() int { return len(r.repairs) }

// repair is one change Fix makes: safe on a live store (each re-checks
// what it relies on, or only ever shortens a TTL or lengthens an entry).
type repair struct {
	problem Problem
	key     string        // the key changed
	member  string        // an index entry's handle, a metadata field
	at      time.Time     // a score or expiry
	ttl     time.Duration // a TTL to give
	session string        // the session key an entry needs (entry_gone), or the index to leave (past_lifetime)
}

// docSession is what the walk keeps of one logged-in session key: only
// logged-in sessions are kept (an index must list them), so that the walk
// of a million anonymous sessions holds next to nothing. It holds no
// pointer: a million sessions with a tenth logged in cost a map of 100,000
// packed handles and this, not a string apiece.
type docSession struct {
	ttl    time.Duration // -1: none
	x      uint32        // its user's index, in doctor.indexes
	listed bool          // its index lists it
}

// docIndex is one user's index; its key is rebuilt from user (keyOf).
type docIndex struct {
	ttl  time.Duration
	mttl time.Duration
	user packed
	meta bool // its metadata hash exists
}

// packed is a handle or a user's HashID (43 characters of base64url) in
// 33 bytes, 6 bits a character, ranked so that packed values sort as their
// strings do. It is what the walk keeps of the handles and users it sees:
// a string would cost its header, a pointer for the collector to follow
// and 48 bytes of its own (or the whole key it was cut from).
type packed [33]byte

// packedAlphabet is base64url's alphabet in byte order.
const packedAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

var packedRank = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(packedAlphabet); i++ {
		t[packedAlphabet[i]] = byte(i)
	}
	return t
}()

// pack packs s, or reports false when s is not handle-shaped.
func pack(s string) (p packed, ok bool) {
	if len(s) != hashLen {
		return p, false
	}
	var acc uint32
	bits, j := 0, 0
	for i := 0; i < len(s); i++ {
		r := packedRank[s[i]]
		if r == 0xff {
			return packed{}, false
		}
		acc, bits = acc<<6|uint32(r), bits+6
		if bits >= 8 {
			bits -= 8
			p[j] = byte(acc >> bits)
			j++
		}
	}
	p[j] = byte(acc << (8 - bits)) // 43*6 = 258: two bits left
	return p, true
}

// String is the handle or HashID p packs.
func (p packed) String() string {
	var b [hashLen]byte
	var acc uint32
	bits, j := 0, 0
	for i := range b {
		if bits < 6 {
			acc, bits = acc<<8|uint32(p[j]), bits+8
			j++
		}
		bits -= 6
		b[i] = packedAlphabet[acc>>bits&63]
	}
	return string(b[:])
}

func comparePacked(a, b packed) int { return bytes.Compare(a[:], b[:]) }

// docFound is one problem found while a batch is read, added to the report
// under the lock.
type docFound struct {
	problem Problem
	sample  string
	repair  *repair
}

// docSeen is what reading one key of a batch told (kept outside the lock).
type docSeen struct {
	handle  packed        // a logged-in session's handle
	user    packed        // its user's HashID
	ttl     time.Duration // its TTL, or the index's
	index   OwnKind       // OwnIndex or OwnIndexMeta: ttl is that key's
	session bool          // a logged-in session
}

// doctor is one run of Doctor.
type doctor struct {
	opts     DoctorOptions
	now      time.Time
	absolute time.Duration
	samples  int

	mu       sync.Mutex
	rep      *DoctorReport
	found    map[Problem]*Finding
	problems int64
	sessions map[packed]docSession // logged-in sessions by handle (the key after the prefix)
	indexes  []docIndex            // the users' indexes, in the order the walk met them
	byUser   map[packed]uint32     // indexes by user hash
}

func (d *doctor) add(p Problem, sample string, r *repair) {
	f := d.found[p]
	f.Count++
	d.problems++
	if len(f.Sample) < d.samples {
		f.Sample = append(f.Sample, sample)
	}
	if r != nil {
		r.problem = p
		d.rep.repairs = append(d.rep.repairs, *r)
	}
}

// indexOf is the position in d.indexes of user's index, added if new.
func (d *doctor) indexOf(user packed) uint32 {
	x, ok := d.byUser[user]
	if !ok {
		x = uint32(len(d.indexes))
		d.indexes = append(d.indexes, docIndex{user: user, ttl: -2, mttl: -2})
		d.byUser[user] = x
	}
	return x
}

// keyOf is the key of the index x.
func (d *doctor) keyOf(x *docIndex) string {
	return "{" + d.opts.Prefix + "u:" + x.user.String() + "}"
}

// session is the logged-in session the walk kept under handle, if any.
func (d *doctor) session(handle string) (docSession, packed, bool) {
	h, ok := pack(handle)
	if !ok {
		return docSession{}, h, false
	}
	s, ok := d.sessions[h]
	return s, h, ok
}

// docReader reads one batch of keys; each walker of a node has its own,
// reused from batch to batch.
type docReader struct {
	ttls   []*redis.DurationCmd
	values []*redis.StringCmd
	found  []docFound
	seen   []docSeen
}

// read pipelines, on nd, a PTTL for every key under the prefix or whose
// name says it is wsess's bookkeeping and a GET for every key under the
// prefix, and judges each key: what it finds goes to r.found and r.seen.
// keys[i] may be judged as the session named handles[i] when handles is
// set (the sessions the indexes name that the walk did not see).
func (d *doctor) read(ctx context.Context, nd redis.Cmdable, r *docReader, keys []string) error {
	r.found, r.seen = r.found[:0], r.seen[:0]
	r.ttls = append(r.ttls[:0], make([]*redis.DurationCmd, len(keys))...)
	r.values = append(r.values[:0], make([]*redis.StringCmd, len(keys))...)
	prefix := d.opts.Prefix
	// Two commands for a key under the prefix (PTTL, GET), one for a key
	// whose name says it is wsess's bookkeeping (PTTL), none for any
	// other key. The PTTL goes first: it is the key's first access, which
	// pays for loading it into the server's caches; the GET is then cheap.
	_, err := nd.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			if strings.HasPrefix(k, prefix) {
				r.ttls[i] = p.PTTL(ctx, k)
				r.values[i] = p.Get(ctx, k) // WRONGTYPE for a non-string
			} else if k != "" && (k[0] == '{' || k[0] == RevocationPrefix[0]) && Classify(k, "", nil).Kind != "" {
				r.ttls[i] = p.PTTL(ctx, k)
			}
		}
		return nil
	})
	if err != nil && !isReplyError(err) {
		return wrap("doctor", err)
	}
	for i, k := range keys {
		if r.ttls[i] == nil || r.ttls[i].Err() != nil || r.ttls[i].Val() == -2 {
			continue // not ours, or gone since the SCAN
		}
		ttl := r.ttls[i].Val()
		typ := "" // by name, for bookkeeping keys
		var value []byte
		if r.values[i] != nil {
			switch err := r.values[i].Err(); {
			case err == nil:
				typ, value = "string", []byte(r.values[i].Val())
			case errors.Is(err, redis.Nil):
				continue // gone since the PTTL
			default:
				typ = "other" // WRONGTYPE: a hash, a list, ... under the prefix
			}
		}
		d.judge(r, k, ttl, typ, value)
	}
	return nil
}

// judge checks one key read by the walk.
func (d *doctor) judge(r *docReader, k string, ttl time.Duration, typ string, value []byte) {
	prefix := d.opts.Prefix
	found := func(p Problem, sample string, rp *repair) {
		r.found = append(r.found, docFound{p, sample, rp})
	}
	if typ != "string" || len(value) == 0 || value[0] != '{' {
		// Only a value that starts with "{" can be a session; anything
		// else may be a tombstone, or one of wsess's keys known by name.
		own := Classify(k, typ, value)
		switch own.Kind {
		case OwnTombstone:
			if strings.HasPrefix(k, prefix) && (ttl < 0 || ttl > tombstoneTTL+time.Second) {
				found(ProblemTombstoneTTL, k, &repair{key: k, ttl: tombstoneTTL})
			}
			return
		case OwnIndex, OwnIndexMeta:
			if u, ok := pack(own.User); ok && strings.HasPrefix(k, "{"+prefix+"u:") {
				r.seen = append(r.seen, docSeen{user: u, ttl: ttl, index: own.Kind})
			}
			return
		case OwnMarker:
			if strings.HasPrefix(own.Target, prefix) && ttl < 0 {
				found(ProblemMarkerNoTTL, k, &repair{key: k, ttl: 5 * time.Minute})
			}
			return
		case OwnRevocation, OwnEndedLogin:
			if ttl < 0 {
				found(ProblemRevocationNoTTL, k, &repair{key: k, ttl: d.absolute + time.Second})
			}
			return
		}
	}
	rest, under := strings.CutPrefix(k, prefix)
	if !under {
		return // another app's key
	}
	if ttl < 0 {
		found(ProblemKeyNoTTL, k, &repair{key: k, ttl: keyTTL(d.opts.TTL)})
	}
	if d.opts.HashedIDs && uuidShaped(rest) {
		found(ProblemRawID, k, nil)
	}
	if typ != "string" || len(value) == 0 || value[0] != '{' {
		return
	}
	if !bytes.Contains(value, []byte(`"_wsess_`)) || !handleShaped(rest) {
		// Anonymous, with no lifetime recorded: nothing to check but its
		// existence, which an index entry may ask for (then it is read
		// again after the walk).
		return
	}
	var v struct {
		User    *string      `json:"_wsess_user"`
		Created *json.Number `json:"_wsess_created"`
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return // not a JSON session
	}
	var user string
	if v.User != nil && *v.User != "" {
		user = hashID(*v.User)
	}
	var created time.Time
	if v.Created != nil {
		if sec, err := v.Created.Int64(); err == nil {
			created = time.Unix(sec, 0)
		}
	}
	if d.absolute > 0 && !created.IsZero() && !d.now.Before(created.Add(d.absolute)) {
		rp := &repair{key: k}
		if user != "" {
			rp.session = "{" + prefix + "u:" + user + "}" // and off its user's index
			rp.member = rest
		}
		found(ProblemPastLifetime, k, rp)
		return
	}
	if user != "" {
		h, _ := pack(rest) // handle-shaped
		u, _ := pack(user)
		r.seen = append(r.seen, docSeen{handle: h, user: u, ttl: ttl, session: true})
	}
}

// merge adds what a reader found to the report.
func (d *doctor) merge(r *docReader) {
	for _, f := range r.found {
		d.add(f.problem, f.sample, f.repair)
	}
	for _, s := range r.seen {
		x := d.indexOf(s.user)
		switch {
		case s.session:
			d.sessions[s.handle] = docSession{ttl: s.ttl, x: x}
		case s.index == OwnIndex:
			d.indexes[x].ttl = s.ttl
		default:
			d.indexes[x].meta, d.indexes[x].mttl = true, s.ttl
		}
	}
}

// Doctor walks every key of every master (SCAN, then PTTL and, for keys
// under the prefix, GET, pipelined per batch; the next SCAN and the
// reading of other batches run meanwhile) and checks what pkg/session
// promises: see the Problems. It keeps only the logged-in sessions and the
// indexes in memory. It changes nothing; Fix repairs what is safe to
// repair. Findings of a live store can include a change made while the
// walk ran; Fix re-checks before it removes anything.
func (m *Manager) Doctor(ctx context.Context, opts DoctorOptions) (*DoctorReport, error) {
	if opts.Prefix == "" {
		return nil, fmt.Errorf("%w: doctor needs the sessions' prefix", ErrInvalidOptions)
	}
	d := &doctor{opts: opts, now: opts.Now, absolute: opts.Absolute, samples: opts.Samples,
		rep: &DoctorReport{}, found: map[Problem]*Finding{},
		sessions: map[packed]docSession{}, byUser: map[packed]uint32{}}
	if d.now.IsZero() {
		t, err := m.c.Time(ctx).Result()
		if err != nil {
			return nil, wrap("doctor", err)
		}
		d.now = t
	}
	if d.absolute == 0 {
		d.absolute = 24 * time.Hour
	}
	if d.samples <= 0 {
		d.samples = 5
	}
	for _, p := range Problems {
		d.found[p] = &Finding{Problem: p}
	}
	rep, now := d.rep, d.now

	ns, err := m.nodes(ctx)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	n := rateBatch(DefaultCount, opts.Rate)
	wo := walkOpts{count: n, batch: n, workers: pipeWorkers, pace: newPacer(opts.Rate)}
	err = eachNode(ctx, ns, func(ctx context.Context, _ int, nd node) error {
		readers := make([]docReader, pipeWorkers)
		return scanBatches(ctx, nd, "*", wo, func(bctx context.Context, w int, keys []string, _ uint64) error {
			if err := d.read(bctx, nd, &readers[w], keys); err != nil {
				return err
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			rep.Keys += int64(len(keys))
			d.merge(&readers[w])
			if opts.Progress != nil {
				opts.Progress(Progress{Summary: Summary{Scanned: rep.Keys, Matched: d.problems}, Elapsed: time.Since(started)})
			}
			return nil
		})
	})
	if err = finish("scan", ctx, err); err != nil {
		return nil, err
	}

	// Read the indexes of the prefix, a batch of users at a time, and
	// compare.
	d.byUser = nil // not needed any more
	users := make([]uint32, len(d.indexes))
	for i := range users {
		users[i] = uint32(i)
	}
	slices.SortFunc(users, func(a, b uint32) int { return comparePacked(d.indexes[a].user, d.indexes[b].user) })
	for start := 0; start < len(users); start += DefaultBatch {
		if err := m.checkIndexes(ctx, d, users[start:min(start+DefaultBatch, len(users))]); err != nil {
			return nil, err
		}
	}
	var handles []packed
	for h, s := range d.sessions {
		if !s.listed {
			handles = append(handles, h)
		}
	}
	slices.SortFunc(handles, comparePacked)
	for _, h := range handles {
		s := d.sessions[h]
		ttl := s.ttl
		if ttl < 0 {
			ttl = keyTTL(opts.TTL)
		}
		hs := h.String()
		d.add(ProblemNotListed, opts.Prefix+hs, &repair{key: d.keyOf(&d.indexes[s.x]), member: hs, at: now.Add(ttl + 5*time.Minute)})
	}
	for _, p := range Problems {
		f := *d.found[p]
		sort.Strings(f.Sample) // batches are read concurrently: a stable report
		rep.Findings = append(rep.Findings, f)
	}
	return rep, nil
}

// checkIndexes reads the indexes of users (and their metadata) and
// checks each entry against the sessions the walk kept, reading again
// those it did not keep; it marks the sessions an index lists.
func (m *Manager) checkIndexes(ctx context.Context, d *doctor, users []uint32) error {
	now, prefix := d.now, d.opts.Prefix
	zs := make([]*redis.ZSliceCmd, len(users))
	hs := make([]*redis.StringSliceCmd, len(users))
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = d.keyOf(&d.indexes[u])
	}
	_, err := m.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			zs[i] = p.ZRangeWithScores(ctx, keys[i], 0, -1)
			if d.indexes[u].meta {
				hs[i] = p.HKeys(ctx, keys[i]+":m")
			}
		}
		return nil
	})
	if err != nil && !isReplyError(err) {
		return wrap("doctor", err)
	}
	// The sessions the indexes name that the walk kept not (anonymous
	// ones, gone ones, those that came after): read them now, the way the
	// walk reads a key, to tell which are sessions and their TTLs.
	other := map[string]time.Duration{} // handle -> TTL, of those that are sessions
	var unknown []string
	byKey := make([]map[string]bool, len(users))
	for i := range users {
		byKey[i] = make(map[string]bool, len(zs[i].Val()))
		for _, z := range zs[i].Val() {
			handle, _ := z.Member.(string)
			byKey[i][handle] = true
			if _, _, ok := d.session(handle); !ok {
				unknown = append(unknown, handle)
			}
		}
		if hs[i] == nil {
			continue
		}
		for _, field := range hs[i].Val() {
			handle, _ := strings.CutSuffix(field, ":t")
			if _, _, ok := d.session(handle); !ok && !byKey[i][handle] {
				unknown = append(unknown, handle)
			}
		}
	}
	if err := m.sessionsAfter(ctx, d, unknown, other); err != nil {
		return err
	}
	isSession := func(handle string) (time.Duration, bool) {
		if s, _, ok := d.session(handle); ok {
			return s.ttl, true
		}
		ttl, ok := other[handle]
		return ttl, ok
	}
	for i, u := range users {
		x, key := &d.indexes[u], keys[i]
		maxScore := 0.0
		for _, z := range zs[i].Val() {
			handle, _ := z.Member.(string)
			maxScore = max(maxScore, z.Score)
			if s, h, ok := d.session(handle); ok && s.x == u {
				s.listed = true
				d.sessions[h] = s
			}
			ttl, ok := isSession(handle)
			switch {
			case !ok:
				d.add(ProblemEntryGone, key+" "+handle, &repair{key: key, member: handle, session: prefix + handle})
			case ttl > 0 && time.UnixMilli(int64(z.Score)).Before(now.Add(ttl-2*time.Second)):
				at := now.Add(ttl + 5*time.Minute)
				d.add(ProblemListedShort, key+" "+handle, &repair{key: key, member: handle, at: at})
			}
		}
		if hs[i] != nil {
			for _, field := range hs[i].Val() {
				handle, _ := strings.CutSuffix(field, ":t")
				// Metadata of an unlisted session that lives stays:
				// re-listing it (not_listed) keeps what it says.
				if _, ok := isSession(handle); !ok && !byKey[i][handle] {
					d.add(ProblemMetaGone, key+":m "+field, &repair{key: key + ":m", member: field})
				}
			}
		}
		until := time.UnixMilli(int64(maxScore))
		if maxScore == 0 {
			until = now.Add(time.Minute) // empty: let it go soon
		}
		if x.ttl == -1 {
			d.add(ProblemIndexNoTTL, key, &repair{key: key, at: until})
		}
		if x.meta && x.mttl == -1 {
			d.add(ProblemIndexNoTTL, key+":m", &repair{key: key + ":m", at: until})
		}
	}
	return nil
}

// sessionsAfter reads, after the walk, the keys of the sessions an index
// names that the walk did not keep, the way the walk reads them, and puts
// the TTL of each that is a live session into ttls. Problems found in
// them are not counted again.
func (m *Manager) sessionsAfter(ctx context.Context, d *doctor, handles []string, ttls map[string]time.Duration) error {
	sort.Strings(handles)
	var r docReader
	for start := 0; start < len(handles); start += DefaultBatch {
		part := handles[start:min(start+DefaultBatch, len(handles))]
		keys := make([]string, len(part))
		for i, h := range part {
			keys[i] = d.opts.Prefix + h
		}
		if err := d.read(ctx, m.c, &r, keys); err != nil {
			return err
		}
		// A session is a key read as a string under the prefix, named
		// like a session, with a value that starts with "{" and that is
		// not past its lifetime.
		past := map[string]bool{}
		for _, f := range r.found {
			if f.problem == ProblemPastLifetime {
				past[f.sample] = true
			}
		}
		for i, k := range keys {
			v := r.values[i]
			if v == nil || v.Err() != nil || r.ttls[i].Err() != nil || r.ttls[i].Val() == -2 || past[k] {
				continue
			}
			if val := v.Val(); len(val) > 0 && val[0] == '{' && handleShaped(part[i]) {
				ttls[part[i]] = r.ttls[i].Val()
			}
		}
	}
	return nil
}

// keyTTL is DoctorOptions.TTL with its default.
func keyTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Hour
	}
	return d
}

// isReplyError reports whether err is a reply of Redis about one command
// (WRONGTYPE for a GET of a hash, say), which the caller reads per command.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.Nil) || errors.Is(err, redis.Nil)
}

// FixResult counts what Fix repaired, by problem.
type FixResult map[Problem]int64

// Fix makes the report's repairs, each safe on a live store: a TTL is
// given only to a key that has none (EXPIRE NX) or shortened (a
// tombstone's); an entry is added only when missing or raised (ZADD GT),
// and its index kept alive at least as long; an entry is removed only when
// its session key is still gone; a session past its lifetime is unlinked
// and taken off its index. progress, when set, is called after each batch
// with the repairs done so far. A cancelled ctx stops after the batch in
// flight, with what was done.
func (m *Manager) Fix(ctx context.Context, r *DoctorReport, progress func(done int)) (FixResult, error) {
	done := FixResult{}
	const batch = 500
	for start := 0; start < len(r.repairs); start += batch {
		if err := ctx.Err(); err != nil {
			return done, interrupted("fix", ctx)
		}
		part := r.repairs[start:min(start+batch, len(r.repairs))]
		// Entries to remove: only those whose session is still gone.
		gone := make([]*redis.IntCmd, len(part))
		if _, err := m.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, rp := range part {
				if rp.problem == ProblemEntryGone {
					gone[i] = p.Exists(ctx, rp.session)
				}
			}
			return nil
		}); err != nil && !isReplyError(err) {
			return done, wrap("fix", err)
		}
		counted := make([]bool, len(part))
		if _, err := m.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, rp := range part {
				counted[i] = true
				switch rp.problem {
				case ProblemNotListed, ProblemListedShort:
					// The entry added or raised, never lowered; the index
					// lives at least as long as it (NX: a new index; GT: a
					// shorter one).
					p.ZAddGT(ctx, rp.key, redis.Z{Score: float64(rp.at.UnixMilli()), Member: rp.member})
					p.Do(ctx, "PEXPIREAT", rp.key, rp.at.UnixMilli(), "NX")
					p.Do(ctx, "PEXPIREAT", rp.key, rp.at.UnixMilli(), "GT")
				case ProblemEntryGone:
					if gone[i].Val() != 0 {
						counted[i] = false // the session is back: leave its entry
						continue
					}
					p.ZRem(ctx, rp.key, rp.member)
					p.HDel(ctx, rp.key+":m", rp.member, rp.member+":t")
				case ProblemMetaGone:
					p.HDel(ctx, rp.key, rp.member)
				case ProblemIndexNoTTL:
					p.Do(ctx, "PEXPIREAT", rp.key, rp.at.UnixMilli(), "NX")
				case ProblemMarkerNoTTL, ProblemKeyNoTTL, ProblemRevocationNoTTL:
					p.Do(ctx, "PEXPIRE", rp.key, rp.ttl.Milliseconds(), "NX")
				case ProblemTombstoneTTL:
					p.Do(ctx, "PEXPIRE", rp.key, rp.ttl.Milliseconds(), "NX")
					p.Do(ctx, "PEXPIRE", rp.key, rp.ttl.Milliseconds(), "LT")
				case ProblemPastLifetime:
					p.Unlink(ctx, rp.key)
					if rp.session != "" {
						p.ZRem(ctx, rp.session, rp.member)
						p.HDel(ctx, rp.session+":m", rp.member, rp.member+":t")
					}
				}
			}
			return nil
		}); err != nil && !isReplyError(err) {
			return done, wrap("fix", err)
		}
		for i, rp := range part {
			if counted[i] {
				done[rp.problem]++
			}
		}
		if progress != nil {
			progress(start + len(part))
		}
	}
	return done, nil
}

// hashID is pkg/session's HashID (base64url of SHA-256, no padding), for
// user ids read from session values.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// String renders a FixResult as "2 not_listed, 1 key_no_ttl" in report
// order.
func (f FixResult) String() string {
	var parts []string
	for _, p := range Problems {
		if n := f[p]; n > 0 {
			parts = append(parts, strconv.FormatInt(n, 10)+" "+string(p))
		}
	}
	return strings.Join(parts, ", ")
}
