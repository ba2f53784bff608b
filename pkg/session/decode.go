package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

var (
	// ErrNoValue is returned by Session.Decode for a key the session does
	// not hold.
	ErrNoValue = errors.New("session: no value under this key")
	// ErrValueType is returned by Session.Decode when the stored value does
	// not fit the Go type asked for.
	ErrValueType = errors.New("session: value does not fit the type")
)

// Decode stores the value under key in the value v points to, typed: a
// struct, slice, map or scalar that was Set in an earlier request comes
// back as a map[string]any, []any, float64 or json.Number from the store
// (JSON and pickle alike keep no Go types), and Decode fills v from it by
// encoding/json's rules (field names, `json` tags, Unmarshaler). A value
// Set in this same request whose type is v's is copied as it is.
//
// It returns an error wrapping ErrNoValue when the session holds no key,
// and one wrapping ErrValueType, with the reason, when the value does not
// fit v (v is then left as encoding/json leaves it). v must be a non-nil
// pointer.
func (s *Session) Decode(key string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("session: Decode %q needs a non-nil pointer, not %T", key, v)
	}
	s.mu.Lock()
	val, ok := s.valuesLocked()[key]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoValue, key)
	}
	if val != nil {
		if src := reflect.ValueOf(val); src.Type().AssignableTo(rv.Elem().Type()) {
			rv.Elem().Set(src)
			return nil
		}
	}
	enc, err := appendValue(nil, val, 0)
	if err != nil {
		return fmt.Errorf("%w: %q holds %s: %w", ErrValueType, key, describe(val), err)
	}
	if err := json.Unmarshal(enc, v); err != nil {
		return fmt.Errorf("%w: %q holds %s, which does not fit %T: %w", ErrValueType, key, describe(val), v, err)
	}
	return nil
}

// describe names the shape of a stored value in JSON's words.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any, []string:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, float32, int, int64, int32, uint, uint64:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}
