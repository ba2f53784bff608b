package session

import (
	"fmt"
	"time"
)

// Compat names the apps whose sessions a manager shares, which decides the
// defaults that must differ between them. Set it in Options.Compat; both
// managers apply it the same way.
//
//	                          CompatWsess        CompatPython (weppy, Emmett)
//	Redis key                 Prefix+HashID(id)  Prefix+id (the Python apps look it up)
//	per-user index            kept               none (a handle cannot name a raw key)
//	AbsoluteTimeout default   24 h               none (the Python apps keep no creation time)
//
// RedisOptions.HashIDs and Options.AbsoluteTimeout, when set, still win.
type Compat int

const (
	// CompatAuto (the zero value) takes the codec's word for it: a codec
	// that reports EncodingPickle (PickleCodec) means CompatPython, one
	// that reports EncodingJSON (JSONCodec) means CompatWsess. A codec that
	// reports neither (an app's own, or a wrapper that does not forward
	// Encoding) makes the constructor fail with ErrInvalidOptions until
	// Compat is set. For the cookie manager, the CookieFormat decides:
	// FormatWsess is CompatWsess, FormatEmmett and FormatWeppy are
	// CompatPython.
	CompatAuto Compat = iota
	// CompatWsess: sessions only Go services using wsess read.
	CompatWsess
	// CompatPython: sessions shared with weppy or Emmett apps.
	CompatPython
)

// String returns "auto", "wsess" or "python".
func (c Compat) String() string {
	switch c {
	case CompatAuto:
		return "auto"
	case CompatWsess:
		return "wsess"
	case CompatPython:
		return "python"
	}
	return fmt.Sprintf("Compat(%d)", int(c))
}

// Encoding names how a codec lays out its bytes, so that the Redis manager
// can read a stored session's expiry override and creation time inside
// Redis, in the round trip that loads it.
type Encoding int

const (
	// EncodingOpaque: bytes the load script does not read (compressed,
	// encrypted, another format). The manager still enforces every limit,
	// correcting the TTL from Go at commit when needed (one more round trip
	// for a session with an override or near its absolute deadline).
	EncodingOpaque Encoding = iota
	// EncodingJSON: JSONCodec's output, a compact JSON object.
	EncodingJSON
	// EncodingPickle: a Python pickle (protocol 2 or later) of a dict, as
	// PickleCodec writes and weppy and Emmett read.
	EncodingPickle
)

// EncodingReporter is a Codec that says how its bytes are laid out.
// JSONCodec and PickleCodec implement it. A codec that wraps one of them
// without changing its bytes (to count, log or trace) should forward both
// Encoding and Sniffer's LeadingBytes; then it behaves as the codec it
// wraps in every respect, Compat included. A codec that changes the bytes
// reports EncodingOpaque (or nothing) and sets Options.Compat.
type EncodingReporter interface {
	Encoding() Encoding
}

// Encoding implements EncodingReporter.
func (JSONCodec) Encoding() Encoding { return EncodingJSON }

// Encoding implements EncodingReporter.
func (PickleCodec) Encoding() Encoding { return EncodingPickle }

// encodingOf returns c's Encoding, EncodingOpaque when it reports none.
func encodingOf(c Codec) Encoding {
	if e, ok := c.(EncodingReporter); ok {
		return e.Encoding()
	}
	return EncodingOpaque
}

// resolveCompat returns the Compat in force for a Redis manager: c when
// set, else the codec's.
func resolveCompat(c Compat, codec Codec) (Compat, error) {
	switch c {
	case CompatWsess, CompatPython:
		return c, nil
	case CompatAuto:
	default:
		return 0, fmt.Errorf("%w: unknown Compat %d", ErrInvalidOptions, int(c))
	}
	switch encodingOf(codec) {
	case EncodingJSON:
		return CompatWsess, nil
	case EncodingPickle:
		return CompatPython, nil
	}
	return 0, fmt.Errorf("%w: the codec %T does not report its Encoding: set Options.Compat to CompatWsess or CompatPython (the defaults for hashed ids and the absolute lifetime follow it)", ErrInvalidOptions, codec)
}

// compatOfFormat checks Options.Compat against a cookie format, which
// decides it.
func compatOfFormat(c Compat, f CookieFormat) (Compat, error) {
	want := CompatWsess
	if f.python() {
		want = CompatPython
	}
	if c != CompatAuto && c != want {
		return 0, fmt.Errorf("%w: Compat %v does not match the cookie format %v (which is %v)", ErrInvalidOptions, c, f, want)
	}
	return want, nil
}

// absoluteFor returns the absolute lifetime in force for an
// Options.AbsoluteTimeout of d under compat.
func absoluteFor(d time.Duration, compat Compat) (time.Duration, error) {
	return resolveAbsolute(d, compat == CompatWsess)
}
