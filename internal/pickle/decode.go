package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned by the decoder; test them with errors.Is. The returned
// error wraps one of them and says where in the input the problem was.
var (
	// ErrTruncated: the input ended early, or a length field points past
	// its end.
	ErrTruncated = errors.New("pickle: data truncated")
	// ErrTooLarge: a limit on input size, container length, total elements,
	// memo size or integer size was exceeded.
	ErrTooLarge = errors.New("pickle: value too large")
	// ErrTooDeep: marks or containers are nested deeper than allowed.
	ErrTooDeep = errors.New("pickle: nesting too deep")
	// ErrUnsupported: an opcode or construct that this data-only decoder
	// refuses (persistent ids, extension registry, out-of-band buffers,
	// calling something that is not a class).
	ErrUnsupported = errors.New("pickle: unsupported construct")
	// ErrMalformed: the opcodes do not make a valid pickle.
	ErrMalformed = errors.New("pickle: malformed data")
	// ErrCycle: a container contains itself.
	ErrCycle = errors.New("pickle: value contains itself")
	// ErrNotMapping: UnmarshalMap found a root that is not a dict.
	ErrNotMapping = errors.New("pickle: root value is not a dict")
)

// Limits bound the work and memory a decode may use. A zero field takes the
// value from DefaultLimits.
//
// The element budget is what bounds the cost of hostile input. One decode
// of n bytes spends at most min(MaxElements, ElementsPerByte*n + 65536)
// elements, and every step is charged before it is done: a value created
// or pushed again (GET, DUP), a memo entry (4 for an index out of order,
// which pickle.dumps never writes), each item that a copy or a
// construction adds (BUILD with a dict state, dict(D), sdict, set(x),
// copyreg._reconstructor, ...), a call level, and each node of the result
// as a tree (a value shared through the memo counts once per place it
// appears; a string, bytes or class name counts one more per 16 bytes, an
// integer beyond 64 bits one more per byte), and a named zone that is not cached yet (1024: it is a file
// read). Memory and time therefore grow linearly with the input, with a
// fixed bound on top (see the package documentation for the bounds, and
// BenchmarkHostile for the measured constants).
//
// The default of 2^17 elements is some four times what the largest real
// session values we know of spend (pendulum's zone tables, 91 kB, spend
// 32k); a program that decodes larger values raises MaxElements, and the
// time bound with it.
type Limits struct {
	MaxInput        int // bytes of input
	MaxDepth        int // nested marks, call levels, and nesting of containers in the result
	MaxContainerLen int // items in one list, tuple, set or dict
	MaxElements     int // elements spent in one decode, whatever the input size (also the stack length; default 2^17)
	ElementsPerByte int // elements per input byte, on top of 65536 (default 4)
	MaxMemo         int // memo entries
	MaxIntDigits    int // decimal digits of an integer (CPython's default limit is 4300)
}

// baseElements is the part of the element budget that does not grow with
// the input.
const baseElements = 1 << 16

// DefaultLimits returns the limits used for zero fields: generous for any
// real session, small enough that hostile input fails fast.
func DefaultLimits() Limits {
	return Limits{
		MaxInput:        16 << 20,
		MaxDepth:        200,
		MaxContainerLen: 1 << 20,
		MaxElements:     1 << 17,
		ElementsPerByte: 4,
		MaxMemo:         1 << 20,
		MaxIntDigits:    4300,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxInput <= 0 {
		l.MaxInput = d.MaxInput
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxContainerLen <= 0 {
		l.MaxContainerLen = d.MaxContainerLen
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	if l.ElementsPerByte <= 0 {
		l.ElementsPerByte = d.ElementsPerByte
	}
	if l.MaxMemo <= 0 {
		l.MaxMemo = d.MaxMemo
	}
	if l.MaxIntDigits <= 0 {
		l.MaxIntDigits = d.MaxIntDigits
	}
	return l
}

// Decoder decodes pickles with the given limits. The zero value uses
// DefaultLimits. A Decoder is safe for concurrent use.
type Decoder struct {
	Limits Limits
}

// Unmarshal decodes a pickle with the default limits. See Decoder.Decode.
func Unmarshal(data []byte) (any, error) { return Decoder{}.Decode(data) }

// UnmarshalMap decodes a pickle whose root is a dict (such as a weppy or
// Emmett session) with the default limits.
func UnmarshalMap(data []byte) (map[string]any, error) { return Decoder{}.DecodeMap(data) }

// DecodeMap is Decode for a pickle whose root must be a dict (or a dict
// subclass such as sdict); anything else is ErrNotMapping.
func (dec Decoder) DecodeMap(data []byte) (map[string]any, error) {
	v, err := dec.Decode(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w (got %T)", ErrNotMapping, v)
	}
	return m, nil
}

// Decode reads one pickle (protocols 0 to 5) from the start of data and
// returns its value. Bytes after the STOP opcode are ignored, as Python's
// pickle.loads ignores them.
//
// Nothing named in the pickle is imported or run. Values are:
//
//	None                          nil
//	bool                          bool
//	int                           int64, or *big.Int beyond 64 bits
//	float                         float64
//	str                           string
//	bytes, bytearray              []byte
//	Python 2 str (STRING opcodes) string when valid UTF-8, else []byte
//	list, tuple, set, frozenset   []any
//	dict, sdict, dict subclasses  map[string]any
//	datetime.datetime/date/time   DateTime (also pendulum's DateTime, Date, Time;
//	                              with the offset of a fixed, pytz, zoneinfo or
//	                              pendulum zone, see FORMATS.md 1a)
//	datetime.timedelta            Duration (also pendulum's Duration)
//	uuid.UUID                     string (canonical 8-4-4-4-12 form)
//	other instances               Object
//	a class or function itself    Global
//
// Dict keys that are not strings are rendered as Python's repr() would
// print them (1 -> "1", None -> "None", True -> "True", (1, 2) -> "(1, 2)",
// b'x' -> "b'x'"); when two keys render alike, the later one wins.
func (dec Decoder) Decode(data []byte) (any, error) {
	v, _, err := dec.decode(data)
	return v, err
}

// decode is Decode that also returns the elements the decode spent (all of
// the budget when it ran out).
func (dec Decoder) decode(data []byte) (any, int, error) {
	lim := dec.Limits.withDefaults()
	if len(data) > lim.MaxInput {
		return nil, 0, fmt.Errorf("%w: input is %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxInput)
	}
	b := &budget{left: lim.budget(len(data))}
	b.limit = b.left
	spent := func() int { return b.limit - b.left }
	d := &decoder{lim: lim, data: data, budget: b}
	root, err := d.run()
	if err != nil {
		return nil, spent(), err
	}
	c := &converter{lim: lim, budget: b}
	size, _, err := c.measure(root, 0)
	if err != nil {
		return nil, spent(), err
	}
	if err := b.spend(size); err != nil {
		return nil, spent(), fmt.Errorf("%w (the result)", err)
	}
	v, err := c.convert(root, 0)
	return v, spent(), err
}

// budget returns the number of elements a decode of n input bytes may
// spend (see Limits).
func (l Limits) budget(n int) int {
	per := int64(l.ElementsPerByte)*int64(n) + baseElements
	if per > int64(l.MaxElements) {
		return l.MaxElements
	}
	return int(per)
}

// budget is the element budget of one decode, shared by the opcodes and
// the conversion of the result.
type budget struct {
	left, limit int
}

func (b *budget) spend(n int) error {
	if n < 0 || n > b.left {
		b.left = 0
		return fmt.Errorf("%w: needs more than %d elements", ErrTooLarge, b.limit)
	}
	b.left -= n
	return nil
}

// byteCost is what a string, bytes or integer of n bytes costs in elements.
func byteCost(n int) int { return 1 + n/16 }

// Internal mutable containers used while the opcodes run. They are pointers
// so the memo and the stack share them, and they are turned into the public
// value model at the end.
type (
	pList struct {
		node
		items []any
	}
	pTuple struct {
		node
		items []any
	}
	pSet struct {
		node
		items []any
	}
	pDict struct {
		node
		keys, vals []any
	}
	pObj struct {
		node
		class    string
		args     []any
		state    any
		items    *pDict // SETITEM(S) on a dict subclass
		list     *pList // APPEND(S) on a list subclass
		dictLike bool
	}
)

type decoder struct {
	lim   Limits
	data  []byte
	pos   int
	op    byte
	opPos int
	stack []any
	marks []int
	memo  memoTable
	*budget
	calls int                       // nesting of make (copyreg.__newobj__ and the like)
	zones map[string]*time.Location // the named zones this decode has used
}

// charge spends n elements of the budget before work that creates them.
func (d *decoder) charge(n int) error {
	if err := d.spend(n); err != nil {
		return d.errf(ErrTooLarge, "budget of %d elements spent", d.limit)
	}
	return nil
}

func (d *decoder) errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: opcode %s at offset %d: %s", sentinel, opName(d.op), d.opPos, fmt.Sprintf(format, args...))
}

func opName(op byte) string {
	if op >= 0x20 && op < 0x7f {
		return strconv.QuoteRune(rune(op))
	}
	return fmt.Sprintf("0x%02x", op)
}

func (d *decoder) read(n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.pos) {
		return nil, d.errf(ErrTruncated, "needs %d bytes, %d left", n, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

func (d *decoder) readLine() ([]byte, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return nil, d.errf(ErrTruncated, "line not terminated")
	}
	b := d.data[d.pos : d.pos+i]
	d.pos += i + 1
	return b, nil
}

func (d *decoder) readUint(n int) (uint64, error) {
	b, err := d.read(uint64(n))
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// push adds a value to the stack, new or already existing elsewhere (GET,
// DUP): one element.
func (d *decoder) push(v any) error {
	if err := d.charge(1); err != nil {
		return err
	}
	if len(d.stack) >= d.lim.MaxElements {
		return d.errf(ErrTooLarge, "stack longer than %d", d.lim.MaxElements)
	}
	if len(d.stack) == cap(d.stack) {
		// Double, where append grows a long slice by a quarter: a flood
		// of pushes copies the stack about twice rather than five times.
		d.stack = append(make([]any, 0, max(2*cap(d.stack), 64)), d.stack...)
	}
	d.stack = append(d.stack, v)
	return nil
}

func (d *decoder) base() int {
	if len(d.marks) == 0 {
		return 0
	}
	return d.marks[len(d.marks)-1]
}

func (d *decoder) pop() (any, error) {
	if len(d.stack) <= d.base() {
		return nil, d.errf(ErrMalformed, "stack underflow")
	}
	v := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	return v, nil
}

func (d *decoder) top() (any, error) {
	if len(d.stack) <= d.base() {
		return nil, d.errf(ErrMalformed, "stack underflow")
	}
	return d.stack[len(d.stack)-1], nil
}

// popMark returns the items above the last mark (a fresh slice) and removes
// them and the mark.
func (d *decoder) popMark() ([]any, error) {
	if len(d.marks) == 0 {
		return nil, d.errf(ErrMalformed, "no mark on the stack")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	items := make([]any, len(d.stack)-m)
	copy(items, d.stack[m:])
	clear(d.stack[m:])
	d.stack = d.stack[:m]
	if len(items) > d.lim.MaxContainerLen {
		return nil, d.errf(ErrTooLarge, "%d items, limit %d", len(items), d.lim.MaxContainerLen)
	}
	return items, nil
}

func (d *decoder) popN(n int) ([]any, error) {
	if len(d.stack)-d.base() < n {
		return nil, d.errf(ErrMalformed, "stack underflow")
	}
	items := make([]any, n)
	copy(items, d.stack[len(d.stack)-n:])
	d.stack = d.stack[:len(d.stack)-n]
	return items, nil
}

func (d *decoder) checkLen(n int) error {
	if n > d.lim.MaxContainerLen {
		return d.errf(ErrTooLarge, "container of %d items, limit %d", n, d.lim.MaxContainerLen)
	}
	return nil
}

// sparseMemoCost is what a memo entry out of order costs in elements: it
// goes into a map, several times slower than the slice that holds the
// indices pickle.dumps writes (0, 1, 2, ...).
const sparseMemoCost = 4

func (d *decoder) memoPut(idx uint64, v any) error {
	if _, ok := d.memo.get(idx); !ok {
		if d.memo.n >= d.lim.MaxMemo {
			return d.errf(ErrTooLarge, "memo larger than %d", d.lim.MaxMemo)
		}
		cost := 1
		if idx > uint64(len(d.memo.dense)) {
			cost = sparseMemoCost
		}
		if err := d.charge(cost); err != nil {
			return err
		}
	}
	d.memo.put(idx, v)
	return nil
}

// memoTable is the unpickler's memo: a slice for the dense indices that
// pickle.dumps writes (0, 1, 2, ...), a map for any others.
type memoTable struct {
	dense  []memoSlot
	sparse map[uint64]any
	n      int // entries
}

type memoSlot struct {
	v  any
	ok bool
}

func (m *memoTable) get(idx uint64) (any, bool) {
	if idx < uint64(len(m.dense)) {
		return m.dense[idx].v, m.dense[idx].ok
	}
	v, ok := m.sparse[idx]
	return v, ok
}

func (m *memoTable) put(idx uint64, v any) {
	switch {
	case idx < uint64(len(m.dense)):
		if !m.dense[idx].ok {
			m.n++
		}
		m.dense[idx] = memoSlot{v, true}
		return
	case idx == uint64(len(m.dense)):
		// The slice now covers idx: a value put there earlier moves over.
		if _, ok := m.sparse[idx]; ok {
			delete(m.sparse, idx)
		} else {
			m.n++
		}
		if len(m.dense) == cap(m.dense) {
			m.dense = append(make([]memoSlot, 0, max(2*cap(m.dense), 16)), m.dense...)
		}
		m.dense = append(m.dense, memoSlot{v, true})
		return
	}
	if _, ok := m.sparse[idx]; !ok {
		m.n++
	}
	if m.sparse == nil {
		m.sparse = make(map[uint64]any)
	}
	m.sparse[idx] = v
}

func (d *decoder) run() (any, error) {
	for {
		if d.pos >= len(d.data) {
			d.opPos = d.pos
			return nil, d.errf(ErrTruncated, "no STOP opcode")
		}
		d.opPos = d.pos
		d.op = d.data[d.pos]
		d.pos++
		done, err := d.step()
		if err != nil {
			return nil, err
		}
		if done {
			v, err := d.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	}
}

func (d *decoder) step() (stop bool, err error) {
	switch d.op {
	case '.': // STOP
		return true, nil
	case '(': // MARK
		if len(d.marks) >= d.lim.MaxDepth {
			return false, d.errf(ErrTooDeep, "more than %d nested marks", d.lim.MaxDepth)
		}
		d.marks = append(d.marks, len(d.stack))
	case '0': // POP
		if len(d.marks) > 0 && len(d.stack) == d.base() {
			_, err = d.popMark()
		} else {
			_, err = d.pop()
		}
	case '1': // POP_MARK
		_, err = d.popMark()
	case '2': // DUP
		var v any
		if v, err = d.top(); err == nil {
			err = d.push(v)
		}
	case 0x80: // PROTO
		var b []byte
		if b, err = d.read(1); err == nil && b[0] > 5 {
			err = d.errf(ErrUnsupported, "protocol %d", b[0])
		}
	case 0x95: // FRAME: the length must fit in what is left; contents are read as usual
		var n uint64
		if n, err = d.readUint(8); err == nil && n > uint64(len(d.data)-d.pos) {
			err = d.errf(ErrTruncated, "frame of %d bytes, %d left", n, len(d.data)-d.pos)
		}
	case 'N':
		err = d.push(nil)
	case 0x88:
		err = d.push(true)
	case 0x89:
		err = d.push(false)
	case 'I': // INT (also protocol 0 True/False)
		err = d.opIntLine(false)
	case 'L': // LONG
		err = d.opIntLine(true)
	case 'J': // BININT
		var n uint64
		if n, err = d.readUint(4); err == nil {
			err = d.push(int64(int32(uint32(n))))
		}
	case 'K': // BININT1
		var n uint64
		if n, err = d.readUint(1); err == nil {
			err = d.push(int64(n))
		}
	case 'M': // BININT2
		var n uint64
		if n, err = d.readUint(2); err == nil {
			err = d.push(int64(n))
		}
	case 0x8a: // LONG1
		var n uint64
		if n, err = d.readUint(1); err == nil {
			err = d.opLong(n)
		}
	case 0x8b: // LONG4
		var n uint64
		if n, err = d.readUint(4); err == nil {
			if int32(uint32(n)) < 0 {
				return false, d.errf(ErrMalformed, "negative length")
			}
			err = d.opLong(n)
		}
	case 'F': // FLOAT
		var line []byte
		if line, err = d.readLine(); err == nil {
			var f float64
			f, err = strconv.ParseFloat(strings.TrimSpace(string(line)), 64)
			if err != nil {
				return false, d.errf(ErrMalformed, "bad float")
			}
			err = d.push(f)
		}
	case 'G': // BINFLOAT
		var b []byte
		if b, err = d.read(8); err == nil {
			err = d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		}
	case 'S': // STRING
		err = d.opString()
	case 'T': // BINSTRING
		err = d.opCounted(4, true, pyStr)
	case 'U': // SHORT_BINSTRING
		err = d.opCounted(1, false, pyStr)
	case 'V': // UNICODE
		var line []byte
		if line, err = d.readLine(); err == nil {
			var s string
			if s, err = d.rawUnicodeEscape(line); err == nil {
				err = d.push(s)
			}
		}
	case 'X': // BINUNICODE
		err = d.opCounted(4, false, pyUnicode)
	case 0x8c: // SHORT_BINUNICODE
		err = d.opCounted(1, false, pyUnicode)
	case 0x8d: // BINUNICODE8
		err = d.opCounted(8, false, pyUnicode)
	case 'B': // BINBYTES
		err = d.opCounted(4, false, pyBytes)
	case 'C': // SHORT_BINBYTES
		err = d.opCounted(1, false, pyBytes)
	case 0x8e: // BINBYTES8
		err = d.opCounted(8, false, pyBytes)
	case 0x96: // BYTEARRAY8
		err = d.opCounted(8, false, pyBytes)
	case ']':
		err = d.push(&pList{})
	case ')':
		err = d.push(&pTuple{})
	case '}':
		err = d.push(&pDict{})
	case 0x8f: // EMPTY_SET
		err = d.push(&pSet{})
	case 'l': // LIST
		var items []any
		if items, err = d.popMark(); err == nil {
			err = d.push(&pList{items: items})
		}
	case 't': // TUPLE
		var items []any
		if items, err = d.popMark(); err == nil {
			err = d.push(&pTuple{items: items})
		}
	case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
		var items []any
		if items, err = d.popN(int(d.op-0x85) + 1); err == nil {
			err = d.push(&pTuple{items: items})
		}
	case 0x91: // FROZENSET
		var items []any
		if items, err = d.popMark(); err == nil {
			err = d.push(&pSet{items: items})
		}
	case 'd': // DICT
		var items []any
		if items, err = d.popMark(); err == nil {
			dict := &pDict{}
			if err = d.setItems(dict, items); err == nil {
				err = d.push(dict)
			}
		}
	case 'a': // APPEND
		var v, target any
		if v, err = d.pop(); err == nil {
			if target, err = d.top(); err == nil {
				err = d.appendItems(target, []any{v})
			}
		}
	case 'e': // APPENDS
		var items []any
		var target any
		if items, err = d.popMark(); err == nil {
			if target, err = d.top(); err == nil {
				err = d.appendItems(target, items)
			}
		}
	case 's': // SETITEM
		var kv []any
		var target any
		if kv, err = d.popN(2); err == nil {
			if target, err = d.top(); err == nil {
				err = d.setItems(target, kv)
			}
		}
	case 'u': // SETITEMS
		var items []any
		var target any
		if items, err = d.popMark(); err == nil {
			if target, err = d.top(); err == nil {
				err = d.setItems(target, items)
			}
		}
	case 0x90: // ADDITEMS
		var items []any
		var target any
		if items, err = d.popMark(); err == nil {
			if target, err = d.top(); err == nil {
				s, ok := target.(*pSet)
				if !ok {
					return false, d.errf(ErrMalformed, "ADDITEMS on %s", typeName(target))
				}
				if err = d.checkLen(len(s.items) + len(items)); err == nil {
					s.items = append(s.items, items...)
				}
			}
		}
	case 'p': // PUT
		var line []byte
		if line, err = d.readLine(); err == nil {
			var idx uint64
			if idx, err = d.parseIndex(line); err == nil {
				var v any
				if v, err = d.top(); err == nil {
					err = d.memoPut(idx, v)
				}
			}
		}
	case 'q', 'r': // BINPUT, LONG_BINPUT
		var idx uint64
		if idx, err = d.readUint(argSize(d.op)); err == nil {
			var v any
			if v, err = d.top(); err == nil {
				err = d.memoPut(idx, v)
			}
		}
	case 0x94: // MEMOIZE
		var v any
		if v, err = d.top(); err == nil {
			err = d.memoPut(uint64(d.memo.n), v)
		}
	case 'g': // GET
		var line []byte
		if line, err = d.readLine(); err == nil {
			var idx uint64
			if idx, err = d.parseIndex(line); err == nil {
				err = d.get(idx)
			}
		}
	case 'h', 'j': // BINGET, LONG_BINGET
		var idx uint64
		if idx, err = d.readUint(argSize(d.op)); err == nil {
			err = d.get(idx)
		}
	case 'c': // GLOBAL
		var mod, name []byte
		if mod, err = d.readLine(); err == nil {
			if name, err = d.readLine(); err == nil {
				err = d.push(newGlobal(string(mod), string(name)))
			}
		}
	case 0x93: // STACK_GLOBAL
		var mn []any
		if mn, err = d.popN(2); err == nil {
			mod, ok1 := mn[0].(string)
			name, ok2 := mn[1].(string)
			if !ok1 || !ok2 {
				return false, d.errf(ErrMalformed, "STACK_GLOBAL needs two strings")
			}
			err = d.push(newGlobal(mod, name))
		}
	case 'R': // REDUCE
		var fa []any
		if fa, err = d.popN(2); err == nil {
			var args []any
			if args, err = d.tupleItems(fa[1]); err == nil {
				err = d.construct(fa[0], args)
			}
		}
	case 0x81: // NEWOBJ
		var ca []any
		if ca, err = d.popN(2); err == nil {
			var args []any
			if args, err = d.tupleItems(ca[1]); err == nil {
				err = d.construct(ca[0], args)
			}
		}
	case 0x92: // NEWOBJ_EX (keyword arguments are dropped)
		var cak []any
		if cak, err = d.popN(3); err == nil {
			var args []any
			if args, err = d.tupleItems(cak[1]); err == nil {
				err = d.construct(cak[0], args)
			}
		}
	case 'i': // INST
		var mod, name []byte
		if mod, err = d.readLine(); err == nil {
			if name, err = d.readLine(); err == nil {
				var args []any
				if args, err = d.popMark(); err == nil {
					err = d.construct(newGlobal(string(mod), string(name)), args)
				}
			}
		}
	case 'o': // OBJ
		var items []any
		if items, err = d.popMark(); err == nil {
			if len(items) == 0 {
				return false, d.errf(ErrMalformed, "OBJ without a class")
			}
			err = d.construct(items[0], items[1:])
		}
	case 'b': // BUILD
		var state, inst any
		if state, err = d.pop(); err == nil {
			if inst, err = d.top(); err == nil {
				err = d.build(inst, state)
			}
		}
	case 0x98: // READONLY_BUFFER: a no-op on in-band bytes
		var v any
		if v, err = d.top(); err == nil {
			if _, ok := v.([]byte); !ok {
				err = d.errf(ErrUnsupported, "out-of-band buffer")
			}
		}
	case 'P', 'Q':
		err = d.errf(ErrUnsupported, "persistent ids are not supported")
	case 0x82, 0x83, 0x84:
		err = d.errf(ErrUnsupported, "the extension registry is not supported")
	case 0x97:
		err = d.errf(ErrUnsupported, "out-of-band buffers are not supported")
	default:
		err = d.errf(ErrMalformed, "unknown opcode")
	}
	return false, err
}

// argSize is the width of the memo index of BINPUT/BINGET (1) and
// LONG_BINPUT/LONG_BINGET (4).
func argSize(op byte) int {
	if op == 'q' || op == 'h' {
		return 1
	}
	return 4
}

func (d *decoder) get(idx uint64) error {
	v, ok := d.memo.get(idx)
	if !ok {
		return d.errf(ErrMalformed, "memo key %d not found", idx)
	}
	return d.push(v)
}

func (d *decoder) parseIndex(line []byte) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(string(line)), 10, 32)
	if err != nil {
		return 0, d.errf(ErrMalformed, "bad memo index")
	}
	return n, nil
}

func (d *decoder) tupleItems(v any) ([]any, error) {
	switch t := v.(type) {
	case *pTuple:
		return t.items, nil
	case *pList:
		return t.items, nil
	}
	return nil, d.errf(ErrMalformed, "arguments are a %s, not a tuple", typeName(v))
}

type strKind int

const (
	pyStr strKind = iota
	pyUnicode
	pyBytes
)

// opCounted reads a length-prefixed string. The length is checked against
// what is left of the input before anything is allocated.
func (d *decoder) opCounted(size int, signed bool, kind strKind) error {
	n, err := d.readUint(size)
	if err != nil {
		return err
	}
	if signed && int32(uint32(n)) < 0 {
		return d.errf(ErrMalformed, "negative length")
	}
	b, err := d.read(n)
	if err != nil {
		return err
	}
	switch kind {
	case pyUnicode:
		return d.push(string(b))
	case pyBytes:
		return d.push(append([]byte{}, b...))
	}
	return d.push(py2Str(b))
}

// py2Str maps a Python 2 str (bytes) to a string when it is valid UTF-8.
func py2Str(b []byte) any {
	if utf8.Valid(b) {
		return string(b)
	}
	return append([]byte{}, b...)
}

func (d *decoder) opString() error {
	line, err := d.readLine()
	if err != nil {
		return err
	}
	line = []byte(strings.TrimRight(string(line), "\r"))
	if len(line) < 2 || line[0] != line[len(line)-1] || (line[0] != '\'' && line[0] != '"') {
		return d.errf(ErrMalformed, "STRING argument must be quoted")
	}
	b, err := escapeDecode(line[1 : len(line)-1])
	if err != nil {
		return d.errf(ErrMalformed, "%v", err)
	}
	return d.push(py2Str(b))
}

// escapeDecode undoes Python's string_escape (codecs.escape_decode).
func escapeDecode(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("trailing backslash in string")
		}
		c = s[i]
		switch c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New("truncated \\x escape")
			}
			v, err := strconv.ParseUint(string(s[i+1:i+3]), 16, 8)
			if err != nil {
				return nil, errors.New("bad \\x escape")
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape: bytes are Latin-1
// code points, and \uXXXX / \UXXXXXXXX are escapes when preceded by an odd
// number of backslashes.
func (d *decoder) rawUnicodeEscape(b []byte) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(b); {
		if b[i] != '\\' {
			sb.WriteRune(rune(b[i]))
			i++
			continue
		}
		start := i
		for i < len(b) && b[i] == '\\' {
			i++
		}
		n := i - start
		if n%2 == 0 || i >= len(b) || (b[i] != 'u' && b[i] != 'U') {
			sb.WriteString(strings.Repeat("\\", n))
			continue
		}
		sb.WriteString(strings.Repeat("\\", n-1))
		width := 4
		if b[i] == 'U' {
			width = 8
		}
		if i+1+width > len(b) {
			return "", d.errf(ErrMalformed, "truncated \\u escape")
		}
		v, err := strconv.ParseUint(string(b[i+1:i+1+width]), 16, 32)
		if err != nil || v > unicode_max {
			return "", d.errf(ErrMalformed, "bad \\u escape")
		}
		sb.WriteRune(rune(v))
		i += 1 + width
	}
	return sb.String(), nil
}

const unicode_max = 0x10FFFF

func (d *decoder) opIntLine(long bool) error {
	line, err := d.readLine()
	if err != nil {
		return err
	}
	s := strings.TrimSpace(string(line))
	if !long {
		switch s {
		case "00":
			return d.push(false)
		case "01":
			return d.push(true)
		}
	}
	s = strings.TrimSuffix(s, "L")
	digits := len(strings.TrimLeft(s, "+-"))
	if digits > d.lim.MaxIntDigits {
		return d.errf(ErrTooLarge, "integer of %d digits, limit %d", digits, d.lim.MaxIntDigits)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return d.push(n)
	}
	z, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return d.errf(ErrMalformed, "bad integer")
	}
	return d.push(z)
}

// opLong reads an n-byte little-endian two's complement integer.
func (d *decoder) opLong(n uint64) error {
	// log2(10)/8 bytes per digit: n bytes have about n*2.41 digits.
	if n > uint64(d.lim.MaxIntDigits)*10/24+1 {
		if n > uint64(len(d.data)-d.pos) {
			return d.errf(ErrTruncated, "needs %d bytes, %d left", n, len(d.data)-d.pos)
		}
		return d.errf(ErrTooLarge, "integer of %d bytes", n)
	}
	b, err := d.read(n)
	if err != nil {
		return err
	}
	return d.push(decodeLong(b))
}

func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var buf [8]byte
		copy(buf[:], b)
		if b[len(b)-1]&0x80 != 0 {
			for i := len(b); i < 8; i++ {
				buf[i] = 0xff
			}
		}
		return int64(binary.LittleEndian.Uint64(buf[:]))
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	z := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		z.Sub(z, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if z.IsInt64() {
		return z.Int64()
	}
	return z
}

func (d *decoder) appendItems(target any, items []any) error {
	switch t := target.(type) {
	case *pList:
		if err := d.checkLen(len(t.items) + len(items)); err != nil {
			return err
		}
		t.items = append(t.items, items...)
	case *pObj:
		if t.list == nil {
			t.list = &pList{}
		}
		return d.appendItems(t.list, items)
	case *pSet: // Python calls .add-like extend on sets through APPENDS only for subclasses; accept
		if err := d.checkLen(len(t.items) + len(items)); err != nil {
			return err
		}
		t.items = append(t.items, items...)
	default:
		return d.errf(ErrMalformed, "append to %s", typeName(target))
	}
	return nil
}

func (d *decoder) setItems(target any, kv []any) error {
	if len(kv)%2 != 0 {
		return d.errf(ErrMalformed, "odd number of items for a dict")
	}
	switch t := target.(type) {
	case *pDict:
		if err := d.checkLen(len(t.keys) + len(kv)/2); err != nil {
			return err
		}
		t.keys = slices.Grow(t.keys, len(kv)/2)
		t.vals = slices.Grow(t.vals, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			t.keys = append(t.keys, kv[i])
			t.vals = append(t.vals, kv[i+1])
		}
	case *pObj:
		if t.items == nil {
			t.items = &pDict{}
		}
		return d.setItems(t.items, kv)
	default:
		return d.errf(ErrMalformed, "set item on %s", typeName(target))
	}
	return nil
}

func (d *decoder) build(inst, state any) error {
	switch t := inst.(type) {
	case *pObj:
		if st, ok := state.(*pTuple); ok && len(st.items) == 2 {
			// (dict state, slot state): Python applies both.
			merged := &pDict{}
			for _, part := range st.items {
				if pd, ok := part.(*pDict); ok {
					if err := d.copyDict(merged, pd); err != nil {
						return err
					}
				}
			}
			state = merged
		}
		sd, isDict := state.(*pDict)
		switch {
		case t.dictLike && isDict:
			if t.items == nil {
				t.items = &pDict{}
			}
			return d.copyDict(t.items, sd)
		case isDict && t.state != nil:
			if old, ok := t.state.(*pDict); ok {
				return d.copyDict(old, sd)
			}
			t.state = state
		default:
			t.state = state
		}
	case *pDict:
		sd, ok := state.(*pDict)
		if !ok {
			return d.errf(ErrMalformed, "BUILD of a dict with a %s", typeName(state))
		}
		return d.copyDict(t, sd)
	default:
		if state == nil {
			return nil
		}
		return d.errf(ErrMalformed, "BUILD on %s", typeName(inst))
	}
	return nil
}

// copyDict adds the items of src to dst (dst may be src: the items are
// then doubled, as Python's d.update(d) would not, but the result keeps the
// last of equal keys either way). Each item is charged before it is copied.
func (d *decoder) copyDict(dst, src *pDict) error {
	n := len(src.keys)
	if err := d.charge(n); err != nil {
		return err
	}
	if err := d.checkLen(len(dst.keys) + n); err != nil {
		return err
	}
	keys, vals := src.keys[:n:n], src.vals[:n:n]
	dst.keys = append(dst.keys, keys...)
	dst.vals = append(dst.vals, vals...)
	return nil
}

// copyItems returns a copy of items, charged before it is made.
func (d *decoder) copyItems(items []any) ([]any, error) {
	if err := d.charge(len(items)); err != nil {
		return nil, err
	}
	if err := d.checkLen(len(items)); err != nil {
		return nil, err
	}
	return append([]any(nil), items...), nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case *pList:
		return "list"
	case *pTuple:
		return "tuple"
	case *pDict:
		return "dict"
	case *pSet:
		return "set"
	case *pObj:
		return "object"
	case Global:
		return "class"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case DateTime:
		return "datetime"
	case Duration:
		return "timedelta"
	}
	return fmt.Sprintf("%T", v)
}
