package pickle

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Encoder writes a Go map as a pickle of an sdict, which CPython's
// pickle.loads reads back as the session of an Emmett (or weppy) app.
//
// Values may be: nil, bool, every int and uint type, *big.Int, big.Int,
// float32/64, json.Number (an int when it has integer syntax, else a
// float), string (valid UTF-8), []byte (Python bytes), time.Time (a naive
// datetime with t's wall clock: the zone is dropped), DateTime, maps with
// string keys (nested ones are plain dicts) and slices or arrays (lists).
// Anything else is ErrUnsupported.
type Encoder struct {
	// Module and Class name the root's class; default
	// "emmett.datastructures" and "sdict" (weppy apps use
	// "weppy.datastructures", Emmett 2.6+ and emmett-core apps
	// "emmett_core.datastructures"). Module "builtins" with Class "dict"
	// writes a plain dict root (EMPTY_DICT), which every weppy and Emmett
	// release loads: their session pipes copy the root into their own
	// session class.
	Module, Class string
	// KeyClasses gives root members that are written as a dict subclass
	// instead of a dict: key -> "module.Class", a class whose call without
	// arguments makes an empty mapping that the member's items then fill
	// (e.g. "_csrf" -> "emmett.security.CSRFStorage", whose methods the
	// framework calls). Other members, and members that are not maps, are
	// written as usual. Default: none.
	KeyClasses map[string]string
	// Protocol is 2 or 4 (default 4, what Python 3.8+ writes by default).
	// Protocol 2 writes bytes as _codecs.encode(text, 'latin1'), as CPython does.
	Protocol int
	// MaxDepth bounds nesting (default 200), which also stops cycles.
	MaxDepth int
}

// Marshal encodes values with the default Encoder.
func Marshal(values map[string]any) ([]byte, error) { return Encoder{}.Encode(values) }

// Encode returns the pickle of values as an sdict.
func (e Encoder) Encode(values map[string]any) ([]byte, error) {
	mod, cls := e.Module, e.Class
	if mod == "" {
		mod = "emmett.datastructures"
	}
	if cls == "" {
		cls = "sdict"
	}
	proto := e.Protocol
	if proto == 0 {
		proto = 4
	}
	if proto != 2 && proto != 4 {
		return nil, fmt.Errorf("%w: protocol %d (use 2 or 4)", ErrUnsupported, proto)
	}
	depth := e.MaxDepth
	if depth <= 0 {
		depth = 200
	}
	w := &writer{proto: proto, maxDepth: depth, keyClasses: e.KeyClasses}
	w.b.Write([]byte{0x80, byte(proto)})
	if mod == "builtins" && cls == "dict" {
		w.b.WriteByte('}') // EMPTY_DICT
	} else {
		if err := w.global(mod, cls); err != nil {
			return nil, err
		}
		w.b.WriteString(")\x81") // EMPTY_TUPLE, NEWOBJ
	}
	if err := w.items(reflect.ValueOf(values), 0); err != nil {
		return nil, err
	}
	w.b.WriteByte('.')
	return w.b.Bytes(), nil
}

type writer struct {
	b          bytes.Buffer
	proto      int
	maxDepth   int
	keyClasses map[string]string // root members written as a dict subclass
}

func (w *writer) global(mod, name string) error {
	if strings.ContainsAny(mod+name, "\n") || mod == "" || name == "" {
		return fmt.Errorf("%w: class name %q.%q", ErrUnsupported, mod, name)
	}
	w.b.WriteString("c" + mod + "\n" + name + "\n")
	return nil
}

const batch = 1000 // CPython's batch size for APPENDS and SETITEMS

// items writes SETITEMS for a map (sorted keys) onto the dict on the stack.
func (w *writer) items(m reflect.Value, depth int) error {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for start := 0; start < len(keys); start += batch {
		w.b.WriteByte('(')
		for _, k := range keys[start:min(start+batch, len(keys))] {
			if err := w.str(k.String()); err != nil {
				return err
			}
			v := m.MapIndex(k)
			if cls, ok := w.keyClasses[k.String()]; ok && depth == 0 {
				if err := w.classDict(cls, v, depth+1); err != nil {
					return fmt.Errorf("%s: %w", k.String(), err)
				}
				continue
			}
			if err := w.value(v, depth+1); err != nil {
				return fmt.Errorf("%s: %w", k.String(), err)
			}
		}
		w.b.WriteByte('u')
	}
	return nil
}

// classDict writes v, a map with string keys, as cls() filled with
// SETITEMS (GLOBAL, EMPTY_TUPLE, REDUCE), as CPython pickles an
// OrderedDict subclass; any other v is written as usual.
func (w *writer) classDict(cls string, v reflect.Value, depth int) error {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return w.value(v, depth)
	}
	dot := strings.LastIndexByte(cls, '.')
	if dot <= 0 {
		return fmt.Errorf("%w: class name %q", ErrUnsupported, cls)
	}
	if err := w.global(cls[:dot], cls[dot+1:]); err != nil {
		return err
	}
	w.b.WriteString(")R") // EMPTY_TUPLE, REDUCE
	return w.items(v, depth)
}

func (w *writer) value(v reflect.Value, depth int) error {
	if depth > w.maxDepth {
		return fmt.Errorf("%w: values nested more than %d deep", ErrTooDeep, w.maxDepth)
	}
	if !v.IsValid() {
		w.b.WriteByte('N')
		return nil
	}
	switch t := v.Interface().(type) {
	case nil:
		w.b.WriteByte('N')
		return nil
	case json.Number:
		return w.number(t)
	case *big.Int:
		if t == nil {
			w.b.WriteByte('N')
			return nil
		}
		w.bigInt(t)
		return nil
	case big.Int:
		w.bigInt(&t)
		return nil
	case []byte:
		return w.bytes(t)
	case time.Time:
		return w.datetime(FromTime(t))
	case DateTime:
		return w.datetime(t)
	case Duration:
		return w.timedelta(t)
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			w.b.WriteByte('N')
			return nil
		}
		return w.value(v.Elem(), depth)
	case reflect.Bool:
		if v.Bool() {
			w.b.WriteByte(0x88)
		} else {
			w.b.WriteByte(0x89)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u <= math.MaxInt64 {
			w.int(int64(u))
		} else {
			w.bigInt(new(big.Int).SetUint64(u))
		}
	case reflect.Float32, reflect.Float64:
		w.b.WriteByte('G')
		w.b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(v.Float())))
	case reflect.String:
		return w.str(v.String())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			w.b.WriteByte(']')
			return nil
		}
		w.b.WriteByte(']')
		n := v.Len()
		for start := 0; start < n; start += batch {
			w.b.WriteByte('(')
			for i := start; i < min(start+batch, n); i++ {
				if err := w.value(v.Index(i), depth+1); err != nil {
					return fmt.Errorf("[%d]: %w", i, err)
				}
			}
			w.b.WriteByte('e')
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%w: map with %s keys", ErrUnsupported, v.Type().Key())
		}
		w.b.WriteByte('}')
		return w.items(v, depth)
	default:
		return fmt.Errorf("%w: value of type %s", ErrUnsupported, v.Type())
	}
	return nil
}

func (w *writer) number(n json.Number) error {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		w.int(i)
		return nil
	}
	if z, ok := new(big.Int).SetString(s, 10); ok {
		w.bigInt(z)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%w: json.Number %q", ErrUnsupported, s)
	}
	return w.value(reflect.ValueOf(f), 0)
}

func (w *writer) int(n int64) {
	switch {
	case n >= 0 && n < 1<<8:
		w.b.Write([]byte{'K', byte(n)})
	case n >= 0 && n < 1<<16:
		w.b.WriteByte('M')
		w.b.Write(binary.LittleEndian.AppendUint16(nil, uint16(n)))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		w.b.WriteByte('J')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(n))))
	default:
		w.bigInt(big.NewInt(n))
	}
}

// bigInt writes LONG1/LONG4: little-endian two's complement, as few bytes
// as hold the sign.
func (w *writer) bigInt(z *big.Int) {
	var le []byte
	if z.Sign() != 0 {
		n := z.BitLen()/8 + 1
		v := new(big.Int).Set(z)
		if z.Sign() < 0 {
			v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
		}
		be := v.FillBytes(make([]byte, n))
		le = make([]byte, n)
		for i, c := range be {
			le[n-1-i] = c
		}
		// Drop a redundant sign byte (CPython writes the minimal form).
		for len(le) > 1 {
			last, prev := le[len(le)-1], le[len(le)-2]
			if (last == 0 && prev&0x80 == 0) || (last == 0xff && prev&0x80 != 0) {
				le = le[:len(le)-1]
				continue
			}
			break
		}
	}
	if len(le) < 256 {
		w.b.Write([]byte{0x8a, byte(len(le))})
	} else {
		w.b.WriteByte(0x8b)
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(le))))
	}
	w.b.Write(le)
}

func (w *writer) str(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: string is not valid UTF-8", ErrUnsupported)
	}
	switch {
	case w.proto >= 4 && len(s) < 256:
		w.b.Write([]byte{0x8c, byte(len(s))})
	case uint64(len(s)) <= math.MaxUint32:
		w.b.WriteByte('X')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	default:
		w.b.WriteByte(0x8d)
		w.b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(s))))
	}
	w.b.WriteString(s)
	return nil
}

func (w *writer) bytes(p []byte) error {
	if w.proto < 3 {
		// _codecs.encode(<p as latin-1 text>, 'latin1'), as CPython writes.
		var sb strings.Builder
		for _, c := range p {
			sb.WriteRune(rune(c))
		}
		if err := w.global("_codecs", "encode"); err != nil {
			return err
		}
		_ = w.str(sb.String())
		_ = w.str("latin1")
		w.b.WriteString("\x86R") // TUPLE2, REDUCE
		return nil
	}
	switch {
	case len(p) < 256:
		w.b.Write([]byte{'C', byte(len(p))})
	case uint64(len(p)) <= math.MaxUint32:
		w.b.WriteByte('B')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
	default:
		w.b.WriteByte(0x8e)
		w.b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(p))))
	}
	w.b.Write(p)
	return nil
}

func (w *writer) datetime(d DateTime) error {
	if !validFields(d) {
		return fmt.Errorf("%w: datetime %s out of Python's range", ErrUnsupported, d)
	}
	var state []byte
	name := "datetime"
	switch d.Kind {
	case KindDateTime:
		state = []byte{byte(d.Year >> 8), byte(d.Year), byte(d.Month), byte(d.Day), byte(d.Hour), byte(d.Minute), byte(d.Second),
			byte(d.Microsecond >> 16), byte(d.Microsecond >> 8), byte(d.Microsecond)}
	case KindDate:
		name = "date"
		state = []byte{byte(d.Year >> 8), byte(d.Year), byte(d.Month), byte(d.Day)}
	case KindTime:
		name = "time"
		state = []byte{byte(d.Hour), byte(d.Minute), byte(d.Second), byte(d.Microsecond >> 16), byte(d.Microsecond >> 8), byte(d.Microsecond)}
	}
	if err := w.global("datetime", name); err != nil {
		return err
	}
	if err := w.bytes(state); err != nil {
		return err
	}
	if !d.HasOffset || d.Kind == KindDate {
		w.b.WriteString("\x85R") // TUPLE1, REDUCE
		return nil
	}
	// datetime.timezone(datetime.timedelta(days, seconds, microseconds))
	if d.Offset <= -24*time.Hour || d.Offset >= 24*time.Hour {
		return fmt.Errorf("%w: UTC offset %s", ErrUnsupported, d.Offset)
	}
	us := d.Offset.Microseconds()
	days := us / 86_400_000_000
	if us < 0 && us%86_400_000_000 != 0 {
		days--
	}
	rest := us - days*86_400_000_000
	_ = w.global("datetime", "timezone")
	_ = w.global("datetime", "timedelta")
	w.int(days)
	w.int(rest / 1_000_000)
	w.int(rest % 1_000_000)
	w.b.WriteString("\x87R\x85R") // TUPLE3 REDUCE (timedelta), TUPLE1 REDUCE (timezone)
	w.b.WriteString("\x86R")      // TUPLE2 (state, tz), REDUCE
	return nil
}

// timedelta writes datetime.timedelta(days, seconds, microseconds).
func (w *writer) timedelta(d Duration) error {
	if d.Days < -999999999 || d.Days > 999999999 || d.Seconds < 0 || d.Seconds >= 86400 ||
		d.Microseconds < 0 || d.Microseconds >= 1000000 {
		return fmt.Errorf("%w: timedelta %+v out of Python's range", ErrUnsupported, d)
	}
	if err := w.global("datetime", "timedelta"); err != nil {
		return err
	}
	w.int(d.Days)
	w.int(d.Seconds)
	w.int(d.Microseconds)
	w.b.WriteString("\x87R") // TUPLE3, REDUCE
	return nil
}

// Codec adapts an Encoder and a Decoder to pkg/session's Codec interface
// (Marshal/Unmarshal), for sessions shared with an Emmett app in Redis.
type Codec struct {
	Encoder Encoder
	Decoder Decoder
}

// Marshal encodes values as an sdict pickle.
func (c Codec) Marshal(values map[string]any) ([]byte, error) { return c.Encoder.Encode(values) }

// Unmarshal decodes a dict pickle.
func (c Codec) Unmarshal(data []byte) (map[string]any, error) { return c.Decoder.DecodeMap(data) }
