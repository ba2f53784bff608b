package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wsess/wsess/internal/jsonstr"
)

// The default codec reads and writes JSON itself for the types sessions
// hold, instead of going through encoding/json's reflection: a session is
// decoded and often encoded on every request, and this keeps that to the
// allocations of the values themselves. It accepts exactly what
// encoding/json accepts (FuzzJSONMatchesEncodingJSON checks) and gives the
// same values (json.Number for numbers); other Go types are encoded by
// encoding/json.

// JSONCodec is the default Codec. Numbers decode as json.Number, so
// integers of any size survive a round trip exactly; the typed getters
// (Session.Int and friends) read json.Number. Objects are encoded with
// sorted keys. Decoding is bounded by the input: nesting deeper than 1000
// levels is an error. The zero value is ready to use and safe for
// concurrent use.
type JSONCodec struct{}

// Marshal encodes values as a JSON object.
func (JSONCodec) Marshal(values map[string]any) ([]byte, error) {
	return appendJSON(make([]byte, 0, 64), values)
}

// AppendMarshal appends values' JSON encoding to b and returns the extended
// slice.
func (JSONCodec) AppendMarshal(b []byte, values map[string]any) ([]byte, error) {
	return appendJSON(b, values)
}

// Unmarshal decodes a JSON object. It does not keep data.
func (JSONCodec) Unmarshal(data []byte) (map[string]any, error) {
	return unmarshalJSON(data)
}

// LeadingBytes implements Sniffer: a JSON object starts with '{' (after
// optional white space).
func (JSONCodec) LeadingBytes() string { return "{ \t\r\n" }

// appendJSON appends v's JSON encoding to b.
func appendJSON(b []byte, values map[string]any) ([]byte, error) {
	return appendValue(b, values, 0)
}

const maxJSONDepth = 1000

var errJSONDepth = errors.New("session: json: nested too deeply")

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return b, errJSONDepth
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case json.Number:
		if x == "" {
			return append(b, '0'), nil
		}
		if !validNumber(x) {
			return b, fmt.Errorf("session: json: invalid number literal %q", x)
		}
		return append(b, x...), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case *big.Int:
		if x == nil {
			return append(b, "null"...), nil
		}
		return x.Append(b, 10), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		var stack [16]string
		keys := stack[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []any:
		return appendArray(b, x, depth, appendValue)
	case []string:
		return appendArray(b, x, depth, appendStringElem)
	}
	// Anything else: encoding/json's rules (struct tags, Marshaler, ...).
	enc, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("session: json encode: %w", err)
	}
	return append(b, enc...), nil
}

// appendFloat formats like encoding/json.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, fmt.Errorf("session: json: unsupported value %v", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

// appendString writes s as a JSON string, escaped as encoding/json's
// Marshal does (HTML characters included, invalid UTF-8 as U+FFFD).
// appendArray writes x as a JSON array (null when nil), each element with
// elem at depth+1.
func appendArray[E any](b []byte, x []E, depth int, elem func([]byte, E, int) ([]byte, error)) ([]byte, error) {
	if x == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendStringElem(b []byte, s string, _ int) ([]byte, error) { return appendString(b, s), nil }

func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, true) }

// validNumber reports whether s is a JSON number literal.
func validNumber(s json.Number) bool {
	n, ok := scanNumber(string(s), 0)
	return ok && n == len(s)
}

// scanNumber returns the end of the JSON number starting at i.
func scanNumber(d string, i int) (int, bool) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, true
}

// jsonParser decodes JSON values. It parses one string copy of the input
// and slices keys, strings without escapes and numbers out of it, so a
// session costs one allocation for its text plus its maps and slices.
type jsonParser struct {
	d string
	i int
}

func unmarshalJSON(data []byte) (map[string]any, error) {
	return parseJSONObject(string(data))
}

// parseJSONObject is unmarshalJSON for text already in a string, which the
// decoded keys and strings then share.
func parseJSONObject(d string) (map[string]any, error) {
	p := jsonParser{d: d}
	p.ws()
	if p.i >= len(p.d) || p.d[p.i] != '{' {
		if p.i < len(p.d) && p.d[p.i] == 'n' {
			return nil, fmt.Errorf("session: json decode: not an object")
		}
		if _, err := p.value(0); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("session: json decode: not an object")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.d) {
		return nil, p.errorf("trailing data after the object")
	}
	return v.(map[string]any), nil
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("session: json decode: offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) ws() {
	for p.i < len(p.d) {
		switch p.d[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	p.ws()
	if p.i >= len(p.d) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.d[p.i]; {
	case c == '{':
		p.i++
		m := make(map[string]any)
		p.ws()
		if p.i < len(p.d) && p.d[p.i] == '}' {
			p.i++
			return m, nil
		}
		for {
			p.ws()
			if p.i >= len(p.d) || p.d[p.i] != '"' {
				return nil, p.errorf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.d) || p.d[p.i] != ':' {
				return nil, p.errorf("expected ':'")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[k] = v
			if done, err := p.next('}'); done || err != nil {
				return m, err
			}
		}
	case c == '[':
		p.i++
		a := []any{}
		p.ws()
		if p.i < len(p.d) && p.d[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			if done, err := p.next(']'); done || err != nil {
				return a, err
			}
		}
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		end, ok := scanNumber(p.d, p.i)
		if !ok {
			p.i = end
			return nil, p.errorf("invalid number")
		}
		n := json.Number(p.d[p.i:end])
		p.i = end
		return n, nil
	}
	return nil, p.errorf("invalid character %q", p.d[p.i])
}

// next reads what follows an element of an object or an array: a ',' (more
// elements follow) or its closing byte (done).
func (p *jsonParser) next(closing byte) (done bool, err error) {
	p.ws()
	if p.i >= len(p.d) {
		return false, p.errorf("unexpected end of input")
	}
	switch p.d[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, p.errorf("expected ',' or '%c'", closing)
}

func (p *jsonParser) literal(lit string) error {
	if len(p.d)-p.i < len(lit) || p.d[p.i:p.i+len(lit)] != lit {
		return p.errorf("invalid literal")
	}
	p.i += len(lit)
	return nil
}

// str decodes the string starting at p.d[p.i] == '"'.
func (p *jsonParser) str() (string, error) {
	p.i++
	start := p.i
	// Fast path: no escapes, valid UTF-8.
	for p.i < len(p.d) {
		c := p.d[p.i]
		if c == '"' {
			s := p.d[start:p.i]
			p.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.i++
	}
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.d[start:p.i]...)
	for p.i < len(p.d) {
		c := p.d[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c == '\\':
			p.i++
			if p.i >= len(p.d) {
				return "", p.errorf("unexpected end of input")
			}
			e := p.d[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					save := p.i
					if p.i+1 < len(p.d) && p.d[p.i] == '\\' && p.d[p.i+1] == 'u' {
						p.i += 2
						if lo, ok := p.hex4(); ok {
							if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
								r2 = dec
							} else {
								p.i = save
							}
						} else {
							return "", p.errorf("invalid \\u escape")
						}
					}
					r = r2
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", p.errorf("invalid escape")
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.d[p.i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\ufffd"...)
			} else {
				buf = append(buf, p.d[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	return "", p.errorf("unexpected end of input")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.d)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.d[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// validJSONObject reports whether d is what parseJSONObject accepts: one
// JSON object and nothing after it but white space. It decodes nothing and
// allocates nothing.
func validJSONObject(d string) bool {
	p := jsonParser{d: d}
	p.ws()
	if p.i >= len(p.d) || p.d[p.i] != '{' {
		return false
	}
	if !p.skip(0) {
		return false
	}
	p.ws()
	return p.i == len(p.d)
}

// skip moves past the value at p.i, checking it by parseJSONObject's rules,
// without decoding it.
func (p *jsonParser) skip(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	p.ws()
	if p.i >= len(p.d) {
		return false
	}
	switch c := p.d[p.i]; {
	case c == '{', c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		p.i++
		p.ws()
		if p.i < len(p.d) && p.d[p.i] == closing {
			p.i++
			return true
		}
		for {
			if c == '{' {
				p.ws()
				if p.i >= len(p.d) || p.d[p.i] != '"' || !p.skipString() {
					return false
				}
				p.ws()
				if p.i >= len(p.d) || p.d[p.i] != ':' {
					return false
				}
				p.i++
			}
			if !p.skip(depth + 1) {
				return false
			}
			if done, err := p.next(closing); err != nil {
				return false
			} else if done {
				return true
			}
		}
	case c == '"':
		return p.skipString()
	case c == 't':
		return p.literal("true") == nil
	case c == 'f':
		return p.literal("false") == nil
	case c == 'n':
		return p.literal("null") == nil
	case c == '-' || c >= '0' && c <= '9':
		end, ok := scanNumber(p.d, p.i)
		p.i = end
		return ok
	}
	return false
}

// skipString moves past the string at p.d[p.i] == '"', checking its
// escapes as str does; invalid UTF-8, which str replaces, passes.
func (p *jsonParser) skipString() bool {
	p.i++
	for p.i < len(p.d) {
		switch c := p.d[p.i]; {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			p.i++
			if p.i >= len(p.d) {
				return false
			}
			e := p.d[p.i]
			p.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return false
				}
				// A high surrogate's partner must be a valid \u escape
				// when one follows, as str requires.
				if utf16.IsSurrogate(r) && p.i+1 < len(p.d) && p.d[p.i] == '\\' && p.d[p.i+1] == 'u' {
					p.i += 2
					if _, ok := p.hex4(); !ok {
						return false
					}
				}
			default:
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

// jsonMember returns the top-level member key of d, a JSON object that
// validJSONObject accepts, decoded as parseJSONObject would, without
// decoding the rest: found reports whether d has it. ok is false when the
// answer needs the whole decode: a key written with escapes or beyond
// ASCII (its decoded form may match), a value that is an object or an
// array (the session hands out one shared copy of those), or a key that
// appears twice (the last one wins).
func jsonMember(d, key string) (v any, found, ok bool) {
	p := jsonParser{d: d}
	p.ws()
	if p.i >= len(p.d) || p.d[p.i] != '{' {
		return nil, false, false
	}
	p.i++
	p.ws()
	if p.i < len(p.d) && p.d[p.i] == '}' {
		return nil, false, true
	}
	at := -1 // where key's value starts
	for {
		p.ws()
		if p.i >= len(p.d) || p.d[p.i] != '"' {
			return nil, false, false
		}
		start := p.i + 1
		end := start
		for end < len(p.d) && p.d[end] != '"' {
			if c := p.d[end]; c == '\\' || c >= utf8.RuneSelf {
				return nil, false, false
			}
			end++
		}
		p.i = end + 1
		match := p.d[start:end] == key
		p.ws()
		if p.i >= len(p.d) || p.d[p.i] != ':' {
			return nil, false, false
		}
		p.i++
		p.ws()
		if match {
			if at >= 0 {
				return nil, false, false
			}
			at = p.i
		}
		if !p.skip(1) {
			return nil, false, false
		}
		if done, err := p.next('}'); err != nil {
			return nil, false, false
		} else if done {
			break
		}
	}
	if at < 0 {
		return nil, false, true
	}
	if c := p.d[at]; c == '{' || c == '[' {
		return nil, false, false
	}
	p.i = at
	v, err := p.value(1)
	if err != nil {
		return nil, false, false
	}
	return v, true, true
}

// errNotSpliceable is appendSpliced's answer for a payload it cannot
// splice: the caller decodes it and marshals the values instead.
var errNotSpliceable = errors.New("session: json: payload needs decoding")

// appendSpliced appends to b the JSON object raw (one that validJSONObject
// accepts) as ops, Sets, Deletes and Incrs (their result in val) in the
// order they were made, change it: raw's members that no op names are
// copied as they are, then each key the ops name gets the value of its
// last Set or Incr, or none after a Delete. The result decodes to what applying ops to raw's decoded values
// gives, without decoding raw. It returns errNotSpliceable when raw has a
// key written with escapes or beyond ASCII (whose decoded form may be an
// op's key).
func appendSpliced(b []byte, raw string, ops []op) ([]byte, error) {
	p := jsonParser{d: raw}
	p.ws()
	if p.i >= len(p.d) || p.d[p.i] != '{' {
		return b, errNotSpliceable
	}
	p.i++
	b = append(b, '{')
	first := true
	p.ws()
	if p.i < len(p.d) && p.d[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			start := p.i
			if p.i >= len(p.d) || p.d[p.i] != '"' {
				return b, errNotSpliceable
			}
			end := p.i + 1
			for end < len(p.d) && p.d[end] != '"' {
				if c := p.d[end]; c == '\\' || c >= utf8.RuneSelf {
					return b, errNotSpliceable
				}
				end++
			}
			key := p.d[p.i+1 : end]
			p.i = end + 1
			p.ws()
			if p.i >= len(p.d) || p.d[p.i] != ':' {
				return b, errNotSpliceable
			}
			p.i++
			if !p.skip(1) {
				return b, errNotSpliceable
			}
			if !slices.ContainsFunc(ops, func(o op) bool { return o.key == key }) {
				if !first {
					b = append(b, ',')
				}
				b = append(b, p.d[start:p.i]...)
				first = false
			}
			done, err := p.next('}')
			if err != nil {
				return b, errNotSpliceable
			}
			if done {
				break
			}
		}
	}
	for i, o := range ops {
		if slices.ContainsFunc(ops[:i], func(x op) bool { return x.key == o.key }) {
			continue // written with its first op
		}
		last := o
		for _, x := range ops[i+1:] {
			if x.key == o.key {
				last = x
			}
		}
		if last.kind == opDelete {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		b = appendString(b, o.key)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, last.val, 1); err != nil {
			return b, err
		}
		first = false
	}
	return append(b, '}'), nil
}
