package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/interop"
)

func bigInt(s string) *big.Int {
	z, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return z
}

// encodeCases are Go values and what Python must see: ints as {"int": "..."},
// floats as {"float": repr}, bytes as {"bytes": base64}, datetimes as
// {"datetime": isoformat}.
var encodeCases = []struct {
	name   string
	in     map[string]any
	python string
}{
	{"empty", map[string]any{}, `{}`},
	{"counter", map[string]any{"counter": 7}, `{"counter":{"int":"7"}}`},
	{"scalars", map[string]any{
		"s": "Zoë ✓ \\ \n 'q'", "t": true, "f": false, "n": nil, "x": 1.5, "neg": -2.5e-10, "f32": float32(0.5),
		"i8": int8(-8), "u16": uint16(65535), "i32": int32(math.MinInt32), "i64": int64(math.MaxInt64), "u64": uint64(math.MaxUint64),
		"big": bigInt("-1180591620717411303424"), "bigpos": bigInt("340282366920938463463374607431768211456"),
		"n128": -128, "n129": -129, "p255": 255, "p256": 256, "p65536": 65536, "p2_31": 1 << 31,
	}, `{"s":"Zoë ✓ \\ \n 'q'","t":true,"f":false,"n":null,"x":{"float":"1.5"},"neg":{"float":"-2.5e-10"},"f32":{"float":"0.5"},
	"i8":{"int":"-8"},"u16":{"int":"65535"},"i32":{"int":"-2147483648"},"i64":{"int":"9223372036854775807"},"u64":{"int":"18446744073709551615"},
	"big":{"int":"-1180591620717411303424"},"bigpos":{"int":"340282366920938463463374607431768211456"},
	"n128":{"int":"-128"},"n129":{"int":"-129"},"p255":{"int":"255"},"p256":{"int":"256"},"p65536":{"int":"65536"},"p2_31":{"int":"2147483648"}}`},
	{"json numbers", map[string]any{"i": json.Number("42"), "b": json.Number("123456789012345678901234567890"), "f": json.Number("0.25"), "e": json.Number("1e3")},
		`{"i":{"int":"42"},"b":{"int":"123456789012345678901234567890"},"f":{"float":"0.25"},"e":{"float":"1000.0"}}`},
	{"bytes", map[string]any{"b": []byte{0, 0xff, '\n', '\\'}, "e": []byte{}, "long": bytes.Repeat([]byte{0xe9}, 300)},
		`{"b":{"bytes":"AP8KXA=="},"e":{"bytes":""},"long":{"bytes":"` + strings.Repeat("6enp", 100) + `"}}`},
	{"containers", map[string]any{"l": []any{1, "a", []any{}, map[string]any{"k": nil}}, "strs": []string{"x", "y"}, "arr": [2]int{1, 2},
		"d": map[string]any{"deep": map[string]any{"deeper": []any{true}}}, "m": map[string]string{"a": "b"}, "nil": []any(nil)},
		`{"l":[{"int":"1"},"a",[],{"k":null}],"strs":["x","y"],"arr":[{"int":"1"},{"int":"2"}],"d":{"deep":{"deeper":[true]}},"m":{"a":"b"},"nil":[]}`},
	{"times", map[string]any{
		"t":  time.Date(2024, 5, 17, 13, 45, 30, 123456789, time.FixedZone("X", 3600)),
		"t0": time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		"d":  DateTime{Kind: KindDate, Year: 1999, Month: 12, Day: 31},
		"tm": DateTime{Kind: KindTime, Hour: 7, Minute: 8, Second: 9, Microsecond: 10},
		"tz": DateTime{Kind: KindDateTime, Year: 2024, Month: 1, Day: 2, Hour: 3, Minute: 4, Second: 5, HasOffset: true, Offset: -(5*time.Hour + 30*time.Minute)},
	}, `{"t":{"datetime":"2024-05-17T13:45:30.123456"},"t0":{"datetime":"2000-01-01T00:00:00"},"d":{"date":"1999-12-31"},
	"tm":{"time":"07:08:09.000010"},"tz":{"datetime":"2024-01-02T03:04:05-05:30"}}`},
	{"many", manyItems(2500), ""},
}

func manyItems(n int) map[string]any {
	m := map[string]any{}
	list := make([]any, n)
	for i := range list {
		list[i] = i
	}
	m["list"] = list
	for i := 0; i < n; i++ {
		m["k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i)] = i
	}
	return m
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

// TestEncodePython writes pickles with protocols 2 and 4, has CPython load
// them (with a stub sdict class), and compares what Python sees.
func TestEncodePython(t *testing.T) {
	py := needPython(t)
	var in strings.Builder
	type job struct {
		name, class string
		encoded     []byte
		want        string
	}
	var jobs []job
	for _, c := range encodeCases {
		for _, enc := range []Encoder{{}, {Protocol: 2}, {Module: "weppy.datastructures"}, {Module: "emmett_core.datastructures", Protocol: 2}} {
			b, err := enc.Encode(c.in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			mod := enc.Module
			if mod == "" {
				mod = "emmett.datastructures"
			}
			jobs = append(jobs, job{c.name, mod + ".sdict", b, c.python})
			in.WriteString(hex.EncodeToString(b) + "\n")
		}
	}
	cmd := exec.Command(py, "testdata/pyload.py")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyload.py: %v\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(jobs) {
		t.Fatalf("%d lines for %d pickles", len(lines), len(jobs))
	}
	for i, line := range lines {
		j := jobs[i]
		var got struct {
			Class string          `json:"class"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		if got.Class != j.class {
			t.Errorf("%s: python class %s, want %s", j.name, got.Class, j.class)
		}
		if j.want != "" {
			var g, w any
			_ = json.Unmarshal(got.Value, &g)
			if err := json.Unmarshal([]byte(j.want), &w); err != nil {
				t.Fatalf("%s: bad want: %v", j.name, err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: python sees\n%s\nwant\n%s", j.name, got.Value, j.want)
			}
		}
		// And our decoder reads back what Python read.
		if _, err := UnmarshalMap(j.encoded); err != nil {
			t.Errorf("%s: decoding our own pickle: %v", j.name, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := map[string]any{"counter": 7, "big": bigInt("1180591620717411303424"), "s": "x", "b": []byte("raw"), "l": []any{1.5, nil, true},
		"when": DateTime{Kind: KindDateTime, Year: 2024, Month: 5, Day: 17, Hour: 13, Minute: 45, Second: 30, Microsecond: 123456}}
	want := map[string]any{"counter": int64(7), "big": bigInt("1180591620717411303424"), "s": "x", "b": []byte("raw"), "l": []any{1.5, nil, true},
		"when": DateTime{Kind: KindDateTime, Year: 2024, Month: 5, Day: 17, Hour: 13, Minute: 45, Second: 30, Microsecond: 123456}}
	for _, proto := range []int{2, 4} {
		c := Codec{Encoder: Encoder{Protocol: proto}}
		b, err := c.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("protocol %d:\n got %#v\nwant %#v", proto, got, want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	loop := map[string]any{}
	loop["self"] = loop
	tests := []struct {
		name string
		enc  Encoder
		in   map[string]any
		want error
	}{
		{"bad utf-8", Encoder{}, map[string]any{"s": "\xff"}, ErrUnsupported},
		{"bad utf-8 key", Encoder{}, map[string]any{"\xff": 1}, ErrUnsupported},
		{"channel", Encoder{}, map[string]any{"c": make(chan int)}, ErrUnsupported},
		{"int keys", Encoder{}, map[string]any{"m": map[int]int{1: 1}}, ErrUnsupported},
		{"year 10000", Encoder{}, map[string]any{"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrUnsupported},
		{"cycle", Encoder{}, loop, ErrTooDeep},
		{"protocol 3", Encoder{Protocol: 3}, map[string]any{}, ErrUnsupported},
		{"newline in module", Encoder{Module: "a\nb"}, map[string]any{}, ErrUnsupported},
	}
	for _, tt := range tests {
		if _, err := tt.enc.Encode(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func ExampleMarshal() {
	b, _ := Marshal(map[string]any{"counter": 7})
	m, _ := UnmarshalMap(b)
	fmt.Println(m["counter"])
	// Output: 7
}

func TestEncodePlainDictRoot(t *testing.T) {
	for _, proto := range []int{2, 4} {
		b, err := Encoder{Module: "builtins", Class: "dict", Protocol: proto}.Encode(map[string]any{"a": 1})
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{0x80, byte(proto), '}', '(', 0x8c, 1, 'a', 'K', 1, 'u', '.'}
		if proto == 2 {
			want = []byte{0x80, 2, '}', '(', 'X', 1, 0, 0, 0, 'a', 'K', 1, 'u', '.'}
		}
		if !bytes.Equal(b, want) {
			t.Fatalf("protocol %d: %q, want %q", proto, b, want)
		}
	}
}

func TestEncodeKeyClasses(t *testing.T) {
	enc := Encoder{Module: "builtins", Class: "dict", Protocol: 2, KeyClasses: map[string]string{"_csrf": "emmett.security.CSRFStorage"}}
	b, err := enc.Encode(map[string]any{"_csrf": map[string]any{"t": 1}, "n": map[string]any{"_csrf": map[string]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	// Only the root member is written as the class; a nested one is a dict.
	want := "\x80\x02}(X\x05\x00\x00\x00_csrfcemmett.security\nCSRFStorage\n)R(X\x01\x00\x00\x00tK\x01uX\x01\x00\x00\x00n}(X\x05\x00\x00\x00_csrf}uu."
	if string(b) != want {
		t.Fatalf("got  %q\nwant %q", b, want)
	}
	got, err := UnmarshalMap(b)
	if err != nil {
		t.Fatal(err)
	}
	interop.AssertPlainJSON(t, got, []byte(`{"_csrf":{"t":1},"n":{"_csrf":{}}}`))
	if _, err := (Encoder{KeyClasses: map[string]string{"_csrf": "nodot"}}).Encode(map[string]any{"_csrf": map[string]any{}}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("class without a module: %v", err)
	}
}
