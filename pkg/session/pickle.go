package session

import "github.com/wsess/wsess/internal/pickle"

// PickleCodec stores sessions as Python pickles of an sdict, the format
// weppy and Emmett apps keep in Redis, so a Go service and a Python app can
// share sessions: use the app's prefix ("emtsess:" for Emmett, "wppsess:"
// for weppy) and cookie name, and RedisOptions{Options: Options{Codec:
// PickleCodec{}}}. Their UUID4 session ids are accepted as they are.
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
	// Module is the Python module of the sdict class written as the root.
	// Default "emmett.datastructures"; weppy apps use
	// "weppy.datastructures", emmett-core apps "emmett_core.datastructures".
	Module string
	// Protocol is the pickle protocol written: 2 or 4. Default 4.
	Protocol int
}

// Marshal writes values as a pickled sdict.
func (c PickleCodec) Marshal(values map[string]any) ([]byte, error) {
	return pickle.Encoder{Module: c.Module, Protocol: c.Protocol}.Encode(values)
}

// Unmarshal reads a pickled dict (sdict or any dict subclass).
func (c PickleCodec) Unmarshal(data []byte) (map[string]any, error) {
	return pickle.Decoder{}.DecodeMap(data)
}

// LeadingBytes implements Sniffer: pickles of protocol 2 and later (what
// Python 3 writes, and what Marshal writes) start with the PROTO opcode.
func (PickleCodec) LeadingBytes() string { return "\x80" }
