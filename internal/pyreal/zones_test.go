package pyreal_test

import (
	"testing"

	"github.com/wsess/wsess/internal/pyreal"
)

// TestRealCodeHasNoLocalZone: the wsess pickle decoder refuses a time in the
// zone named "Local" (internal/pickle TestZoneNames), which Go's
// time.LoadLocation would read as the machine's own zone. The real
// frameworks' code cannot write one: zoneinfo, pytz and pendulum each
// refuse the name, so the refusal loses no value a real app stores. Europe/Rome
// is made by the same requests, so a failure is the zone's.
func TestRealCodeHasNoLocalZone(t *testing.T) {
	pyreal.Require(t)
	s := pyreal.Shared(t, "emmett-2.7.1")
	for _, tt := range []struct{ kind, tz string }{
		{"$datetime", "zoneinfo:"},
		{"$datetime", "pytz:"},
		{"$pendulum", ""},
	} {
		t.Run(tt.kind+" "+tt.tz, func(t *testing.T) {
			store := func(zone string) error {
				r, err := s.Call(map[string]any{"op": "make-redis-value", "session": map[string]any{
					"t": map[string]any{tt.kind: "2024-05-17T13:45:30", "tz": tt.tz + zone},
				}})
				if err != nil {
					t.Fatal(err)
				}
				return r.Err()
			}
			if err := store("Europe/Rome"); err != nil {
				t.Fatalf("Europe/Rome: %v", err)
			}
			err := store("Local")
			if err == nil {
				t.Fatal(`the real code stored a time in the zone "Local"`)
			}
			t.Logf("refused: %v", err)
		})
	}
}
