package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/textesc"
	"github.com/wsess/wsess/pkg/session"
)

type redisPutOptions struct {
	IO     *IOStreams
	Client func() (redis.UniversalClient, error)

	JSON       string // the JSON object, or "-" for stdin
	Prefix     string
	TTL        time.Duration
	Format     string // json or pickle
	Target     string // pickle: the release that reads it
	ID         string // "": a fresh one
	Hashed     bool   // key is prefix + session.HashID(id), else prefix + id
	CookieName string // printed with the cookie value when given
	Force      bool
	Output     string // table, json, tsv
}

// putFormats are the stored value formats redis put writes.
var putFormats = []string{"json", "pickle"}

// maxPutValue bounds the JSON read from stdin or given as the argument.
const maxPutValue = 16 << 20

// errKeyExists is the failure of a put onto a key that exists, without
// --force.
var errKeyExists = errors.New("the key already exists")

func newCmdRedisPut(f *factory, runF func(*redisPutOptions) error) *cobra.Command {
	opts := &redisPutOptions{IO: f.IOStreams, Client: f.RedisClient}
	var rawIDs, hashedIDs bool
	cmd := &cobra.Command{
		Use:   "put {JSON|-}",
		Short: "Store a session given as JSON, for an app to load",
		Long: `Store the values of a JSON object as one session under --prefix, with a
TTL (--ttl, default 1h), and print its key and the cookie value that loads
it: for tests, fixtures and support work. "-" reads the JSON from stdin.

--format json (the default) stores what pkg/session's JSONCodec writes.
--format pickle stores a pickle for a weppy or Emmett app: --target names
the release that reads it (any, the default, writes a plain dict every
release loads; weppy-1.3, emmett-2.4, emmett-2.5, emmett-2.6+ and
emmett-core write that release's own sdict class).

The key is prefix + HashID(id) for --format json (pkg/session hashes ids
at rest by default) and prefix + id for --format pickle (weppy and Emmett
store the id as it is); --raw-ids and --hashed-ids choose the other way.
The id is a fresh random one (256 bits in base64url, as pkg/session makes;
a UUID4 when the key holds the id for weppy or Emmett, as they make) unless
--id gives one: 43 characters of base64url or a lowercase UUID4, the only
shapes pkg/session looks up.

An existing key is never overwritten without --force (SET NX): wsess then
exits with status 1 and changes nothing. The cookie value is a credential:
it is printed on stdout only. --cookie-name NAME prints the cookie's name
with it (pkg/session's Redis store reads wsess_session_id, weppy
wpp_session_data_APP, Emmett emt_session_data_APP).
The library's own keys ("_wsess_user", "_wsess_auth", "_wsess_created",
...) are stored as given, like any other: a session put with a user is
logged in for pkg/session, but it is not listed in that user's index, so
wsess redis sessions and revoke --user do not see it (revoke it by key).`,
		Example: `  wsess redis put '{"counter": 41}'
  curl -b "wsess_session_id=$(wsess redis put -o json '{"counter": 41}' | jq -r .cookie)" http://127.0.0.1:8080/counter
  wsess redis put --format pickle --target weppy-1.3 --cookie-name wpp_session_data_myapp - < session.json
  wsess redis put --prefix emtsess: --format pickle --target emmett-2.6+ --ttl 24h '{"user_id": 7}'
  wsess redis put --id 7c9e6679-7425-40de-944b-e07fc1f90ae7 --format pickle --force '{"counter": 1}'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = args[0]
			fl := cmd.Flags()
			if opts.TTL < time.Second {
				return newUsageError("give a TTL of 1s or more, e.g. --ttl 1h", "--ttl %s is shorter than a second", opts.TTL)
			}
			if opts.Format != "pickle" && fl.Changed("target") {
				return newUsageError("use --target with --format pickle", "--target applies only to pickled sessions")
			}
			if opts.ID != "" && !session.ValidID(opts.ID) {
				return newUsageError("give 43 characters of base64url or a lowercase UUID4, or leave --id out for a fresh one",
					"--id is not a session id pkg/session would look up")
			}
			if strings.ContainsAny(opts.CookieName, "=; \t\r\n") || fl.Changed("cookie-name") && opts.CookieName == "" {
				return newUsageError("give a cookie name without '=', ';' or blanks", "--cookie-name %q is not a cookie name", opts.CookieName)
			}
			// JSON: pkg/session's default, ids hashed at rest; pickle:
			// weppy and Emmett, which store the id as it is.
			opts.Hashed = opts.Format == "json"
			switch {
			case rawIDs:
				opts.Hashed = false
			case hashedIDs:
				opts.Hashed = true
			}
			if runF != nil {
				return runF(opts)
			}
			return redisPutRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", session.DefaultPrefix, "key `prefix` of the sessions")
	fl.DurationVar(&opts.TTL, "ttl", time.Hour, "time to live of the key, 1s or more")
	stringEnumFlag(cmd, &opts.Format, "format", "", "json", putFormats, "stored value format")
	stringEnumFlag(cmd, &opts.Target, "target", "", string(session.TargetAny), encodeTargets(), "release that reads a pickled session")
	fl.StringVar(&opts.ID, "id", "", "session `ID` to store it under (default: a fresh one)")
	fl.BoolVar(&rawIDs, "raw-ids", false, "key is prefix + the id (default for --format pickle: weppy, Emmett)")
	fl.BoolVar(&hashedIDs, "hashed-ids", false, "key is prefix + HashID(id) (default for --format json: pkg/session)")
	fl.StringVar(&opts.CookieName, "cookie-name", "", "print the cookie `name` the app reads with the value")
	fl.BoolVar(&opts.Force, "force", false, "overwrite the key if it exists")
	addOutputFlag(cmd, f.IOStreams, &opts.Output, outTable, outJSON, outTSV)
	cmd.MarkFlagsMutuallyExclusive("raw-ids", "hashed-ids")
	return cmd
}

func redisPutRun(ctx context.Context, opts *redisPutOptions) error {
	raw := []byte(opts.JSON)
	if opts.JSON == "-" {
		var err error
		if raw, err = io.ReadAll(io.LimitReader(opts.IO.In, maxPutValue+1)); err != nil {
			return fmt.Errorf("cannot read stdin: %w", err)
		}
	}
	if len(raw) > maxPutValue {
		return newUsageError("store less in one session", "the JSON is larger than %d MiB", maxPutValue>>20)
	}
	values, err := parseJSONObject(raw)
	if err != nil {
		return err
	}
	var (
		codec  session.Codec = session.JSONCodec{}
		target session.Target
	)
	if opts.Format == "pickle" {
		if err := target.UnmarshalText([]byte(opts.Target)); err != nil {
			return err
		}
		codec = session.PickleCodec{Target: target}
	}
	value, err := codec.Marshal(values)
	if err != nil {
		return withHint(fmt.Errorf("cannot encode the values as %s: %w", opts.Format, err), "use JSON strings, numbers, booleans, null, arrays and objects")
	}
	id := opts.ID
	if id == "" {
		id = newPutID(opts.Format == "pickle" && !opts.Hashed)
	}
	key := opts.Prefix + id
	if opts.Hashed {
		key = opts.Prefix + session.HashID(id)
	}
	rdb, err := opts.Client()
	if err != nil {
		return err
	}
	if opts.Force {
		err = rdb.Set(ctx, key, value, opts.TTL).Err()
	} else {
		var stored bool
		stored, err = rdb.SetNX(ctx, key, value, opts.TTL).Result()
		if err == nil && !stored {
			return withHint(fmt.Errorf("%w: %s", errKeyExists, key), "pass --force to overwrite it, or leave --id out for a fresh id (nothing was changed)")
		}
	}
	if err != nil {
		return redisError(&manager.Error{Op: "put", Kind: rediserr.Classify(err), Err: err})
	}
	return writePut(opts, key, id, target)
}

// newPutID returns a fresh session id: a lowercase UUID4 when uuid (what
// weppy and Emmett make), else 32 random bytes in unpadded base64url (what
// pkg/session makes). Both have the shape session.ValidID accepts.
func newPutID(uuid bool) string {
	if uuid {
		var b [16]byte
		_, _ = rand.Read(b[:])  // crypto/rand.Read never returns an error (Go 1.24+)
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		h := hex.EncodeToString(b[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writePut prints what put stored: the key, the cookie value (the id) and
// its name when given, the TTL and the format.
func writePut(opts *redisPutOptions, key, id string, target session.Target) error {
	format := opts.Format
	if opts.Format == "pickle" {
		format += " (" + string(target) + ")"
	}
	if opts.Output == "json" {
		doc := map[string]any{"key": key, "cookie": id, "hashed_id": opts.Hashed,
			"ttl_seconds": int64(opts.TTL / time.Second), "format": opts.Format}
		if opts.CookieName != "" {
			doc["cookie_name"] = opts.CookieName
		}
		if opts.Format == "pickle" {
			doc["target"] = string(target)
		}
		b, err := marshalJSON(doc)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return fmt.Errorf("wsess: %w", err)
		}
		out.WriteByte('\n')
		_, err = opts.IO.Out.Write(jsonSafe(out.Bytes()))
		return err
	}
	st := opts.IO.Styles()
	var b strings.Builder
	l := labelLines{b: &b, st: st, table: isTable(opts.IO, opts.Output)}
	k := textesc.Escape(key)
	l.line("key", k, k)
	idNote := " (the session id: hashed in the key)"
	if !opts.Hashed {
		idNote = " (the session id: in the key as it is)"
	}
	l.line("cookie", id+st.Faint.Render(idNote), id)
	if opts.CookieName != "" {
		l.line("name", opts.CookieName+st.Faint.Render(" (send "+opts.CookieName+"="+id+")"), opts.CookieName)
	}
	l.line("ttl", humanTTL(opts.TTL), strconv.FormatInt(int64(opts.TTL/time.Second), 10))
	l.line("format", format, format)
	w := outBuffer(opts.IO)
	w.WriteString(b.String())
	return w.Flush()
}
