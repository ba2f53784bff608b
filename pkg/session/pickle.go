package session

import (
	"fmt"
	"strings"

	"github.com/wsess/wsess/internal/pickle"
)

// Target names the Python framework release that a Go service shares
// sessions with. It decides the class of the pickled root (a release can
// load only the classes it can import: Emmett 2.4 and 2.5 load an
// emmett_core.datastructures.sdict as a silently empty cookie session, and
// emmett-core alone cannot load emmett.datastructures.sdict) and the pickle
// protocol. See the README's version table.
type Target string

const (
	// TargetAny writes a plain dict root at pickle protocol 2, which every
	// weppy and Emmett release loads, on every Python they run on: their
	// session pipes copy the root into their own session class. It is the
	// default, and the safe choice when the release is unknown or when apps
	// of several releases share sessions, except for a session that holds a
	// CSRF token store ("_csrf"): it is written as a plain dict, which the
	// app's next form fails on. Name the Target when the app uses forms.
	TargetAny Target = "any"
	// TargetWeppy13 writes weppy.datastructures.sdict at protocol 2, what
	// weppy 1.x apps write (weppy loads only weppy.* classes and the
	// builtins). Like the Emmett targets but emmett-core, it writes the
	// CSRF token store "_csrf" as the framework's CSRFStorage, whose
	// gen_token the app's forms call (a plain dict there fails them).
	TargetWeppy13 Target = "weppy-1.3"
	// TargetEmmett24 writes emmett.datastructures.sdict at protocol 4, as
	// Emmett 2.4 does.
	TargetEmmett24 Target = "emmett-2.4"
	// TargetEmmett25 writes emmett.datastructures.sdict at protocol 4, as
	// Emmett 2.5 does.
	TargetEmmett25 Target = "emmett-2.5"
	// TargetEmmett26 writes emmett_core.datastructures.sdict at protocol 4,
	// as Emmett 2.6 and later do (they load emmett.datastructures.sdict too).
	TargetEmmett26 Target = "emmett-2.6+"
	// TargetEmmettCore writes emmett_core.datastructures.sdict at protocol 4,
	// as apps on emmett-core alone (Emmett55) do.
	TargetEmmettCore Target = "emmett-core"
)

// Targets lists every Target, TargetAny first.
func Targets() []Target {
	return []Target{TargetAny, TargetWeppy13, TargetEmmett24, TargetEmmett25, TargetEmmett26, TargetEmmettCore}
}

// UnmarshalText sets t to the Target named text ("" is TargetAny), so a
// Target can be read from configuration (encoding/json, flag.TextVar, ...).
// Other names give an error wrapping ErrInvalidOptions that lists the valid
// ones.
func (t *Target) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*t = TargetAny
		return nil
	}
	names := make([]string, 0, 6)
	for _, c := range Targets() {
		if string(c) == string(text) {
			*t = c
			return nil
		}
		names = append(names, string(c))
	}
	return fmt.Errorf("%w: unknown pickle target %q (valid: %s)", ErrInvalidOptions, text, strings.Join(names, ", "))
}

// csrfClass is the class of the CSRF token store ("_csrf") the release's
// forms call methods on, or "" (emmett-core has no forms; TargetAny cannot
// know which framework reads it).
func (t Target) csrfClass() string {
	switch t {
	case TargetWeppy13:
		return "weppy.security.CSRFStorage"
	case TargetEmmett24, TargetEmmett25, TargetEmmett26:
		return "emmett.security.CSRFStorage"
	}
	return ""
}

// root returns the module and class of the pickled root, and the protocol.
func (t Target) root() (module, class string, protocol int, err error) {
	switch t {
	case "", TargetAny:
		return "builtins", "dict", 2, nil
	case TargetWeppy13:
		return "weppy.datastructures", "sdict", 2, nil
	case TargetEmmett24, TargetEmmett25:
		return "emmett.datastructures", "sdict", 4, nil
	case TargetEmmett26, TargetEmmettCore:
		return "emmett_core.datastructures", "sdict", 4, nil
	}
	return "", "", 0, fmt.Errorf("%w: unknown pickle target %q", ErrInvalidOptions, string(t))
}

// PickleCodec stores sessions as Python pickles, the format weppy and
// Emmett apps keep in Redis and in their cookies, so a Go service and a
// Python app can share sessions: use the app's prefix ("emtsess:" for
// Emmett, "wppsess:" for weppy) and cookie name, and
// RedisOptions{Options: Options{Codec: PickleCodec{}}}. Their UUID4 session
// ids are accepted as they are.
//
// Decoding never runs anything a pickle names: classes are recognised by
// name only, and input size, nesting and lengths are bounded, as is the
// work: a value of n bytes allocates at most about 512*n bytes + 32 MiB,
// whatever its content. Decoded values are Go values: string, int64 or
// *big.Int, float64, bool, nil, []byte, []any, map[string]any, a date type
// for datetime values (pendulum's and zone-aware ones keep their UTC
// offset) and a duration type for timedelta values; the typed getters
// (Session.Int, ...) read them. Encoding accepts those plus the Go integer
// types, json.Number and time.Time (written as a naive datetime).
type PickleCodec struct {
	// Target is the framework release the pickles are written for; it sets
	// the root class and the protocol. Default TargetAny: a plain dict at
	// protocol 2, which every weppy and Emmett release loads.
	Target Target
	// Module, when set, is the Python module of an sdict class written as
	// the root instead of the Target's ("weppy.datastructures",
	// "emmett.datastructures", "emmett_core.datastructures"). Default: the
	// Target's.
	Module string
	// Protocol is the pickle protocol written: 2 or 4. Default: the
	// Target's (2 for TargetAny and weppy, else 4).
	Protocol int
}

// Marshal writes values as a pickled dict, or the Target's sdict.
func (c PickleCodec) Marshal(values map[string]any) ([]byte, error) {
	mod, cls, proto, err := c.Target.root()
	if err != nil {
		return nil, err
	}
	if c.Module != "" {
		mod, cls = c.Module, "sdict"
	}
	if c.Protocol != 0 {
		proto = c.Protocol
	}
	enc := pickle.Encoder{Module: mod, Class: cls, Protocol: proto}
	if csrf := c.Target.csrfClass(); csrf != "" {
		enc.KeyClasses = map[string]string{"_csrf": csrf}
	}
	return enc.Encode(values)
}

// Unmarshal reads a pickled dict (sdict or any dict subclass).
func (c PickleCodec) Unmarshal(data []byte) (map[string]any, error) {
	return pickle.Decoder{}.DecodeMap(data)
}

// LeadingBytes implements Sniffer: pickles of protocol 2 and later (what
// Python 3 writes, and what Marshal writes) start with the PROTO opcode.
func (PickleCodec) LeadingBytes() string { return "\x80" }
