package session

// Codec turns session values into the bytes a store keeps, and back.
//
// Unmarshal must not keep a reference to data after it returns: managers reuse
// their buffers. Implementations must be safe for concurrent use.
type Codec interface {
	Marshal(values map[string]any) ([]byte, error)
	Unmarshal(data []byte) (map[string]any, error)
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
