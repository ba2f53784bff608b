package inspect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/wsess/wsess/internal/pickle"
)

// ToJSON converts a decoded value (from internal/pickle or from a JSON
// codec) into plain JSON values:
//
//	int (any size), float       json.Number, exact ("7", "1180591620717411303424", "1.5")
//	float nan/inf               the strings "nan", "inf", "-inf" (JSON has no such numbers)
//	bytes, bytearray            standard base64 string, padded
//	list, tuple, set            []any
//	dict, sdict                 map[string]any
//	datetime / date / time      string, as Python's isoformat() (pendulum's too,
//	                            with the zone's offset)
//	timedelta, pendulum Duration string, ISO 8601 ("P3DT4H5M6.000007S")
//	object of another class     its state (a map) plus "__class__": "module.Name";
//	                            {"__class__", "__state__"} for a state that is not a
//	                            dict, {"__class__", "__args__"} when it has no state
//	a class itself              {"__global__": "module.Name"}
//
// Strings, bools, nil and json.Number pass through; maps and slices are
// copied.
func ToJSON(v any) any { return toJSON(v, false) }

// BytesKey is the one member of the object that stands for a bytes value in
// a Session's Data: {"$bytes": "<standard base64, padded>"}. ToJSON itself
// keeps bytes as a plain base64 string (what --where filters see).
const BytesKey = "$bytes"

// Bytes reports whether v is a bytes value as a Session's Data holds it
// ({"$bytes": base64}) and returns the bytes.
func Bytes(v any) ([]byte, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, false
	}
	s, ok := m[BytesKey].(string)
	if !ok {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// toJSON is ToJSON; with markBytes, bytes become {"$bytes": base64} so that
// they are not taken for a string.
func toJSON(v any, markBytes bool) any {
	switch t := v.(type) {
	case nil, bool, string, json.Number:
		return t
	case int64:
		return json.Number(strconv.FormatInt(t, 10))
	case int:
		return json.Number(strconv.Itoa(t))
	case *big.Int:
		return json.Number(t.String())
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return pickle.FormatFloat(t)
		}
		return json.Number(pickle.FormatFloat(t))
	case []byte:
		if markBytes {
			return map[string]any{BytesKey: base64.StdEncoding.EncodeToString(t)}
		}
		return base64.StdEncoding.EncodeToString(t)
	case pickle.DateTime:
		return t.String()
	case pickle.Duration:
		return t.String()
	case time.Time:
		return t.Format(time.RFC3339Nano)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = toJSON(x, markBytes)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = toJSON(x, markBytes)
		}
		return s
	case pickle.Object:
		m := map[string]any{}
		switch st := t.State.(type) {
		case map[string]any:
			for k, x := range st {
				m[k] = toJSON(x, markBytes)
			}
		case nil:
			if len(t.Args) > 0 {
				m["__args__"] = toJSON(t.Args, markBytes)
			}
		default:
			m["__state__"] = toJSON(st, markBytes)
		}
		m["__class__"] = t.Class
		return m
	case pickle.Global:
		return map[string]any{"__global__": t.String()}
	}
	return fmt.Sprint(v)
}

// toJSONMap converts a session's values for a Session's Data: as ToJSON,
// with bytes marked ({"$bytes": base64}).
func toJSONMap(m map[string]any) map[string]any {
	return toJSON(m, true).(map[string]any)
}
