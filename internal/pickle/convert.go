package pickle

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// converter turns the decoder's internal containers into the public value
// model. It walks the graph as a tree, so it is where cycles are found and
// where a value shared many times through the memo is paid for each time:
// measure charges the whole tree to the decode's budget before convert
// builds any of it.
type converter struct {
	lim Limits
	*budget
	nodes int
	// keys holds the rendering of each dict key that is not a string and
	// is comparable: a key shared through the memo (a tuple, a big
	// integer, a float) is rendered once however often it is used.
	keys map[any]string
}

// node is what measure keeps on each internal container: its cost as a
// tree (0 until measured), the height of that tree, and whether the walk
// is inside it (a container met again while inside it contains itself).
type node struct {
	size, height int
	active       bool
}

func nodeOf(v any) *node {
	switch t := v.(type) {
	case *pList:
		return &t.node
	case *pTuple:
		return &t.node
	case *pSet:
		return &t.node
	case *pDict:
		return &t.node
	case *pObj:
		return &t.node
	}
	return nil
}

// measure computes what v costs as a tree (one element a node, and one
// more per 16 bytes of a string, bytes or class name, per byte of an
// integer beyond 64 bits), visiting each shared
// container once, so that a small pickle that expands exponentially is
// refused before anything is built. It also finds cycles and nesting
// deeper than MaxDepth (also where a shared container is met again deeper
// down). The total never exceeds what is left of the budget. It returns
// the cost and the height of v's tree.
// bigIntCost is what an integer beyond 64 bits costs in the result: one
// element and one per byte, as rendering it in decimal (in a dict key, or
// by whoever prints the result) takes some 50 ns a byte at 4300 digits.
func bigIntCost(z *big.Int) int { return 1 + (z.BitLen()+7)/8 }

func (c *converter) measure(v any, depth int) (int, int, error) {
	switch t := v.(type) {
	case string:
		return byteCost(len(t)), 0, nil
	case []byte:
		return byteCost(len(t)), 0, nil
	case *big.Int:
		return bigIntCost(t), 0, nil
	case Global: // rendered, hashed and compared when it is a dict key
		return nameCost(t), 0, nil
	}
	n := nodeOf(v)
	if n == nil {
		return 1, 0, nil
	}
	if depth > c.lim.MaxDepth || (n.size > 0 && depth+n.height > c.lim.MaxDepth) {
		return 0, 0, fmt.Errorf("%w: containers nested more than %d deep", ErrTooDeep, c.lim.MaxDepth)
	}
	if n.active {
		return 0, 0, fmt.Errorf("%w: a %s contains itself", ErrCycle, typeName(v))
	}
	if n.size > 0 {
		return n.size, n.height, nil
	}
	n.active = true
	defer func() { n.active = false }()
	total, height := 1, 0
	add := func(k any) error {
		size, h, err := c.measure(k, depth+1)
		if err != nil {
			return err
		}
		total += size
		height = max(height, h+1)
		if total > c.left {
			return fmt.Errorf("%w: result needs more than %d elements", ErrTooLarge, c.limit)
		}
		return nil
	}
	var kids [4][]any
	switch t := v.(type) {
	case *pList:
		kids[0] = t.items
	case *pTuple:
		kids[0] = t.items
	case *pSet:
		kids[0] = t.items
	case *pDict:
		kids[0], kids[1] = t.keys, t.vals
	case *pObj:
		kids[0] = t.args
		if t.state != nil {
			kids[1] = []any{t.state}
		}
		if t.items != nil {
			kids[2] = []any{t.items}
		}
		if t.list != nil {
			kids[3] = []any{t.list}
		}
	}
	for _, ks := range kids {
		for _, k := range ks {
			if err := add(k); err != nil {
				return 0, 0, err
			}
		}
	}
	n.size, n.height = total, height
	return total, height, nil
}

// convert builds the result. measure has charged it to the budget and
// found no cycle and no nesting beyond MaxDepth.
func (c *converter) convert(v any, depth int) (any, error) {
	c.nodes++
	if c.nodes > c.limit {
		return nil, fmt.Errorf("%w: result has more than %d values", ErrTooLarge, c.limit)
	}
	if depth > c.lim.MaxDepth {
		return nil, fmt.Errorf("%w: containers nested more than %d deep", ErrTooDeep, c.lim.MaxDepth)
	}
	switch t := v.(type) {
	case *pList:
		return c.seq(t.items, depth)
	case *pTuple:
		return c.seq(t.items, depth)
	case *pSet:
		return c.seq(t.items, depth)
	case *pDict:
		if len(t.keys) == 0 {
			// A map made without a size hint allocates its table on the
			// first insert: an empty dict costs only the map header.
			return map[string]any{}, nil
		}
		m := make(map[string]any, len(t.keys))
		if err := c.fill(m, t, depth); err != nil {
			return nil, err
		}
		return m, nil
	case *pObj:
		return c.object(t, depth)
	}
	return v, nil
}

func (c *converter) seq(items []any, depth int) (any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		v, err := c.convert(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *converter) fill(m map[string]any, d *pDict, depth int) error {
	for i, k := range d.keys {
		ks, err := c.key(k, depth+1)
		if err != nil {
			return err
		}
		v, err := c.convert(d.vals[i], depth+1)
		if err != nil {
			return err
		}
		m[ks] = v
	}
	return nil
}

func (c *converter) object(o *pObj, depth int) (any, error) {
	if o.items != nil || o.dictLike {
		m := map[string]any{}
		if st, ok := o.state.(*pDict); ok {
			if err := c.fill(m, st, depth); err != nil {
				return nil, err
			}
		}
		if o.items != nil {
			if err := c.fill(m, o.items, depth); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	if o.list != nil && o.state == nil {
		return c.seq(o.list.items, depth)
	}
	if o.class == "uuid.UUID" {
		if st, ok := o.state.(*pDict); ok {
			for i, k := range st.keys {
				if k == "int" {
					if s, ok := uuidString(st.vals[i]); ok {
						return s, nil
					}
				}
			}
		}
	}
	obj := Object{Class: o.class}
	if o.state != nil {
		s, err := c.convert(o.state, depth+1)
		if err != nil {
			return nil, err
		}
		obj.State = s
	}
	if len(o.args) > 0 {
		obj.Args = make([]any, len(o.args))
		for i, a := range o.args {
			v, err := c.convert(a, depth+1)
			if err != nil {
				return nil, err
			}
			obj.Args[i] = v
		}
	}
	return obj, nil
}

func uuidString(v any) (string, bool) {
	var z *big.Int
	switch n := v.(type) {
	case int64:
		if n < 0 {
			return "", false
		}
		z = big.NewInt(n)
	case *big.Int:
		z = n
	default:
		return "", false
	}
	if z.Sign() < 0 || z.BitLen() > 128 {
		return "", false
	}
	h := fmt.Sprintf("%032x", z)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// key renders a dict key as a string: strings as they are, anything else as
// Python's repr() prints it.
func (c *converter) key(k any, depth int) (string, error) {
	cache := true
	switch t := k.(type) {
	case string:
		return t, nil
	case []byte: // not comparable; rendered in time linear in its cost
		cache = false
	case float64:
		cache = t == t // NaN is never equal to itself
	}
	if cache {
		if s, ok := c.keys[k]; ok {
			return s, nil
		}
	}
	v, err := c.convert(k, depth)
	if err != nil {
		return "", err
	}
	s := Repr(v)
	if cache {
		if c.keys == nil {
			c.keys = make(map[any]string)
		}
		c.keys[k] = s
	}
	return s, nil
}

// Repr renders a decoded value roughly as Python's repr() would: used for
// dict keys that are not strings, and handy for one-line previews.
func Repr(v any) string { return string(appendRepr(nil, v)) }

// appendRepr appends Repr(v): without fmt for the values a pickle can
// hold, as a value is rendered for every place it has in a dict key.
func appendRepr(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "None"...)
	case bool:
		if t {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case *big.Int:
		return t.Append(b, 10)
	case float64:
		return append(b, FormatFloat(t)...)
	case string:
		return appendQuote(b, t)
	case []byte:
		return appendQuoteBytes(append(b, 'b'), t)
	case []any:
		b = append(b, '(')
		for i, it := range t {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendRepr(b, it)
		}
		if len(t) == 1 {
			b = append(b, ',')
		}
		return append(b, ')')
	case map[string]any:
		return append(b, "{...}"...)
	case DateTime:
		return t.appendISO(b)
	case Duration:
		return t.appendISO(b)
	case Object:
		b = append(b, t.Class...)
		return append(b, "(...)"...)
	case Global:
		b = append(b, t.Module...)
		b = append(b, '.')
		return append(b, t.Name...)
	}
	return fmt.Append(b, v)
}

const hexDigits = "0123456789abcdef"

// pyQuote quotes s as Python's repr(str) does with single quotes (control
// characters as \xNN, other characters as they are, a byte that is not
// UTF-8 as U+FFFD). It copies runs that
// need no escape at once, so its time is linear in len(s) with a small
// constant.
func pyQuote(s string) string { return string(appendQuote(make([]byte, 0, len(s)+2), s)) }

// appendQuote appends pyQuote(s).
func appendQuote(b []byte, s string) []byte {
	b = append(b, '\'')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			// A valid rune passes as it is; an invalid byte becomes U+FFFD.
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = utf8.AppendRune(b, utf8.RuneError)
				start = i + 1
			}
			i += size
			continue
		}
		i++
		if c >= 0x20 && c != 0x7f && c != '\'' && c != '\\' {
			continue
		}
		b = append(b, s[start:i-1]...)
		b = appendEscape(b, c)
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '\'')
}

// pyQuoteBytes quotes p as Python's repr(bytes) does, without the b
// prefix: bytes outside printable ASCII as \xNN.
func pyQuoteBytes(p []byte) string { return string(appendQuoteBytes(make([]byte, 0, len(p)+2), p)) }

// appendQuoteBytes appends pyQuoteBytes(p).
func appendQuoteBytes(b []byte, p []byte) []byte {
	b = append(b, '\'')
	start := 0
	for i, c := range p {
		if c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' {
			continue
		}
		b = append(b, p[start:i]...)
		b = appendEscape(b, c)
		start = i + 1
	}
	b = append(b, p[start:]...)
	return append(b, '\'')
}

// appendEscape appends c as Python's repr escapes it.
func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '\'', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// FormatFloat formats f as Python's repr(float) does: the shortest digits
// that round-trip, "1.0" rather than "1", exponent form below 1e-4 and from
// 1e16 on, and "inf", "-inf", "nan".
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits * 10^decpt
	if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	}
	return sign + digits[:decpt] + "." + digits[decpt:]
}
