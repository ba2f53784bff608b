package inspect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wsess/wsess/internal/pickle"
)

// TestDecodeValueZones: pendulum, pytz and zoneinfo times that the real
// frameworks pickled (internal/pickle/testdata/zones) reach `wsess decode`,
// `redis show` and `ls --decode` as isoformat() strings with the offset.
func TestDecodeValueZones(t *testing.T) {
	tests := []struct{ fixture, want string }{
		{"weppy-1.3.4-pendulum-rome-winter", "2024-01-17T13:45:30.000500+01:00"},
		{"emmett-2.4.14-pendulum-new-york", "2024-07-04T09:00:00-04:00"},
		{"emmett-2.4.14-pendulum-date", "2024-02-29"},
		{"emmett-2.5.13-pendulum-rome-summer", "2024-05-17T13:45:30+02:00"},
		{"emmett-2.5.13-zoneinfo-rome-gap", "2024-03-31T02:30:00+01:00"},
		{"emmett-2.5.13-pytz-new-york-ambiguous", "2024-11-03T01:30:00-05:00"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "pickle", "testdata", "zones", tt.fixture+".pickle"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := DecodeValue(raw, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Data["v"]; got != tt.want {
				t.Fatalf("v = %#v, want %q", got, tt.want)
			}
		})
	}
}

func TestToJSONDuration(t *testing.T) {
	got := ToJSON(map[string]any{"d": pickle.Duration{Days: 1, Seconds: 90}})
	if d := got.(map[string]any)["d"]; d != "P1DT1M30S" {
		t.Fatalf("d = %#v, want P1DT1M30S", d)
	}
}
