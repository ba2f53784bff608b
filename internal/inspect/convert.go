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
func ToJSON(v any) any {
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
			m[k] = ToJSON(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = ToJSON(x)
		}
		return s
	case pickle.Object:
		m := map[string]any{}
		switch st := t.State.(type) {
		case map[string]any:
			for k, x := range st {
				m[k] = ToJSON(x)
			}
		case nil:
			if len(t.Args) > 0 {
				m["__args__"] = ToJSON(t.Args)
			}
		default:
			m["__state__"] = ToJSON(st)
		}
		m["__class__"] = t.Class
		return m
	case pickle.Global:
		return map[string]any{"__global__": t.String()}
	}
	return fmt.Sprint(v)
}

func toJSONMap(m map[string]any) map[string]any {
	return ToJSON(m).(map[string]any)
}
