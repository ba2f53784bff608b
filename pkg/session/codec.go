package session

// Codec turns session values into the bytes a store keeps, and back. The
// managers use Options.Codec (default JSONCodec{}); PickleCodec{} shares
// sessions with weppy and Emmett apps. An app may plug in its own.
//
// The contract, as the managers rely on it:
//
//   - Marshal encodes values; an error fails the commit (the request gets
//     the error handler's answer, and nothing is written). The returned
//     slice belongs to the caller, which may keep it (the Redis manager
//     remembers the bytes it wrote for its compare-and-set) and must not be
//     reused by the codec. A codec that also has an AppendMarshal(b []byte,
//     values map[string]any) ([]byte, error) method is called with a
//     manager's pooled buffer instead: it appends to b and returns the
//     extended slice, which the manager reuses after the commit.
//   - Unmarshal decodes what a store holds. data is only valid during the
//     call: the codec must not keep it (or a sub-slice of it) after it
//     returns, because managers reuse their buffers; returned values must be
//     freshly allocated. An Unmarshal error is not a store failure: on load
//     it means "not a session of this codec" (another app's key, a value of
//     another format, a tampered value), and the manager treats the request
//     as having no session: it starts a new one under a new id and never
//     overwrites the value it could not read. data comes from outside the
//     process (a cookie, anyone who can write under the Redis prefix), so
//     Unmarshal must bound its own time and memory.
//   - Both are called from many goroutines at once (every request of a
//     manager shares its codec) and must be safe for concurrent use; a codec
//     value is not changed by the managers.
type Codec interface {
	Marshal(values map[string]any) ([]byte, error)
	Unmarshal(data []byte) (map[string]any, error)
}

// A Sniffer is a Codec that names the bytes its encodings can start with.
// The Redis manager checks a stored value's first byte against them inside
// Redis, in the same round trip that reads it, before it touches the key's
// TTL: a value of another format (another app's key, a value written with a
// different codec) is then neither loaded nor kept alive. Without it, the
// load slides the TTL of any string value under the prefix before Unmarshal
// rejects it. JSONCodec and PickleCodec implement it.
type Sniffer interface {
	// LeadingBytes returns every byte an encoded value may begin with.
	LeadingBytes() string
}

// appender is implemented by codecs that can encode into a caller's buffer;
// the managers use it to avoid an allocation per commit.
type appender interface {
	AppendMarshal(b []byte, values map[string]any) ([]byte, error)
}

// appendMarshal encodes values with c, appending to b.
func appendMarshal(c Codec, b []byte, values map[string]any) ([]byte, error) {
	if a, ok := c.(appender); ok {
		return a.AppendMarshal(b, values)
	}
	enc, err := c.Marshal(values)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

// unmarshalString decodes a stored value held in a string: the JSON codec
// parses it in place (its keys and strings share it), any other codec gets
// a copy as bytes.
func unmarshalString(c Codec, data string) (map[string]any, error) {
	if _, ok := c.(JSONCodec); ok {
		return parseJSONObject(data)
	}
	return c.Unmarshal([]byte(data))
}
