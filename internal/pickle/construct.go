package pickle

import (
	"fmt"
	"strings"
)

// fixImports maps Python 2 module names to their Python 3 names, as
// pickle's fix_imports does, so both spellings are recognised.
var fixImports = map[string]string{
	"__builtin__": "builtins",
	"copy_reg":    "copyreg",
	"exceptions":  "builtins",
}

// nameCost is what using g's name costs in elements (see byteCost).
func nameCost(g Global) int { return byteCost(len(g.Module) + len(g.Name)) }

func newGlobal(module, name string) Global {
	module = strings.TrimSpace(module)
	name = strings.TrimSpace(name)
	if m, ok := fixImports[module]; ok {
		module = m
	}
	return Global{Module: module, Name: name}
}

// isDictClass reports whether instances of the class are shown as a plain
// dict: any sdict (weppy, emmett, emmett_core or an app's own), and the
// dict subclasses of the standard library.
func isDictClass(g Global) bool {
	if g.Name == "sdict" {
		return true
	}
	switch g.String() {
	case "builtins.dict", "collections.OrderedDict", "collections.defaultdict", "collections.Counter":
		return true
	}
	return false
}

// construct handles REDUCE, NEWOBJ(_EX), INST and OBJ: the callable is only
// ever compared by name.
func (d *decoder) construct(callable any, args []any) error {
	g, ok := callable.(Global)
	if !ok {
		return d.errf(ErrUnsupported, "call of a %s", typeName(callable))
	}
	v, err := d.make(g, args)
	if err != nil {
		return err
	}
	return d.push(v)
}

// make builds what calling g with args gives, by g's name only. Each call
// level costs what g's name does (one element, one more per 16 bytes:
// the name is put together, compared and kept as the class of what is
// made) and counts as a level of nesting (a list that holds itself as
// __newobj_ex__ arguments would otherwise recurse forever).
func (d *decoder) make(g Global, args []any) (any, error) {
	if d.calls >= d.lim.MaxDepth {
		return nil, d.errf(ErrTooDeep, "calls nested more than %d deep", d.lim.MaxDepth)
	}
	if err := d.charge(nameCost(g)); err != nil {
		return nil, err
	}
	d.calls++
	defer func() { d.calls-- }()
	switch g.String() {
	case "copyreg._reconstructor":
		// _reconstructor(cls, base, state): base(state) turned into a cls.
		if len(args) != 3 {
			return nil, d.errf(ErrMalformed, "_reconstructor takes 3 arguments")
		}
		cls, ok1 := args[0].(Global)
		base, ok2 := args[1].(Global)
		if !ok1 || !ok2 {
			return nil, d.errf(ErrMalformed, "_reconstructor needs classes")
		}
		if err := d.charge(nameCost(cls) + nameCost(base)); err != nil {
			return nil, err
		}
		o := &pObj{class: cls.String(), dictLike: isDictClass(cls)}
		switch base.String() {
		case "builtins.dict":
			o.dictLike = true
			o.items = &pDict{}
			if st, ok := args[2].(*pDict); ok {
				if err := d.copyDict(o.items, st); err != nil {
					return nil, err
				}
			}
		case "builtins.list":
			o.list = &pList{}
			if st, ok := args[2].(*pList); ok {
				items, err := d.copyItems(st.items)
				if err != nil {
					return nil, err
				}
				o.list.items = items
			}
		case "builtins.object":
		default:
			if args[2] != nil {
				o.args = []any{args[2]}
			}
		}
		return o, nil
	case "copyreg.__newobj__":
		if len(args) == 0 {
			return nil, d.errf(ErrMalformed, "__newobj__ without a class")
		}
		cls, ok := args[0].(Global)
		if !ok {
			return nil, d.errf(ErrMalformed, "__newobj__ needs a class")
		}
		return d.make(cls, args[1:])
	case "copyreg.__newobj_ex__":
		if len(args) < 2 {
			return nil, d.errf(ErrMalformed, "__newobj_ex__ needs a class and arguments")
		}
		cls, ok := args[0].(Global)
		if !ok {
			return nil, d.errf(ErrMalformed, "__newobj_ex__ needs a class")
		}
		inner, err := d.tupleItems(args[1])
		if err != nil {
			return nil, err
		}
		return d.make(cls, inner)
	case "datetime.datetime", "datetime.date", "datetime.time":
		return d.makeDateTime(g.Name, args)
	case "pendulum.datetime.DateTime", "pendulum.date.Date", "pendulum.time.Time",
		"pendulum.DateTime", "pendulum.Date", "pendulum.Time":
		// pendulum's classes are datetime subclasses pickled as a call
		// of the class over datetime's own arguments (FORMATS.md 1a).
		return d.makeDateTime(strings.ToLower(g.Name), args)
	case "datetime.timedelta", "pendulum.duration.Duration", "pendulum.Duration":
		// pendulum's Duration pickles as timedelta does: (days, seconds, microseconds).
		return d.makeDuration(args)
	case "datetime.timezone":
		return &pObj{class: g.String(), args: args}, nil
	case "builtins.getattr":
		// getattr(cls, '_unpickle'), the way zoneinfo and pendulum 3 pickle
		// a named zone: only the name is kept.
		if len(args) == 2 {
			cls, ok1 := args[0].(Global)
			attr, ok2 := args[1].(string)
			if ok1 && ok2 {
				if err := d.charge(nameCost(cls) + byteCost(len(attr))); err != nil {
					return nil, err
				}
				return Global{Module: cls.Module, Name: cls.Name + "." + attr}, nil
			}
		}
		return nil, d.errf(ErrUnsupported, "getattr other than of a class by name")
	case "_codecs.encode":
		if len(args) < 1 || len(args) > 2 {
			return nil, d.errf(ErrMalformed, "_codecs.encode takes 1 or 2 arguments")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, d.errf(ErrMalformed, "_codecs.encode needs a str")
		}
		enc := "utf-8"
		if len(args) == 2 {
			if e, ok := args[1].(string); ok {
				enc = e
			}
		}
		return d.encodeText(s, enc)
	case "builtins.bytes", "builtins.bytearray":
		switch len(args) {
		case 0:
			return []byte{}, nil
		case 1:
			switch a := args[0].(type) {
			case []byte:
				if err := d.charge(byteCost(len(a))); err != nil {
					return nil, err
				}
				return append([]byte{}, a...), nil
			case string: // Python 2 str
				if err := d.charge(byteCost(len(a))); err != nil {
					return nil, err
				}
				return []byte(a), nil
			case *pList:
				if err := d.charge(byteCost(len(a.items))); err != nil {
					return nil, err
				}
				out := make([]byte, 0, len(a.items))
				for _, it := range a.items {
					n, ok := it.(int64)
					if !ok || n < 0 || n > 255 {
						return nil, d.errf(ErrMalformed, "bytes from a list needs small ints")
					}
					out = append(out, byte(n))
				}
				return out, nil
			}
		case 2:
			s, ok1 := args[0].(string)
			enc, ok2 := args[1].(string)
			if ok1 && ok2 {
				return d.encodeText(s, enc)
			}
		}
		return nil, d.errf(ErrMalformed, "unexpected arguments for %s", g)
	case "builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple":
		var items []any
		if len(args) > 0 {
			var src []any
			switch a := args[0].(type) {
			case *pList:
				src = a.items
			case *pTuple:
				src = a.items
			case *pSet:
				src = a.items
			default:
				return nil, d.errf(ErrMalformed, "%s of a %s", g, typeName(args[0]))
			}
			var err error
			if items, err = d.copyItems(src); err != nil {
				return nil, err
			}
		}
		switch g.Name {
		case "list":
			return &pList{items: items}, nil
		case "tuple":
			return &pTuple{items: items}, nil
		}
		return &pSet{items: items}, nil
	case "builtins.dict":
		dict := &pDict{}
		if len(args) > 0 {
			if src, ok := args[0].(*pDict); ok {
				if err := d.copyDict(dict, src); err != nil {
					return nil, err
				}
			}
		}
		return dict, nil
	case "builtins.object":
		return &pObj{class: "builtins.object"}, nil
	}
	o := &pObj{class: g.String(), args: args, dictLike: isDictClass(g)}
	if o.dictLike {
		o.args = nil
		o.items = &pDict{}
		// OrderedDict([(k, v), ...]) and dict(mapping) style arguments.
		for _, a := range args {
			switch a := a.(type) {
			case *pDict:
				if err := d.copyDict(o.items, a); err != nil {
					return nil, err
				}
			case *pList:
				if err := d.charge(len(a.items)); err != nil {
					return nil, err
				}
				for _, it := range a.items {
					if pair, ok := it.(*pTuple); ok && len(pair.items) == 2 {
						if err := d.setItems(o.items, pair.items); err != nil {
							return nil, err
						}
					}
				}
			}
		}
	}
	return o, nil
}

func (d *decoder) encodeText(s, enc string) ([]byte, error) {
	if err := d.charge(byteCost(len(s))); err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, d.errf(ErrMalformed, "text is not latin-1")
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "utf-8", "utf8":
		return []byte(s), nil
	}
	return nil, d.errf(ErrUnsupported, "encoding %q", enc)
}

func (d *decoder) makeDateTime(kind string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, d.errf(ErrMalformed, "datetime.%s without arguments", kind)
	}
	var dt DateTime
	switch kind {
	case "datetime":
		dt.Kind = KindDateTime
	case "date":
		dt.Kind = KindDate
	default:
		dt.Kind = KindTime
	}
	var tz any
	var state []byte
	switch a := args[0].(type) {
	case []byte:
		state = a
	case string: // Python 2 str, or text read back as latin-1
		if len(a) > 2*10 { // 10 bytes of state, at most 2 bytes each in UTF-8
			return nil, d.errf(ErrMalformed, "bad datetime.%s state", kind)
		}
		state = []byte(a)
		if !validState(dt.Kind, state) {
			if b, err := d.encodeText(a, "latin1"); err == nil {
				state = b
			}
		}
	}
	if state != nil {
		if !validState(dt.Kind, state) {
			return nil, d.errf(ErrMalformed, "bad datetime.%s state", kind)
		}
		b := state
		switch dt.Kind {
		case KindDateTime:
			dt.Year, dt.Month, dt.Day = int(b[0])<<8|int(b[1]), int(b[2]&0x7f), int(b[3])
			dt.Fold = int(b[2] >> 7)
			dt.Hour, dt.Minute, dt.Second = int(b[4]), int(b[5]), int(b[6])
			dt.Microsecond = int(b[7])<<16 | int(b[8])<<8 | int(b[9])
		case KindDate:
			dt.Year, dt.Month, dt.Day = int(b[0])<<8|int(b[1]), int(b[2]), int(b[3])
		case KindTime:
			dt.Hour, dt.Minute, dt.Second = int(b[0]&0x7f), int(b[1]), int(b[2])
			dt.Fold = int(b[0] >> 7)
			dt.Microsecond = int(b[3])<<16 | int(b[4])<<8 | int(b[5])
		}
		if len(args) > 1 {
			tz = args[1]
		}
	} else {
		// Called with integer fields, e.g. datetime(2024, 5, 17, 13, 45).
		fields := []*int{&dt.Year, &dt.Month, &dt.Day, &dt.Hour, &dt.Minute, &dt.Second, &dt.Microsecond}
		if dt.Kind == KindTime {
			fields = fields[3:]
		} else if dt.Kind == KindDate {
			fields = fields[:3]
		}
		for i, a := range args {
			n, ok := a.(int64)
			if !ok || i >= len(fields) {
				tz = a
				break
			}
			*fields[i] = int(n)
		}
		if !validFields(dt) {
			return nil, d.errf(ErrMalformed, "bad datetime.%s fields", kind)
		}
	}
	if tz != nil {
		off, ok, err := d.zoneOffset(tz, dt)
		if err != nil {
			return nil, err
		}
		dt.HasOffset, dt.Offset = ok, off
	}
	return dt, nil
}

func validState(k DateKind, b []byte) bool {
	var dt DateTime
	switch k {
	case KindDateTime:
		if len(b) != 10 {
			return false
		}
		dt = DateTime{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2] & 0x7f), Day: int(b[3]), Hour: int(b[4]), Minute: int(b[5]), Second: int(b[6]), Microsecond: int(b[7])<<16 | int(b[8])<<8 | int(b[9])}
	case KindDate:
		if len(b) != 4 {
			return false
		}
		dt = DateTime{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2]), Day: int(b[3])}
	case KindTime:
		if len(b) != 6 {
			return false
		}
		dt = DateTime{Kind: KindTime, Hour: int(b[0] & 0x7f), Minute: int(b[1]), Second: int(b[2]), Microsecond: int(b[3])<<16 | int(b[4])<<8 | int(b[5])}
	}
	dt.Kind = k
	return validFields(dt)
}

func validFields(dt DateTime) bool {
	if dt.Kind != KindTime {
		if dt.Year < 1 || dt.Year > 9999 || dt.Month < 1 || dt.Month > 12 || dt.Day < 1 || dt.Day > 31 {
			return false
		}
	}
	return dt.Hour >= 0 && dt.Hour < 24 && dt.Minute >= 0 && dt.Minute < 60 && dt.Second >= 0 && dt.Second < 60 &&
		dt.Microsecond >= 0 && dt.Microsecond < 1000000
}

func describe(v any) string {
	if o, ok := v.(*pObj); ok {
		return o.class
	}
	return fmt.Sprint(typeName(v))
}
