package session

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestPickleCodecZones: a pendulum DateTime in a named zone (pendulum 2,
// with its transition table) and a zoneinfo time, as the real weppy and
// Emmett wrote them, load with their UTC offset.
func TestPickleCodecZones(t *testing.T) {
	for fixture, want := range map[string]string{
		"weppy-1.3.4-pendulum-rome-winter":      "2024-01-17T13:45:30.000500+01:00",
		"emmett-2.7.1-zoneinfo-sao-paulo-1990":  "1990-12-01T12:00:00-02:00",
		"emmett-2.5.13-zoneinfo-rome-ambiguous": "2024-10-27T02:30:00+02:00",
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "pickle", "testdata", "zones", fixture+".pickle"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := PickleCodec{}.Unmarshal(raw)
		if err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		if got := fmt.Sprint(m["v"]); got != want {
			t.Errorf("%s: v = %s, want %s", fixture, got, want)
		}
	}
}
