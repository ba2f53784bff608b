package interop

import (
	"reflect"
	"testing"
)

func TestVectors(t *testing.T) {
	vs, err := Vectors()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, v := range vs {
		counts[v.Format]++
		if len(v.Expected) == 0 {
			t.Fatalf("%s/%s has no expected value", v.Format, v.Case)
		}
		if v.Framework == "" || v.Proto == 0 || len(v.Classes) == 0 {
			t.Fatalf("%s/%s does not say what made it", v.Format, v.Case)
		}
	}
	if want := map[string]int{"weppy": 17, "emmett": 26, "pickle": 16}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("vectors per format %v, want %v", counts, want)
	}
}

func TestCanonical(t *testing.T) {
	got, err := Canonical([]byte(`{"a":{"__class__":"x.Y","n":1180591620717411303424},"l":[{"__class__":"z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Canonical([]byte(`{"a":{"n":1180591620717411303424},"l":[{}]}`))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Canonical = %v, want %v", got, want)
	}
}

func TestCanonicalNumbers(t *testing.T) {
	a := MustCanonical(t, []byte(`[1.50, 1e2, 1180591620717411303424, -3]`))
	b := MustCanonical(t, []byte(`[1.5, 100, 1180591620717411303424, -3.0]`))
	c := MustCanonical(t, []byte(`[1.5, 100, 1180591620717411303425, -3]`))
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%v != %v", a, b)
	}
	if reflect.DeepEqual(b, c) {
		t.Fatal("big integers differing in the last digit compare equal")
	}
}

func TestHasZonedDates(t *testing.T) {
	tests := []struct {
		classes []string
		want    bool
	}{
		{[]string{"weppy.datastructures.sdict"}, false},
		{[]string{"datetime.datetime", "datetime.timezone", "emmett.datastructures.sdict"}, false},
		{[]string{"emmett.datastructures.sdict", "pendulum.datetime.DateTime"}, true},
		{[]string{"pytz._p"}, true},
		{[]string{"builtins.getattr", "zoneinfo.ZoneInfo"}, true},
	}
	for _, tt := range tests {
		if got := (Vector{Classes: tt.classes}).HasZonedDates(); got != tt.want {
			t.Errorf("HasZonedDates(%v) = %v, want %v", tt.classes, got, tt.want)
		}
	}
}
