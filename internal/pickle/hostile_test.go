package pickle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/testutil"
)

func le8(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }

func cat(parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case []byte:
			b.Write(p)
		case byte:
			b.WriteByte(p)
		case int:
			b.WriteByte(byte(p))
		}
	}
	return b.Bytes()
}

// nestedMarks is about 1 MB: 10^6 MARKs, each followed by... nothing that
// closes it, the shape of the classic "(((((" recursion attack.
func nestedMarks() []byte { return bytes.Repeat([]byte("(]"), 500_000) }

// laughs doubles a shared list 40 times through the memo: a few hundred
// bytes that expand to 2^40 values when walked as a tree.
func laughs() []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04]\x94") // memo 0 = []
	for i := 0; i < 40; i++ {
		b.WriteString("h")
		b.WriteByte(byte(i))
		b.WriteString("h")
		b.WriteByte(byte(i))
		b.WriteString("\x86\x94") // TUPLE2, memo i+1
	}
	b.WriteString(".")
	return b.Bytes()
}

func TestHostile(t *testing.T) {
	deep := cat(strings.Repeat("]", 300), strings.Repeat("a", 299), ".")
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrTruncated},
		{"no stop", []byte("N"), Limits{}, ErrTruncated},
		{"stop on empty stack", []byte("."), Limits{}, ErrMalformed},
		{"nested marks 1MB", nestedMarks(), Limits{}, ErrTooDeep},
		{"nested lists", deep, Limits{}, ErrTooDeep},
		{"1MB of protocol 0 lines", cat(strings.Repeat("I1\n0", 250_000), "N."), Limits{MaxElements: 1 << 20}, nil},
		{"1MB of protocol 0 lines, default budget", cat(strings.Repeat("I1\n0", 250_000), "N."), Limits{}, ErrTooLarge},
		// The pushes spend the budget before any list is put in another.
		{"nested lists 1MB", cat(strings.Repeat("]", 500_000), strings.Repeat("a", 499_999), "."), Limits{}, ErrTooLarge},
		{"nested lists within limit", deep, Limits{MaxDepth: 400}, nil},
		{"LONG4 huge length", cat("\x80\x02\x8b\xff\xff\xff\x7f", "."), Limits{}, ErrTruncated},
		{"LONG4 negative length", cat("\x80\x02\x8b\xff\xff\xff\xff", "."), Limits{}, ErrMalformed},
		{"LONG4 too many digits", cat("\x80\x02\x8b", []byte{0x88, 0x13, 0, 0}, strings.Repeat("\x01", 5000), "."), Limits{}, ErrTooLarge},
		{"INT too many digits", cat("I", strings.Repeat("9", 5000), "\n."), Limits{}, ErrTooLarge},
		{"BINUNICODE8 huge length", cat("\x80\x04\x8d", le8(1<<62), "abc."), Limits{}, ErrTruncated},
		{"BINBYTES8 huge length", cat("\x80\x04\x8e", le8(^uint64(0)), "abc."), Limits{}, ErrTruncated},
		{"BYTEARRAY8 huge length", cat("\x80\x05\x96", le8(1<<40), "."), Limits{}, ErrTruncated},
		{"BINUNICODE huge length", cat("X\xff\xff\xff\xff."), Limits{}, ErrTruncated},
		{"FRAME past the end", cat("\x80\x04\x95", le8(1000), "N."), Limits{}, ErrTruncated},
		{"list contains itself", []byte("\x80\x04]\x94h\x00a."), Limits{}, ErrCycle},
		{"dict contains itself", []byte("\x80\x04}\x94K\x01h\x00s."), Limits{}, ErrCycle},
		{"billion laughs", laughs(), Limits{}, ErrTooLarge},
		{"dup flood", cat("N", strings.Repeat("2", 5000), "."), Limits{MaxElements: 1000}, ErrTooLarge},
		{"input too large", []byte("N........."), Limits{MaxInput: 5}, ErrTooLarge},
		{"container too long", []byte("(K\x01K\x02K\x03K\x04l."), Limits{MaxContainerLen: 3}, ErrTooLarge},
		{"memo too large", []byte("Nq\x00q\x01q\x02."), Limits{MaxMemo: 2}, ErrTooLarge},
		{"persistent id", []byte("P1\n."), Limits{}, ErrUnsupported},
		{"binpersid", []byte("NQ."), Limits{}, ErrUnsupported},
		{"extension registry", []byte("\x80\x02\x82\x01."), Limits{}, ErrUnsupported},
		{"out-of-band buffer", []byte("\x80\x05\x97."), Limits{}, ErrUnsupported},
		{"protocol 6", []byte("\x80\x06N."), Limits{}, ErrUnsupported},
		{"call a list", []byte("])R."), Limits{}, ErrUnsupported},
		{"os.system is only a name", []byte("cos\nsystem\n(S'echo hi'\ntR."), Limits{}, nil},
		{"unknown opcode", []byte("\xff."), Limits{}, ErrMalformed},
		{"memo miss", []byte("g7\n."), Limits{}, ErrMalformed},
		{"append on empty stack", []byte("a."), Limits{}, ErrMalformed},
		{"pop mark without mark", []byte("1."), Limits{}, ErrMalformed},
		{"setitem on list", []byte("]K\x01K\x02s."), Limits{}, ErrMalformed},
		{"odd dict", []byte("(K\x01d."), Limits{}, ErrMalformed},
		{"unquoted STRING", []byte("Sabc\n."), Limits{}, ErrMalformed},
		{"bad datetime state", []byte("\x80\x03cdatetime\ndatetime\nC\x03abc\x85R."), Limits{}, ErrMalformed},
		{"unknown tzinfo", []byte("\x80\x03cdatetime\ndatetime\nC\n\x07\xe8\x05\x11\r-\x1e\x01\xe2@cpytz\nutc\n\x86R."), Limits{}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decoder{Limits: tt.lim}.Decode(tt.in)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// BenchmarkHostile decodes each hostile input and the fuzz corpus and
// reports the bytes allocated per input byte (alloc-B/in-B; for the corpus
// the worst input's), for the corpus the most allocated by one input
// (max-alloc-B), and the CPU time of the process (user and system, the
// garbage collector's included) per decode (cpu-ns/op) and per input byte
// (cpu-ns/in-B) and per element of the budget spent (cpu-ns/elem): on a
// shared machine these vary less than ns/op. The
// bounds these support are stated in Limits; the allocation bound is
// checked by TestHostileBounded and FuzzDecodeBounded, the time is only
// ever reported:
//
//	go test -run '^$' -bench Hostile -benchtime 5x -cpu 1 ./internal/pickle
func BenchmarkHostile(b *testing.B) {
	for _, c := range hostileInputs() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			var total uint64
			var cpu time.Duration
			var spent int
			for b.Loop() {
				var err error
				start := testutil.CPUTime()
				total += allocated(func() { _, spent, err = Decoder{}.decode(c.in) })
				cpu += testutil.CPUTime() - start
				if (err == nil) != c.decodes {
					b.Fatalf("err = %v", err)
				}
			}
			perOp := float64(cpu) / float64(b.N)
			b.ReportMetric(float64(total)/float64(b.N)/float64(len(c.in)), "alloc-B/in-B")
			b.ReportMetric(perOp, "cpu-ns/op")
			b.ReportMetric(perOp/float64(len(c.in)), "cpu-ns/in-B")
			b.ReportMetric(perOp/float64(max(spent, 1)), "cpu-ns/elem")
		})
	}
	b.Run("fuzz-corpus", func(b *testing.B) {
		paths, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
		var inputs [][]byte
		for _, p := range paths {
			if in, err := readCorpusFile(p); err == nil {
				inputs = append(inputs, in)
			}
		}
		if len(inputs) < 100 {
			b.Fatalf("only %d corpus inputs", len(inputs))
		}
		b.ReportAllocs()
		var perByte, most float64
		for b.Loop() {
			for _, in := range inputs {
				got := float64(allocated(func() { _, _ = Unmarshal(in) }))
				perByte = max(perByte, got/float64(max(len(in), 1)))
				most = max(most, got)
			}
		}
		b.ReportMetric(perByte, "alloc-B/in-B")
		b.ReportMetric(most, "max-alloc-B")
	})
}

func BenchmarkDecodeVectors(b *testing.B) {
	var inputs [][]byte
	for _, v := range interop.MustVectors(b) {
		if v.Format == "pickle" {
			raw, _ := hex.DecodeString(v.ValueHex)
			inputs = append(inputs, raw)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			if _, err := Unmarshal(in); err != nil {
				b.Fatal(err)
			}
		}
	}
}
