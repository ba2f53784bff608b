package pickle

import (
	"bytes"
	"errors"
	"io/fs"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/testutil"
)

// nearMB is the size the worst-case inputs are built to: just under 1 MB.
const nearMB = 1<<20 - 64

// repeatTo appends unit to b until b is about n bytes (leaving room for
// tail), then tail.
func repeatTo(b *bytes.Buffer, unit string, n int, tail string) []byte {
	if k := (n - b.Len() - len(tail)) / len(unit); k > 0 {
		b.WriteString(strings.Repeat(unit, k))
	}
	b.WriteString(tail)
	return b.Bytes()
}

// flood is head, then unit repeated to about n bytes, then tail.
func flood(head, unit, tail string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	return repeatTo(&b, unit, n, tail)
}

// sharedKeyDict is a dict whose key is the value that head leaves in memo 0,
// set again and again (each item renders the key anew): as many items as
// the default budget allows when the key costs keyCost elements (2 for
// GET and None, 1 for the value in the result), padded to about 1 MB (a
// string popped at once) so that the budget is the largest.
func sharedKeyDict(head string, keyCost int) []byte {
	items := (DefaultLimits().MaxElements - 1024) / (3 + keyCost)
	body := cat("\x80\x04"+head+"}(", strings.Repeat("h\x00N", items), "u.")
	return pad(body, nearMB)
}

// pad prefixes p (which starts with PROTO) with a string, popped at once,
// that makes it n bytes long, when it is shorter.
func pad(p []byte, n int) []byte {
	k := n - len(p) - 6
	if k <= 0 {
		return p
	}
	return cat(p[:2], "X", le8(uint64(k))[:4], strings.Repeat("x", k), "0", p[2:])
}

// worstInputs are, for each kind of work the decoder does, the input
// under 1 MB that makes it do the most of it: as many units of that work
// as the default element budget allows (elems is what one unit spends:
// the values it pushes, the calls it makes and its nodes in the result)
// or as fit in 1 MB, padded to about 1 MB so that the budget is the
// largest. A few are a whole 1 MB flood, refused when the budget is
// spent. They pin the time bound, which BenchmarkHostile reports (never a
// test).
func worstInputs() []hostileInput {
	bigInt := "\x8b" + string(le8(1785)[:4]) + strings.Repeat("\x9b", 1784) + "\x7f" // 4300 digits
	ctl := strings.Repeat("\x01", 4096)
	const dt = "C\x0a\x07\xe8\x05\x11\x0d\x2d\x1e\x01\xe2\x40"                // datetime state
	const datetime = "\x8c\x08datetime\x8c\x08datetime\x93\x94"               // memo 0
	const berlin = "\x8c\x04pytz\x8c\x02_p\x93\x8c\x0dEurope/Berlin\x85R\x94" // memo 1
	return []hostileInput{
		{"empty-lists", most("(", "]", "l.", 2), true},
		{"empty-sets", most("(", "\x8f", "l.", 2), true},
		{"empty-tuples", most("(", ")", "l.", 2), true},
		{"empty-dicts", most("(", "}", "l.", 2), true},
		{"memoized-dicts", most("(", "}\x94", "l.", 3), true},
		{"nones", most("(", "N", "l.", 2), true},
		{"ints", most("(", "J\xff\xff\xff\x7f", "l.", 2), true},
		{"floats", most("(", "G\x3f\xf0\x00\x00\x00\x00\x00\x01", "l.", 2), true},
		{"strings", most("(", "\x8c\x01a", "l.", 2), true},
		{"int-lines", most("(", "I1234567890123\n", "l.", 2), true},
		{"float-lines", most("(", "F1.2345678901234567e-300\n", "l.", 2), true},
		// Integers parsed and dropped: the parsing is paid by the input.
		{"long-lines", most("", "L"+strings.Repeat("9", 4300)+"L\n0", "N.", 1), true},
		{"long4s", most("", bigInt+"0", "N.", 1), true},
		{"sparse-memo", sparseMemo(), true},
		{"distinct-keys", distinctKeys(), true},
		{"float-keys", sharedKeyDict("G\x3f\xf0\x00\x00\x00\x00\x00\x01\x94", 1), true},
		{"bytes-keys", sharedKeyDict("C\x10"+strings.Repeat("\x01", 16)+"\x94", byteCost(16)), true},
		{"bigint-keys", sharedKeyDict(bigInt+"\x94", bigIntCost(new(big.Int).Lsh(big.NewInt(1), 1784*8+6))), true},
		{"tuple-keys", sharedKeyDict("X"+string(le8(4096)[:4])+ctl+"\x85\x94", 1+byteCost(4096)), true},
		{"datetimes", most(datetime+"(", "h\x00"+dt+"\x85R", "l.", 7), true},
		{"zoned-datetimes", most(datetime+berlin+"(", "h\x00"+dt+"h\x01\x86R", "l.", 8), true},
		{"objects", most("\x8c\x01m\x8c\x01C\x93\x94(", "h\x00)\x81}b", "l.", 7), true},
		{"datetime-tuple-key", most(datetime+"h\x00"+dt+"\x85R\x94}(", "h\x01", "tNs.", 2), true},
		{"duration-tuple-key", most("\x8c\x08datetime\x8c\x09timedelta\x93J\x3f\x42\x0f\x00J\x01\x02\x03\x00J\x05\x06\x07\x00\x87R\x94}(", "h\x00", "tNs.", 2), true},
		{"bigint-tuple-key", most(bigInt+"\x94}(", "h\x00", "tNs.", 1+bigIntCost(new(big.Int).Lsh(big.NewInt(1), 1784*8+6))), true},
		{"float-tuple-key", most("G\x3f\xf0\x00\x00\x00\x00\x00\x01\x94}(", "h\x00", "tNs.", 2), true},
		{"zone-aliases", zoneAliases(), false},
		{"long-class-calls", most("\x8c\x01m\x8d"+string(le8(1<<16))+strings.Repeat("C", 1<<16)+"\x93\x94", "h\x00)R0", "N.", 4), false},
		{"long-class-keys", sharedKeyDict("\x8c\x01m\x8d"+string(le8(1<<16))+strings.Repeat("C", 1<<16)+"\x93\x94", byteCost(1+1<<16)), true},
		{"long-module-globals", most("\x8d"+string(le8(1<<16))+strings.Repeat("m", 1<<16)+"\x94\x8c\x01C\x94", "h\x00h\x01\x930", "N.", 3), true},
		{"long-class-reconstruct", most("\x8c\x07copyreg\x8c\x0e_reconstructor\x93\x94\x8c\x01m\x8d"+string(le8(1<<16))+strings.Repeat("C", 1<<16)+"\x93\x94\x8c\x08builtins\x8c\x06object\x93\x94(", "h\x00h\x01h\x02N\x87R0", "N.", 6), false},
		{"empty-dicts-1MB", flood("\x80\x04(", "}", "l.", nearMB), false},
		{"nones-1MB", flood("\x80\x04(", "N", "l.", nearMB), false},
		{"sparse-memo-1MB", flood("\x80\x04N", "r\xff\xff\xff\x7f", ".", nearMB), true},
		{"self-build-1MB", selfBuild(nearMB), false},
	}
}

// most is a protocol 4 pickle of head, unit as many times as the default
// budget allows when each spends elems elements (or as fit in about 1 MB),
// and tail; padded to about 1 MB.
func most(head, unit, tail string, elems int) []byte {
	n := (DefaultLimits().MaxElements - 1024 - zoneLoadCost) / elems
	n = min(n, (nearMB-len(head)-len(tail)-64)/len(unit))
	return pad(cat("\x80\x04", head, strings.Repeat(unit, n), tail), nearMB)
}

// sparseMemo puts None under as many distinct, scattered memo indices as
// the budget allows (sparseMemoCost elements each).
func sparseMemo() []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04N")
	for i := uint32(1); i < uint32((DefaultLimits().MaxElements-1024)/sparseMemoCost); i++ {
		b.WriteByte('r')
		b.Write(le8(uint64(i * 2654435761))[:4])
	}
	b.WriteString(".")
	return pad(b.Bytes(), nearMB)
}

// distinctKeys is one dict of as many distinct short bytes keys as the
// budget allows (4 elements an item).
func distinctKeys() []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04}(")
	var key [3]byte
	for i := 0; i < (DefaultLimits().MaxElements-1024)/4; i++ {
		key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i>>16)
		b.WriteString("C\x03")
		b.Write(key[:])
		b.WriteString("N")
	}
	b.WriteString("u.")
	return pad(b.Bytes(), nearMB)
}

// zoneAliases is a list of datetimes, each in a pytz zone of a name not
// seen before: spellings of one zone that the tz database's files all
// answer to ("Europe//Berlin", "Europe/./Berlin", ...), so that each one
// is loaded from disk, as many as fit in about 1 MB.
func zoneAliases() []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04\x8c\x08datetime\x8c\x08datetime\x93\x94") // memo 0
	b.WriteString("\x8c\x04pytz\x8c\x02_p\x93\x94(")                  // memo 1
	const dt = "C\x0a\x07\xe8\x05\x11\x0d\x2d\x1e\x01\xe2\x40"
	for i := 0; b.Len() < nearMB-100; i++ {
		var name strings.Builder
		name.WriteString("Europe")
		for k := i; k > 0; k >>= 1 {
			if k&1 == 1 {
				name.WriteString("/.")
			} else {
				name.WriteString("/")
			}
		}
		name.WriteString("/Berlin")
		b.WriteString("h\x00" + dt + "h\x01\x8c")
		b.WriteByte(byte(name.Len()))
		b.WriteString(name.String())
		b.WriteString("\x85R\x86R")
	}
	b.WriteString("l.")
	return b.Bytes()
}

// zonedDatetimes is a list of one datetime in each of the pytz zones
// named.
func zonedDatetimes(names ...string) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04\x8c\x08datetime\x8c\x08datetime\x93\x94") // memo 0
	b.WriteString("\x8c\x04pytz\x8c\x02_p\x93\x94(")                  // memo 1
	const dt = "C\x0a\x07\xe8\x05\x11\x0d\x2d\x1e\x01\xe2\x40"
	for _, name := range names {
		b.WriteString("h\x00" + dt + "h\x01\x8c")
		b.WriteByte(byte(len(name)))
		b.WriteString(name + "\x85R\x86R")
	}
	b.WriteString("l.")
	return b.Bytes()
}

// forgetZones empties the process's cache of zones, so that the next use
// of a zone loads it.
func forgetZones(t testing.TB) {
	t.Helper()
	zones.Lock()
	zones.m = nil
	zones.Unlock()
}

// TestZoneNames: only names of the tz database's form
// are looked up; each name is loaded once per decode, and a load is
// charged before it is done, so that a pickle cannot make a decode read
// one file per value.
func TestZoneNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"Europe/Berlin", true},
		{"America/Argentina/Buenos_Aires", true},
		{"America/Port-au-Prince", true},
		{"Etc/GMT+5", true},
		{"EST5EDT", true},
		{"Europe//Berlin", false},
		{"Europe/./Berlin", false},
		{"./Europe/Berlin", false},
		{"/usr/share/zoneinfo/Europe/Berlin", false},
		{"Europe/Berlin/", false},
		{"../etc/passwd", false},
		{"Europe/Berlin\x00", false},
		{"", false},
		{"Local", false},
	} {
		if got := zoneName(tt.name); got != tt.ok {
			t.Errorf("zoneName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}

	if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
		t.Skipf("no tz database: %v", err)
	}
	in := zonedDatetimes("Europe/Berlin", "Europe//Berlin")
	if _, err := Unmarshal(in); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a spelling of Europe/Berlin: err = %v, want ErrUnsupported", err)
	}

	// A budget that pays for one load: enough for any number of values
	// in one zone, not for a second zone.
	lim := Limits{MaxElements: zoneLoadCost + 200}
	forgetZones(t)
	if _, err := (Decoder{Limits: lim}).Decode(zonedDatetimes("Europe/Berlin", "Europe/Berlin", "Europe/Berlin")); err != nil {
		t.Errorf("one zone three times: %v", err)
	}
	forgetZones(t)
	if _, err := (Decoder{Limits: lim}).Decode(zonedDatetimes("Europe/Berlin", "Asia/Tokyo")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("two zones not cached: err = %v, want ErrTooLarge", err)
	}
	// Once loaded and cached, zones cost nothing more.
	if _, err := Unmarshal(zonedDatetimes("Europe/Berlin", "Asia/Tokyo")); err != nil {
		t.Fatal(err)
	}
	if _, err := (Decoder{Limits: Limits{MaxElements: 200}}).Decode(zonedDatetimes("Europe/Berlin", "Asia/Tokyo")); err != nil {
		t.Errorf("two cached zones: %v", err)
	}
}

// BenchmarkZoneLoads decodes one datetime in each of 1000 zones of the
// system's tz database, none of them cached: the decode loads as many as
// the budget pays for and is refused. It reports the CPU time of that
// worst case (cpu-ns/op) and per zone loaded (cpu-ns/load).
//
//	go test -run '^$' -bench ZoneLoads -benchtime 5x -cpu 1 ./internal/pickle
func BenchmarkZoneLoads(b *testing.B) {
	const dir = "/usr/share/zoneinfo"
	var names []string
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || len(names) == 1000 {
			return nil
		}
		name, _ := filepath.Rel(dir, path)
		if zoneName(name) {
			if _, err := time.LoadLocation(name); err == nil {
				names = append(names, name)
			}
		}
		return nil
	})
	if len(names) < 1000 {
		b.Skipf("only %d zones in %s", len(names), dir)
	}
	in := zonedDatetimes(names...)
	var cpu time.Duration
	loads := 0
	for b.Loop() {
		forgetZones(b)
		start := testutil.CPUTime()
		d := &decoder{lim: DefaultLimits(), data: in, budget: &budget{left: DefaultLimits().budget(len(in))}}
		d.limit = d.left
		_, err := d.run()
		cpu += testutil.CPUTime() - start
		if !errors.Is(err, ErrTooLarge) {
			b.Fatalf("err = %v, want ErrTooLarge", err)
		}
		loads = len(d.zones)
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(max(loads, 1)), "cpu-ns/load")
	b.ReportMetric(float64(loads), "loads/op")
}
