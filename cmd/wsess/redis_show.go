package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

type redisShowOptions struct {
	IO      *IOStreams
	Now     func() time.Time
	Manager func() (*manager.Manager, error)

	Arg    string // a session id or a whole key
	Prefix string
	Format string // auto, json, pickle
	Output string // table, json, tsv (addOutputFlag)
	// RawIDs says the app stores sessions under prefix + the id itself
	// (weppy, Emmett, RedisOptions.HashIDs false), not prefix + its hash.
	RawIDs bool
}

func newCmdRedisShow(f *factory, runF func(*redisShowOptions) error) *cobra.Command {
	opts := &redisShowOptions{IO: f.IOStreams, Now: f.Now, Manager: managerFunc(f)}
	cmd := &cobra.Command{
		Use:   "show {ID|KEY|-}",
		Short: "Show one stored session, decoded",
		Long: `Show one session stored in Redis: its key, TTL, format, size and data.

The argument is a session id (the cookie's value) or a whole key.

A session id is looked up the way the app stores it. By default that is
pkg/session's: prefix + base64url(SHA-256(id)) (the session's handle), so
that no key name, MONITOR line or slow log entry holds a usable cookie;
the id itself is never sent to Redis. With --raw-ids (weppy, Emmett, and
pkg/session with RedisOptions.HashIDs false, which store prefix + id) the
id is looked up as it is. A cookie value is a credential: give - to read
it from stdin instead of the command line.

A whole key is one that starts with --prefix, or any other key that
exists (so a key copied from redis ls --prefix emtsess: shows without
--prefix). A handle (from wsess redis sessions) is given as its key:
the prefix, then the handle.

A key pkg/session keeps for itself is shown for what it is: a tombstone
(RenewID and Login leave one under a session's old key for up to 5
minutes) names the key the session was renamed to; a user's index (and its
metadata) says how many live sessions it lists; a last-seen marker names
its session; a revocation says from when the user's older cookies are
refused.

When nothing is found, the error names the prefixes that do hold keys, if
there are few. The value is decoded as JSON (pkg/session) or pickle
(weppy, Emmett); --format forces one. Reading it does not change its TTL.

On a terminal the session is shown as labelled lines and a table of its
data (-o table, which a pipe gets only when asked for); elsewhere as
"field<TAB>value" lines (-o tsv); -o json prints one JSON object, in which
ttl_seconds and expires are left out for a key that never expires. The
library's own values are shown as fields, not data: created, auth_time,
user, generation, idle_timeout_seconds and, for a JSON value,
absolute_deadline (created + the default 24 h; absolute_deadline_assumed).
Bytes (pickle) show as <N bytes: hex>, in JSON as {"$bytes": "<base64>"}. A
session id that starts with "-" is taken as the id, not as flags.`,
		Example: `  pbpaste | wsess redis show -
  wsess redis show wppsess:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg
  wsess redis show --raw-ids --prefix emtsess: 7c9e6679-7425-40de-944b-e07fc1f90ae7
  wsess redis show emtsess:7c9e6679-7425-40de-944b-e07fc1f90ae7 -o json`,
		Args:        usageArgs(cobra.ExactArgs(1)),
		Annotations: map[string]string{dashArgAnnotation: dashArgSessionID},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Arg = args[0]
			if opts.Arg == "-" {
				b, err := io.ReadAll(io.LimitReader(opts.IO.In, 64<<10))
				if err != nil {
					return fmt.Errorf("cannot read the session id from stdin: %w", err)
				}
				opts.Arg = strings.TrimSpace(string(b))
			}
			if opts.Arg == "" {
				return newUsageError("give a session id or a key", "the session id is empty")
			}
			if runF != nil {
				return runF(opts)
			}
			return redisShowRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	fl.BoolVar(&opts.RawIDs, "raw-ids", false, "the app stores prefix + the id itself, not its hash (weppy, Emmett)")
	stringEnumFlag(cmd, &opts.Format, "format", "", "auto", valueFormats, "stored value format")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	return cmd
}

// showKey is the key for a session id or a key.
func showKey(arg, prefix string) string {
	if prefix != "" && strings.HasPrefix(arg, prefix) {
		return arg
	}
	return prefix + arg
}

// showCandidates are the keys redis show tries for its argument, in
// order. A key under --prefix is itself. A session id (session.ValidID) is
// the key the app stores it under: prefix + session.HashID(id) by default,
// prefix + id with rawIDs; the id itself is then in no candidate, so it
// never reaches Redis (MONITOR, the slow log) for an app that hashes ids.
// Anything else is looked up under --prefix, then as a whole key under any
// other prefix.
func showCandidates(arg, prefix string, rawIDs bool) []string {
	if prefix != "" && strings.HasPrefix(arg, prefix) {
		return []string{arg}
	}
	if session.ValidID(arg) && !rawIDs {
		return []string{prefix + session.HashID(arg)}
	}
	if prefix == "" {
		return []string{arg}
	}
	return []string{prefix + arg, arg}
}

func redisShowRun(cmd *cobra.Command, opts *redisShowOptions) error {
	m, err := opts.Manager()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var (
		key string
		val []byte
		inf manager.Info
	)
	err = manager.ErrNotFound
	for _, k := range showCandidates(opts.Arg, opts.Prefix, opts.RawIDs) {
		key = k
		if val, inf, err = m.Get(ctx, k); !errors.Is(err, manager.ErrNotFound) {
			break
		}
	}
	if errors.Is(err, manager.ErrNotFound) {
		return notFoundError(ctx, m, opts.Prefix, session.ValidID(opts.Arg) && !opts.RawIDs)
	}
	if err != nil && rediserr.IsWrongType(err) {
		// Not a string: one of wsess's index keys (a sorted set or a hash)?
		if infs, derr := m.Describe(ctx, []string{key}); derr == nil && len(infs) == 1 {
			if own := manager.Classify(key, infs[0].Type, nil); own.Kind != "" {
				return showOwn(ctx, opts, m, infs[0], own, nil)
			}
		}
	}
	if err != nil {
		if redis := redisError(err); redis != err {
			return redis
		}
		return withHint(fmt.Errorf("cannot read the session: %w", err), "the key may not hold a string value")
	}
	noteIdleTimes(ctx, opts.IO, m, true, false)
	if own := manager.Classify(key, "string", val); own.Kind != "" {
		return showOwn(ctx, opts, m, inf, own, val)
	}
	s, err := inspect.DecodeValue(val, opts.Format)
	if err != nil {
		hint := "the app may use a codec wsess does not know"
		if opts.Format == "auto" {
			hint = "try --format json or --format pickle; " + hint
		}
		return withHint(errors.New("the stored value cannot be decoded as a session"), hint)
	}
	now := opts.Now()
	s.Expires = expiryTime(now, inf.TTL)
	if opts.Output == outJSON {
		extra := map[string]any{"key": key}
		if ttl := jsonTTL(inf.TTL); ttl != nil {
			extra["ttl_seconds"] = *ttl
		}
		return writeSessionJSON(opts.IO.Out, s, extra)
	}
	b := outBuffer(opts.IO)
	st := opts.IO.Styles()
	err = renderSession(b, s, st, isTable(opts.IO, opts.Output), now, func(l labelLines) {
		l.line("key", textesc.Escape(key), textesc.Escape(key))
		ttl := humanTTL(inf.TTL)
		if inf.TTL < 0 {
			ttl = st.Faint.Render("none (never expires)")
		}
		l.line("ttl", ttl, strconv.FormatInt(ttlSeconds(inf.TTL), 10))
	})
	if err != nil {
		return err
	}
	return b.Flush()
}

// Bounds of the prefixes a not-found error names: the keys looked at (a
// bounded SCAN) and the prefixes named (more is no hint).
const (
	hintScanKeys = 10_000
	hintPrefixes = 5
)

// notFoundError says that no session has the id under prefix and, when
// the database holds keys under few other prefixes, names them. hashed
// says the argument was a session id looked up hashed: the error then says
// how to give a handle or an id an app stores as it is.
func notFoundError(ctx context.Context, m *manager.Manager, prefix string, hashed bool) error {
	err := fmt.Errorf("no session with that id under prefix %q", prefix)
	hint := "check the id and --prefix (wsess redis ls lists the keys)"
	if hashed {
		err = fmt.Errorf("no session with that id under prefix %q (looked up hashed, as pkg/session stores it)", prefix)
		hint = "give a handle with its prefix (" + shellQuote(prefix+"HANDLE") + "), add --raw-ids for an app that stores ids as they are (weppy, Emmett), or check --prefix"
	}
	groups, _, perr := m.Prefixes(ctx, hintScanKeys)
	var names, quoted []string
	for _, g := range groups {
		if g.Name != prefix && g.Name != manager.NoPrefix && g.Name != manager.OtherPrefixes {
			names = append(names, g.Name)
			quoted = append(quoted, strconv.Quote(g.Name))
		}
	}
	if perr == nil && len(names) > 0 && len(names) <= hintPrefixes {
		other := "keys exist under " + strings.Join(quoted, ", ") + ": try --prefix " + shellQuote(names[0])
		if hashed {
			hint += "; " + other
		} else {
			hint = other
		}
	}
	return withHint(err, hint)
}

// shellQuote quotes s for a POSIX shell when it holds anything but letters,
// digits and a few safe punctuation characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":._-/@", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ownKindText names each kind of wsess's own keys for people.
var ownKindText = map[manager.OwnKind]string{
	manager.OwnTombstone:  "tombstone",
	manager.OwnIndex:      "index of a user's sessions",
	manager.OwnIndexMeta:  "metadata of a user's index",
	manager.OwnMarker:     "last-seen marker",
	manager.OwnRevocation: "revocation of a user's cookie sessions",
	manager.OwnEndedLogin: "ended login of a cookie session (its logout)",
}

// ownJSON is one of wsess's own keys in -o json (members in key order, as
// they always were).
type ownJSON struct {
	Bookkeeping string `json:"bookkeeping"`
	Key         string `json:"key"`
	// RevokedAt is when a revocation starts (RFC 3339).
	RevokedAt string `json:"revoked_at,omitempty"`
	// Sessions is the number of live sessions an index (or its metadata)
	// lists; nil, left out, for other keys.
	Sessions *int64 `json:"sessions,omitempty"`
	Target   string `json:"target,omitempty"`
	TTL      *int64 `json:"ttl_seconds,omitempty"`
	User     string `json:"user,omitempty"`
}

// showOwn shows one of wsess's own keys (own, described by inf, with value
// for a string) for what it is, rather than as a session that cannot be
// decoded: its kind, and what it is about (the key a tombstone names, the
// live sessions an index lists, the session a marker is for, the time a
// revocation starts from).
func showOwn(ctx context.Context, opts *redisShowOptions, m *manager.Manager, inf manager.Info, own manager.Own, value []byte) error {
	now := opts.Now()
	var (
		sessions  int64 = -1
		revokedAt time.Time
	)
	switch own.Kind {
	case manager.OwnIndex, manager.OwnIndexMeta:
		n, err := m.IndexSessions(ctx, inf.Key, now)
		if err != nil {
			return redisError(err)
		}
		sessions = n
	case manager.OwnRevocation:
		if ms, err := strconv.ParseInt(string(value), 10, 64); err == nil {
			revokedAt = time.UnixMilli(ms).UTC()
		}
	}
	if opts.Output == outJSON {
		doc := ownJSON{
			Key: inf.Key, TTL: jsonTTL(inf.TTL), Bookkeeping: string(own.Kind), Target: own.Target, User: own.User,
			RevokedAt: jsonTime(revokedAt),
		}
		if sessions >= 0 {
			doc.Sessions = &sessions
		}
		return writeJSON(opts.IO.Out, doc)
	}
	st := opts.IO.Styles()
	var b strings.Builder
	l := labelLines{b: &b, st: st, table: isTable(opts.IO, opts.Output)}
	l.line("key", textesc.Escape(inf.Key), textesc.Escape(inf.Key))
	ttl := humanTTL(inf.TTL)
	if inf.TTL < 0 {
		ttl = st.Faint.Render("none (never expires)")
	}
	l.line("ttl", ttl, strconv.FormatInt(ttlSeconds(inf.TTL), 10))
	l.line("kind", ownKindText[own.Kind]+st.Faint.Render(" (wsess bookkeeping, not a session)"), string(own.Kind))
	switch own.Kind {
	case manager.OwnTombstone:
		t := textesc.Escape(own.Target)
		l.line("renamed", "to "+t+st.Faint.Render(" (by RenewID or Login)"), t)
	case manager.OwnIndexMeta:
		l.line("index", textesc.Escape(own.Target), textesc.Escape(own.Target))
	case manager.OwnMarker:
		l.line("session", textesc.Escape(own.Target), textesc.Escape(own.Target))
	}
	if sessions >= 0 {
		l.line("sessions", plural(sessions, "live session")+st.Faint.Render(" (wsess redis sessions --user ID lists them)"), strconv.FormatInt(sessions, 10))
	}
	if !revokedAt.IsZero() {
		at := revokedAt.Format(time.RFC3339)
		l.line("revoked", at+" "+st.Faint.Render("(cookies authenticated before are refused)"), at)
	}
	if own.User != "" {
		l.line("user", own.User+st.Faint.Render(" (HashID of the user id)"), own.User)
	}
	w := outBuffer(opts.IO)
	w.WriteString(b.String())
	return w.Flush()
}
