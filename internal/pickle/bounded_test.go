package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The cost bound that Limits promises, checked on allocation (never on
// time): decoding n bytes with the default limits allocates at most
// allocPerByte*n + allocFixed bytes, whatever the bytes are.
const (
	allocPerByte = 512
	allocFixed   = 32 << 20
)

func allocBound(n int) uint64 { return allocPerByte*uint64(n) + allocFixed }

// allocated returns the bytes f allocated (runtime.MemStats.TotalAlloc:
// deterministic enough for a generous bound, unlike time).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// selfBuild is a self-referencing BUILD: a one-item dict BUILT with itself as
// state 20 times holds 2^20 items; each further 4-byte step (EMPTY_DICT,
// BINGET, BUILD) copies those into a new dict. padTo makes it that long.
func selfBuild(padTo int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04}\x94K\x01K\x01s") // memo 0 = {1: 1}
	b.WriteString(strings.Repeat("2b", 20))   // DUP BUILD: doubles it
	steps := (padTo - b.Len() - 1) / 4
	b.WriteString(strings.Repeat("}h\x00b", steps))
	b.WriteString(".")
	return b.Bytes()
}

// bigDict leaves memo idx = a dict of 2^doublings items (built as in
// selfBuild) on an empty stack.
func bigDict(b *bytes.Buffer, idx byte, doublings int) {
	b.WriteString("}q")
	b.WriteByte(idx)
	b.WriteString("K\x01K\x01s")
	b.WriteString(strings.Repeat("2b", doublings))
	b.WriteString("0")
}

// callChain calls the global module.name over (memo 1) steps times:
// dict(D), sdict(D), set(L), ... each call copies D.
func callChain(module, name string, arg func(*bytes.Buffer), steps int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02c" + module + "\n" + name + "\nq\x00")
	arg(&b) // memo 1
	b.WriteString(strings.Repeat("h\x00h\x01\x85R0", steps))
	b.WriteString("N.")
	return b.Bytes()
}

// reconstructChain copies D through copyreg._reconstructor(sdict, dict, D),
// the protocol 0/1 form of an sdict.
func reconstructChain(steps int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02ccopyreg\n_reconstructor\nq\x00")
	b.WriteString("cweppy.datastructures\nsdict\nq\x02cbuiltins\ndict\nq\x030")
	bigDict(&b, 1, 20)
	b.WriteString(strings.Repeat("h\x00(h\x02h\x03h\x01tR0", steps))
	b.WriteString("N.")
	return b.Bytes()
}

// bigList leaves memo idx = a list of n Nones.
func bigList(n int) func(*bytes.Buffer) {
	return func(b *bytes.Buffer) {
		b.WriteString("(")
		b.WriteString(strings.Repeat("N", n))
		b.WriteString("lq\x010")
	}
}

// bigString leaves memo 1 = a str of n bytes.
func bigString(n int) func(*bytes.Buffer) {
	return func(b *bytes.Buffer) {
		b.WriteString("X")
		b.Write(le8(uint64(n))[:4])
		b.WriteString(strings.Repeat("a", n))
		b.WriteString("q\x010")
	}
}

// sharedMany places memo 0 (made by arg) refs times in one list.
func sharedMany(arg func(*bytes.Buffer), refs int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02")
	arg(&b)
	b.WriteString("(")
	b.WriteString(strings.Repeat("h\x01", refs))
	b.WriteString("l.")
	return b.Bytes()
}

// newobjExLoop is a list L = [copyreg.__newobj_ex__, L] called as
// __newobj_ex__(*L): each call asks for another one with the same list.
func newobjExLoop() []byte {
	return []byte("\x80\x04ccopyreg\n__newobj_ex__\n\x94]\x94(h\x00h\x01eR.")
}

type hostileInput struct {
	name    string
	in      []byte
	decodes bool // a valid pickle whose cost is linear: it may decode
}

// hostileInputs are the self-referencing BUILDs and the other
// amplifications: each is small, and each would make a decoder without
// bounds copy, build or walk far more than its size (the floods are linear,
// and there to pin the constants).
func hostileInputs() []hostileInput {
	dict20 := func(b *bytes.Buffer) { bigDict(b, 1, 20) }
	list := bigList(50_000)
	inputs := []hostileInput{
		{"self-build-70", selfBuild(70), false},
		{"self-build-134", selfBuild(134), false},
		{"self-build-198", selfBuild(198), false},
		{"dict-chain", callChain("builtins", "dict", dict20, 40), false},
		{"sdict-chain", callChain("emmett.datastructures", "sdict", dict20, 40), false},
		{"ordereddict-chain", callChain("collections", "OrderedDict", dict20, 40), false},
		{"reconstructor-chain", reconstructChain(40), false},
		{"set-chain", callChain("builtins", "set", list, 500), false},
		{"frozenset-chain", callChain("builtins", "frozenset", list, 500), false},
		{"tuple-chain", callChain("builtins", "tuple", list, 500), false},
		{"bytes-chain", callChain("builtins", "bytearray", bigString(100_000), 2000), false},
		{"codecs-encode-chain", callChain("_codecs", "encode", bigString(100_000), 2000), false},
		{"shared-list-1000x1000", sharedMany(bigList(1000), 1000), false},
		{"shared-string-100kBx10000", sharedMany(bigString(100_000), 10_000), false},
		{"newobj-ex-loop", newobjExLoop(), false},
		{"laughs", laughs(), false},
		{"nested-marks-1MB", nestedMarks(), false},
		{"nested-lists-1MB", cat(strings.Repeat("]", 500_000), strings.Repeat("a", 499_999), "."), false},
		{"long4-huge", cat("\x80\x02\x8b\xff\xff\xff\x7f", strings.Repeat("x", 1<<20-8)), false},
		{"binunicode8-huge", cat("\x80\x04\x8d", le8(1<<62), strings.Repeat("x", 1<<20-12)), false},
		{"memoize-flood-500kB", cat("\x80\x04N", strings.Repeat("\x94", 500_000), "."), false},
		{"dup-flood-500kB", cat("\x80\x04N", strings.Repeat("2", 500_000), "."), false},
		{"empty-dicts-500kB", cat("\x80\x04(", strings.Repeat("}", 500_000), "l."), false},
	}
	return append(inputs, worstInputs()...)
}

// TestHostileBounded: every hostile input is refused,
// or decoded when it is linear, within the allocation bound.
func TestHostileBounded(t *testing.T) {
	for _, c := range hostileInputs() {
		t.Run(c.name, func(t *testing.T) {
			var err error
			got := allocated(func() { _, err = Unmarshal(c.in) })
			if (err == nil) != c.decodes {
				t.Fatalf("%d bytes: err = %v, want decodes=%v", len(c.in), err, c.decodes)
			}
			if max := allocBound(len(c.in)); got > max {
				t.Fatalf("%d bytes allocated %d bytes, bound %d (err %v)", len(c.in), got, max, err)
			}
		})
	}
}

// TestHostileRefused: the amplifying inputs are refused as too large or
// too deep (their results have a million items or more), before the work
// (or, for names that are not zone names, before any file is read).
func TestHostileRefused(t *testing.T) {
	for _, c := range hostileInputs() {
		if c.decodes {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, err := Unmarshal(c.in)
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%d bytes: err = %v, want ErrTooLarge, ErrTooDeep, ErrTruncated or ErrUnsupported", len(c.in), err)
			}
		})
	}
}

// TestSelfBuildSizes: selfBuild pads its input to exactly the length asked
// for, so the hostile inputs are the sizes their names say.
func TestSelfBuildSizes(t *testing.T) {
	for _, n := range []int{70, 134, 198} {
		if got := len(selfBuild(n)); got != n {
			t.Errorf("selfBuild(%d) is %d bytes", n, got)
		}
	}
}

// TestBudgetScalesWithInput: the element budget is ElementsPerByte per
// input byte on top of a fixed part, capped by MaxElements.
func TestBudgetScalesWithInput(t *testing.T) {
	tests := []struct {
		lim  Limits
		n    int
		want int
	}{
		{Limits{}, 0, baseElements},
		{Limits{}, 100, baseElements + 400},
		{Limits{}, 1 << 20, 1 << 17},
		{Limits{ElementsPerByte: 1}, 1000, baseElements + 1000},
		{Limits{MaxElements: 1000}, 10, 1000},
	}
	for _, tt := range tests {
		if got := tt.lim.withDefaults().budget(tt.n); got != tt.want {
			t.Errorf("%+v.budget(%d) = %d, want %d", tt.lim, tt.n, got, tt.want)
		}
	}
}

// TestSharedWithinBudget: sharing that a real session might have (a list
// placed a few times) still decodes, and each place gets its own copy.
func TestSharedWithinBudget(t *testing.T) {
	in := sharedMany(bigList(1000), 8)
	v, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	outer, ok := v.([]any)
	if !ok || len(outer) != 8 {
		t.Fatalf("got %T of %d", v, len(outer))
	}
	for i, x := range outer {
		if l, ok := x.([]any); !ok || len(l) != 1000 {
			t.Fatalf("item %d: %T", i, x)
		}
	}
}

// FuzzDecodeBounded decodes with the default limits and fails when an
// input allocates more than the bound. It runs in `make fuzz` with the
// seeds of FuzzDecode and the hostile inputs up to 64 kB (the larger ones,
// checked by TestHostileBounded, would leave the fuzzer a few executions
// a second).
func FuzzDecodeBounded(f *testing.F) {
	for _, c := range hostileInputs() {
		if len(c.in) <= 64<<10 {
			f.Add(c.in)
		}
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "*"))
	for _, p := range seeds {
		if in, err := readCorpusFile(p); err == nil {
			f.Add(in)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		var err error
		got := allocated(func() { _, err = Unmarshal(data) })
		if max := allocBound(len(data)); got > max {
			t.Fatalf("%d bytes allocated %d bytes, bound %d (err %v)", len(data), got, max, err)
		}
	})
}

// readCorpusFile reads a "go test fuzz v1" file holding one []byte.
func readCorpusFile(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, body, ok := strings.Cut(string(raw), "\n")
	body = strings.TrimSpace(body)
	if !ok || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
		return nil, fmt.Errorf("%s: not a []byte corpus entry", path)
	}
	s, err := strconv.Unquote(body[len("[]byte(") : len(body)-1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []byte(s), nil
}

// TestMemoTable: dense and sparse memo indices, overwrites, and MEMOIZE's
// index (the number of entries) agree with a plain map.
func TestMemoTable(t *testing.T) {
	var m memoTable
	ref := map[uint64]any{}
	for i, idx := range []uint64{2, 0, 1, 2, 3, 1 << 31, 4, 2, 5, 7, 6, 1 << 31, 8} {
		m.put(idx, i)
		ref[idx] = i
		if m.n != len(ref) {
			t.Fatalf("after put(%d): n = %d, want %d", idx, m.n, len(ref))
		}
	}
	for idx := uint64(0); idx < 10; idx++ {
		v, ok := m.get(idx)
		w, wok := ref[idx]
		if ok != wok || v != w {
			t.Errorf("get(%d) = %v, %v; want %v, %v", idx, v, ok, w, wok)
		}
	}
	if v, ok := m.get(1 << 31); !ok || v != 11 {
		t.Errorf("get(1<<31) = %v, %v", v, ok)
	}
	// MEMOIZE after sparse BINPUTs uses the count, as CPython does.
	got, err := Unmarshal([]byte("\x80\x04K\x07q\x05\x94K\x08\x94h\x01h\x02\x86."))
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{int64(7), int64(8)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
