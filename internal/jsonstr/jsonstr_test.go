package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

func std(s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c\n\r\t\b\f\x00\x1f\x7f", "<a>&", "\xff\xfe", "Zoë ✓ 😀", "\u2028\u2029", "tab\there"} {
		for _, html := range []bool{true, false} {
			if got, want := Append(nil, s, html), std(s, html); !bytes.Equal(got, want) {
				t.Errorf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("a<b>\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			if got, want := Append(nil, s, html), std(s, html); !bytes.Equal(got, want) {
				t.Fatalf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	})
}
