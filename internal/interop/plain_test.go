package interop_test

import (
	"reflect"
	"testing"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/pickle"
)

func TestPlain(t *testing.T) {
	obj := pickle.Object{Class: "weppy.datastructures.sdict", State: map[string]any{"n": int64(1)}}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"scalar", "x", "x"},
		{"object", obj, map[string]any{"n": int64(1)}},
		{"nested", map[string]any{"a": []any{obj, 2.5}}, map[string]any{"a": []any{map[string]any{"n": int64(1)}, 2.5}}},
		{"object in object", pickle.Object{Class: "c", State: []any{obj}}, []any{map[string]any{"n": int64(1)}}},
		{"struct without State", pickle.Global{Module: "m", Name: "n"}, pickle.Global{Module: "m", Name: "n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := interop.Plain(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plain(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}
