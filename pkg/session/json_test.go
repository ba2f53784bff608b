package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is encoding/json's answer, with UseNumber and nothing but
// whitespace allowed after the value.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, errTrailing
	}
	return v, nil
}

var errTrailing = &json.SyntaxError{}

func TestJSONMarshalMatchesEncodingJSON(t *testing.T) {
	values := []map[string]any{
		{},
		{"counter": 3},
		{"s": "plain", "esc": "a\"b\\c\n\r\t\b\f\x00\x1f\x7f<>&\u2028\u2029", "uni": "Zoë ✓ 😀"},
		{"f": 1.5, "tiny": 1e-7, "huge": 1e21, "neg": -0.0, "int64": int64(math.MaxInt64), "u": uint64(math.MaxUint64), "f32": float32(0.1)},
		{"n": json.Number("12345678901234567890123"), "nil": nil, "t": true, "list": []any{1, "a", nil, []any{}, map[string]any{"x": 1}}},
		{"strs": []string{"a", "b"}, "nested": map[string]any{"z": 1, "a": map[string]any{"deep": []any{false}}}},
		{"struct": struct {
			A int `json:"a"`
		}{7}},
	}
	for _, v := range values {
		got, err := (JSONCodec{}).Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", v, err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Marshal(%v)\n got %s\nwant %s", v, got, want)
		}
	}
	// Invalid UTF-8 is written as \ufffd on every Go release (Go 1.27's
	// encoding/json writes a raw U+FFFD instead): the same string once
	// decoded, and one output whatever Go built the program.
	got, err := (JSONCodec{}).Marshal(map[string]any{"bad": "\xff\xfe"})
	if err != nil || string(got) != `{"bad":"\ufffd\ufffd"}` {
		t.Errorf("invalid UTF-8: %s, %v", got, err)
	}
	want, _ := json.Marshal(map[string]any{"bad": "\xff\xfe"})
	var fromOurs, fromStd map[string]any
	if json.Unmarshal(got, &fromOurs) != nil || json.Unmarshal(want, &fromStd) != nil || fromOurs["bad"] != fromStd["bad"] {
		t.Errorf("invalid UTF-8: ours %s decodes to %q, encoding/json's %s to %q", got, fromOurs["bad"], want, fromStd["bad"])
	}
	big1, _ := new(big.Int).SetString("1180591620717411303424", 10)
	got, err = (JSONCodec{}).Marshal(map[string]any{"big": big1})
	if err != nil || string(got) != `{"big":1180591620717411303424}` {
		t.Errorf("big.Int: %s, %v", got, err)
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), json.Number("1x"), make(chan int)} {
		if _, err := (JSONCodec{}).Marshal(map[string]any{"x": bad}); err == nil {
			t.Errorf("Marshal(%v) succeeded", bad)
		}
	}
}

func TestJSONUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]any
		wantErr bool
	}{
		{`{}`, map[string]any{}, false},
		{` {"counter": 3 } `, map[string]any{"counter": json.Number("3")}, false},
		{`{"a":[1,{"b":null}],"s":"\u00e9\ud83d\ude00\n"}`, map[string]any{"a": []any{json.Number("1"), map[string]any{"b": nil}}, "s": "é😀\n"}, false},
		{`{"a":1,"a":2}`, map[string]any{"a": json.Number("2")}, false},
		{`null`, nil, true},
		{`[]`, nil, true},
		{`{"a":1}x`, nil, true},
		{`{"a":1}]`, nil, true},
		{`{"a":01}`, nil, true},
		{`{"a":"\x"}`, nil, true},
		{`{"a":tru}`, nil, true},
		{`{"a"`, nil, true},
		{``, nil, true},
		{strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat(`}`, 2000), nil, true},
	}
	for _, tt := range tests {
		got, err := (JSONCodec{}).Unmarshal([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("Unmarshal(%.40q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unmarshal(%.40q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func depth(data []byte) int {
	d, maxD := 0, 0
	for _, c := range data {
		switch c {
		case '[', '{':
			d++
			maxD = max(maxD, d)
		case ']', '}':
			d--
		}
	}
	return maxD
}

// FuzzJSONMatchesEncodingJSON: the hand-written decoder accepts exactly what
// encoding/json accepts and gives the same values; what it decodes, it
// encodes to what encoding/json would write.
func FuzzJSONMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"counter":3}`, `{"a":[1,{"b":null}],"s":"\u00e9\ud83d"}`, `{"a":1}x`, `{"x":-0.5e+10,"y":"\ud800\u0041"}`, "{\"\xff\":1}", `{"a":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if depth(data) > maxJSONDepth {
			return // encoding/json allows deeper nesting than we do
		}
		got, err := (JSONCodec{}).Unmarshal(data)
		want, stdErr := stdDecode(data)
		wantObj, isObj := want.(map[string]any)
		if stdErr == nil && !isObj {
			stdErr = errTrailing // not an object: we refuse it too
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("input %q: ours err=%v, encoding/json err=%v", data, err, stdErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, wantObj) {
			t.Fatalf("input %q: ours %#v, encoding/json %#v", data, got, wantObj)
		}
		enc, err := (JSONCodec{}).Marshal(got)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		stdEnc, _ := json.Marshal(got)
		if !bytes.Equal(enc, stdEnc) {
			t.Fatalf("encode %#v: ours %s, encoding/json %s", got, enc, stdEnc)
		}
	})
}

// FuzzLazyJSON checks what a cookie session read without decoding relies
// on: validJSONObject accepts exactly what parseJSONObject decodes, and
// jsonMember, when it answers, answers as the decoded map does.
func FuzzLazyJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"counter":41}`, ` {"a":1,"b":"x"} `, `{"a":{"b":[1,2]},"c":true}`, `{"a":1,"a":2}`,
		`{"\u0061":1}`, `{"a":"\ud800\u0041"}`, `{"a":"\ud800\uzzzz"}`, `{"a":nul}`, `{"a":1}x`, `[1]`,
		`{"a":-0.5e+3,"b":null,"c":false}`, `{"é":1}`, `{"a":"tab	"}`, `{"a":1,}`, `{"a" 1}`,
	} {
		f.Add(seed, "a")
	}
	f.Fuzz(func(t *testing.T, d, key string) {
		want, err := parseJSONObject(d)
		if got := validJSONObject(d); got != (err == nil) {
			t.Fatalf("validJSONObject(%q) = %v, parseJSONObject error %v", d, got, err)
		}
		if err != nil {
			return
		}
		v, found, ok := jsonMember(d, key)
		if !ok {
			return
		}
		wv, wfound := want[key]
		if found != wfound || !reflect.DeepEqual(v, wv) {
			t.Fatalf("jsonMember(%q, %q) = %#v, %v; the decoded map has %#v, %v", d, key, v, found, wv, wfound)
		}
	})
}

// TestJSONMemberDefers lists what jsonMember leaves to the whole decode.
func TestJSONMemberDefers(t *testing.T) {
	for _, c := range []struct{ d, key string }{
		{`{"a":{"b":1}}`, "a"}, // objects are shared with the map
		{`{"a":[1]}`, "a"},     // so are arrays
		{`{"a":1,"a":2}`, "a"}, // the last of two wins
		{`{"\u0061":1}`, "a"},  // an escaped key may match
		{`{"é":1,"a":2}`, "a"}, // so may one beyond ASCII
	} {
		if _, _, ok := jsonMember(c.d, c.key); ok {
			t.Errorf("jsonMember(%q, %q) answered; it should leave it to the decode", c.d, c.key)
		}
	}
	for _, c := range []struct {
		d, key string
		want   any
		found  bool
	}{
		{`{"counter":41}`, "counter", json.Number("41"), true},
		{`{"a":{"b":1},"c":"x"}`, "c", "x", true},
		{`{"a":{"c":1}}`, "c", nil, false},
		{`{}`, "a", nil, false},
		{` { "a" : true } `, "a", true, true},
	} {
		v, found, ok := jsonMember(c.d, c.key)
		if !ok || found != c.found || !reflect.DeepEqual(v, c.want) {
			t.Errorf("jsonMember(%q, %q) = %#v, %v, %v; want %#v, %v, true", c.d, c.key, v, found, ok, c.want, c.found)
		}
	}
}

// FuzzSplice checks the cookie commit's shortcut: splicing a request's Sets
// and Deletes into the payload it loaded gives the object that decoding
// the payload, applying them and encoding the values gives.
func FuzzSplice(f *testing.F) {
	f.Add(`{"counter":41}`, []byte{0x01})
	f.Add(`{}`, []byte{0x00, 0x13, 0x22})
	f.Add(` { "a" : [1,{"b":2}] , "c":"x\"y" } `, []byte{0x80, 0x05, 0x81})
	f.Add(`{"a":1,"a":2,"b":3}`, []byte{0x82, 0x01})
	f.Add(`{"counter":41,"x":"1.5"}`, []byte{0xc3, 0xc3, 0x04})
	f.Add(`{"\u0061":1}`, []byte{0x00})
	keys := []string{"a", "b", "c", "counter"}
	vals := []any{1, "two", nil, []any{true, 3.5}, map[string]any{"k": "v"}, json.Number("12")}
	f.Fuzz(func(t *testing.T, raw string, spec []byte) {
		start, err := parseJSONObject(raw)
		if err != nil || len(spec) > 16 {
			return
		}
		var ops []op
		applied, _ := parseJSONObject(raw)
		for _, c := range spec {
			o := op{kind: opSet, key: keys[int(c)%len(keys)], val: vals[int(c>>2)%len(vals)]}
			switch c >> 6 {
			case 2:
				o.kind, o.val = opDelete, nil
			case 3:
				// An Incr carries its result, as Session.record gives it.
				n, _ := toInt64(applied[o.key])
				o.kind, o.delta, o.val = opIncr, int64(c&7)-3, nil
				o.val = n + o.delta
			}
			o.apply(applied)
			ops = append(ops, o)
		}
		spliced, err := appendSpliced(nil, raw, ops)
		if errors.Is(err, errNotSpliceable) {
			return
		}
		if err != nil {
			t.Fatalf("appendSpliced(%q): %v", raw, err)
		}
		got, err := parseJSONObject(string(spliced))
		if err != nil {
			t.Fatalf("appendSpliced(%q) = %q, which does not decode: %v", raw, spliced, err)
		}
		for _, o := range ops {
			o.apply(start)
		}
		if !reflect.DeepEqual(start, applied) {
			t.Fatal("applying the ops twice differs")
		}
		enc, err := appendJSON(nil, start)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := parseJSONObject(string(enc))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("raw %q, ops %v: spliced %q decodes to %v; applying the ops gives %v", raw, ops, spliced, got, want)
		}
	})
}
