package manager

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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

// docSession is what the walk learned of one session key.
type docSession struct {
	key     string
	ttl     time.Duration // -1: none
	user    string        // HashID of the user, "" when anonymous
	created time.Time
}

// docIndex is one user's index.
type docIndex struct {
	key   string
	ttl   time.Duration
	meta  bool // its metadata hash exists
	mttl  time.Duration
	user  string
	byKey map[string]float64 // handle -> score (ms), read after the walk
}

// Doctor walks every key of every master (SCAN, then TYPE, PTTL and, for
// string keys under the prefix, GET, pipelined per batch) and checks what
// pkg/session promises: see the Problems. It changes nothing; Fix repairs
// what is safe to repair. Findings of a live store can include a change
// made while the walk ran; Fix re-checks before it removes anything.
func (m *Manager) Doctor(ctx context.Context, opts DoctorOptions) (*DoctorReport, error) {
	if opts.Prefix == "" {
		return nil, fmt.Errorf("%w: doctor needs the sessions' prefix", ErrInvalidOptions)
	}
	now := opts.Now
	if now.IsZero() {
		t, err := m.c.Time(ctx).Result()
		if err != nil {
			return nil, wrap("doctor", err)
		}
		now = t
	}
	absolute := opts.Absolute
	if absolute == 0 {
		absolute = 24 * time.Hour
	}
	samples := opts.Samples
	if samples <= 0 {
		samples = 5
	}
	rep := &DoctorReport{}
	found := map[Problem]*Finding{}
	for _, p := range Problems {
		found[p] = &Finding{Problem: p}
	}
	add := func(p Problem, sample string, r *repair) {
		f := found[p]
		f.Count++
		if len(f.Sample) < samples {
			f.Sample = append(f.Sample, sample)
		}
		if r != nil {
			r.problem = p
			rep.repairs = append(rep.repairs, *r)
		}
	}
	sessions := map[string]*docSession{} // by handle (the key after the prefix)
	indexes := map[string]*docIndex{}    // by user hash
	indexOf := func(user string) *docIndex {
		x := indexes[user]
		if x == nil {
			x = &docIndex{key: "{" + opts.Prefix + "u:" + user + "}", user: user, ttl: -2, mttl: -2}
			indexes[user] = x
		}
		return x
	}

	started := time.Now()
	err := m.Scan(ctx, ScanOptions{Rate: opts.Rate}, func(keys []string) error {
		defer func() {
			if opts.Progress != nil {
				var problems int64
				for _, f := range found {
					problems += f.Count
				}
				opts.Progress(Progress{Summary: Summary{Scanned: rep.Keys, Matched: problems}, Elapsed: time.Since(started)})
			}
		}()
		rep.Keys += int64(len(keys))
		// Two commands for a key under the prefix (PTTL, GET), one for a
		// key whose name says it is wsess's bookkeeping (PTTL), none for
		// any other key: the walk costs little more than the SCAN.
		ttls := make([]*redis.DurationCmd, len(keys))
		values := make([]*redis.StringCmd, len(keys))
		_, err := m.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				if strings.HasPrefix(k, opts.Prefix) {
					ttls[i] = p.PTTL(ctx, k)
					values[i] = p.Get(ctx, k) // WRONGTYPE for a non-string
				} else if Classify(k, "", nil).Kind != "" {
					ttls[i] = p.PTTL(ctx, k)
				}
			}
			return nil
		})
		if err != nil && !isReplyError(err) {
			return wrap("doctor", err)
		}
		for i, k := range keys {
			if ttls[i] == nil || ttls[i].Err() != nil || ttls[i].Val() == -2 {
				continue // not ours, or gone since the SCAN
			}
			ttl := ttls[i].Val()
			typ := "" // by name, for bookkeeping keys
			var value []byte
			if values[i] != nil {
				switch err := values[i].Err(); {
				case err == nil:
					typ, value = "string", []byte(values[i].Val())
				case errors.Is(err, redis.Nil):
					continue // gone since the PTTL
				default:
					typ = "other" // WRONGTYPE: a hash, a list, ... under the prefix
				}
			}
			own := Classify(k, typ, value)
			switch own.Kind {
			case OwnTombstone:
				if strings.HasPrefix(k, opts.Prefix) && (ttl < 0 || ttl > tombstoneTTL+time.Second) {
					add(ProblemTombstoneTTL, k, &repair{key: k, ttl: tombstoneTTL})
				}
				continue
			case OwnIndex, OwnIndexMeta:
				if !strings.HasPrefix(k, "{"+opts.Prefix+"u:") {
					continue // another prefix's
				}
				x := indexOf(own.User)
				if own.Kind == OwnIndex {
					x.ttl = ttl
				} else {
					x.meta, x.mttl = true, ttl
				}
				continue
			case OwnMarker:
				if strings.HasPrefix(own.Target, opts.Prefix) && ttl < 0 {
					add(ProblemMarkerNoTTL, k, &repair{key: k, ttl: 5 * time.Minute})
				}
				continue
			case OwnRevocation, OwnEndedLogin:
				if ttl < 0 {
					add(ProblemRevocationNoTTL, k, &repair{key: k, ttl: absolute + time.Second})
				}
				continue
			}
			rest, under := strings.CutPrefix(k, opts.Prefix)
			if !under {
				continue // another app's key
			}
			if ttl < 0 {
				add(ProblemKeyNoTTL, k, &repair{key: k, ttl: keyTTL(opts.TTL)})
			}
			if opts.HashedIDs && uuidShaped(rest) {
				add(ProblemRawID, k, nil)
			}
			if typ != "string" || !handleShaped(rest) || len(value) == 0 || value[0] != '{' {
				continue
			}
			s := &docSession{key: k, ttl: ttl}
			if !bytes.Contains(value, []byte(`"_wsess_`)) {
				// Anonymous, with no lifetime recorded: nothing to check
				// but its existence, which an index entry may ask for.
				sessions[rest] = s
				continue
			}
			var v struct {
				User    *string      `json:"_wsess_user"`
				Created *json.Number `json:"_wsess_created"`
			}
			d := json.NewDecoder(bytes.NewReader(value))
			d.UseNumber()
			if d.Decode(&v) != nil {
				continue // not a JSON session
			}
			if v.User != nil && *v.User != "" {
				s.user = hashID(*v.User)
			}
			if v.Created != nil {
				if sec, err := v.Created.Int64(); err == nil {
					s.created = time.Unix(sec, 0)
				}
			}
			if absolute > 0 && !s.created.IsZero() && !now.Before(s.created.Add(absolute)) {
				r := &repair{key: k}
				if s.user != "" {
					r.session = indexOf(s.user).key // and off its user's index
					r.member = rest
				}
				add(ProblemPastLifetime, k, r)
				continue
			}
			sessions[rest] = s
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Read every index of the prefix, and compare.
	users := make([]string, 0, len(indexes))
	for u := range indexes {
		users = append(users, u)
	}
	sort.Strings(users)
	zs := make([]*redis.ZSliceCmd, len(users))
	hs := make([]*redis.StringSliceCmd, len(users))
	if len(users) > 0 {
		_, err = m.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range users {
				x := indexes[u]
				zs[i] = p.ZRangeWithScores(ctx, x.key, 0, -1)
				hs[i] = p.HKeys(ctx, x.key+":m")
			}
			return nil
		})
		if err != nil && !isReplyError(err) {
			return nil, wrap("doctor", err)
		}
	}
	for i, u := range users {
		x := indexes[u]
		x.byKey = map[string]float64{}
		maxScore := 0.0
		for _, z := range zs[i].Val() {
			handle, _ := z.Member.(string)
			x.byKey[handle] = z.Score
			maxScore = max(maxScore, z.Score)
			s := sessions[handle]
			switch {
			case s == nil:
				add(ProblemEntryGone, x.key+" "+handle, &repair{key: x.key, member: handle, session: opts.Prefix + handle})
			case s.ttl > 0 && time.UnixMilli(int64(z.Score)).Before(now.Add(s.ttl-2*time.Second)):
				at := now.Add(s.ttl + 5*time.Minute)
				add(ProblemListedShort, x.key+" "+handle, &repair{key: x.key, member: handle, at: at})
			}
		}
		for _, field := range hs[i].Val() {
			handle, _ := strings.CutSuffix(field, ":t")
			// Metadata of an unlisted session that lives stays: re-listing
			// it (not_listed) keeps what it says.
			if _, listed := x.byKey[handle]; !listed && sessions[handle] == nil {
				add(ProblemMetaGone, x.key+":m "+field, &repair{key: x.key + ":m", member: field})
			}
		}
		until := time.UnixMilli(int64(maxScore))
		if maxScore == 0 {
			until = now.Add(time.Minute) // empty: let it go soon
		}
		if x.ttl == -1 {
			add(ProblemIndexNoTTL, x.key, &repair{key: x.key, at: until})
		}
		if x.meta && x.mttl == -1 {
			add(ProblemIndexNoTTL, x.key+":m", &repair{key: x.key + ":m", at: until})
		}
	}
	handles := make([]string, 0, len(sessions))
	for h := range sessions {
		handles = append(handles, h)
	}
	sort.Strings(handles)
	for _, h := range handles {
		s := sessions[h]
		if s.user == "" {
			continue
		}
		x := indexes[s.user]
		if x != nil {
			if _, listed := x.byKey[h]; listed {
				continue
			}
		}
		key := "{" + opts.Prefix + "u:" + s.user + "}"
		ttl := s.ttl
		if ttl < 0 {
			ttl = keyTTL(opts.TTL)
		}
		add(ProblemNotListed, s.key, &repair{key: key, member: h, at: now.Add(ttl + 5*time.Minute)})
	}
	for _, p := range Problems {
		rep.Findings = append(rep.Findings, *found[p])
	}
	return rep, nil
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
