package session

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Codec turns session values into the bytes a store keeps, and back.
//
// Unmarshal must not keep a reference to data after it returns: managers reuse
// their buffers. Implementations must be safe for concurrent use.
type Codec interface {
	Marshal(values map[string]any) ([]byte, error)
	Unmarshal(data []byte) (map[string]any, error)
}

// JSON is the default Codec. Numbers decode as json.Number, so integers of any
// size survive a round trip exactly; the typed getters (Session.Int and
// friends) read json.Number.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(values map[string]any) ([]byte, error) {
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("session: json encode: %w", err)
	}
	return b, nil
}

func (jsonCodec) Unmarshal(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("session: json decode: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("session: json decode: trailing data after the object")
	}
	if m == nil {
		return nil, fmt.Errorf("session: json decode: not an object")
	}
	return m, nil
}
