package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Field is one data line of a session: a dotted path to a value that is not
// a non-empty object (or is bytes, {"$bytes": ...}), that value as compact
// JSON, and the value itself.
type Field struct {
	Path, Value string
	Raw         any
}

// Fields flattens data for display: nested objects become dotted paths
// ("auth.user.id"), every other value (arrays included) is compact JSON.
// Paths are sorted. Keys are returned as stored: the caller escapes them
// before printing.
func Fields(data map[string]any) []Field {
	var out []Field
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range SortedKeys(m) {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if _, isBytes := Bytes(m[k]); isBytes {
				out = append(out, Field{Path: path, Value: CompactJSON(m[k]), Raw: m[k]})
				continue
			}
			if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
				walk(path, sub)
				continue
			}
			out = append(out, Field{Path: path, Value: CompactJSON(m[k]), Raw: m[k]})
		}
	}
	walk("", data)
	return out
}

// SortedKeys returns the keys of m in order.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CompactJSON is v as one line of JSON without HTML escaping (fmt's %v
// form for a value JSON cannot hold).
func CompactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
