package wellknown

import (
	"strings"
	"testing"
)

// Every entry has a secret and a source, and none is listed twice.
func TestEveryEntryHasASource(t *testing.T) {
	seen := map[string]bool{}
	all := All()
	if len(all) < 5 {
		t.Fatalf("only %d entries", len(all))
	}
	for i, w := range all {
		if w.Secret == "" || strings.TrimSpace(w.Source) == "" || strings.ContainsAny(w.Secret, "\t\r") {
			t.Errorf("entry %d: %+v: want a secret, a tab and a source", i+1, w)
		}
		if seen[w.Secret] {
			t.Errorf("entry %d: %q is listed twice", i+1, w.Secret)
		}
		seen[w.Secret] = true
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"myverysecretkey", true},
		{"GreatScott", true},
		{"greatscott", false}, // secrets are compared exactly
		{"GreatScott ", false},
		{"", false},
		{"a-random-secret-of-forty-three-characters-", false},
	}
	for _, tt := range tests {
		w, ok := Lookup(tt.in)
		if ok != tt.want || ok && w.Source == "" {
			t.Errorf("Lookup(%q) = %+v, %v; want found %v", tt.in, w, ok, tt.want)
		}
	}
}

// A source is printed; the secret must not be part of it.
func TestSourcesDoNotRepeatTheSecret(t *testing.T) {
	for _, w := range All() {
		if strings.Contains(w.Source, w.Secret) && len(w.Secret) > 3 {
			t.Errorf("the source of %q repeats it: %q", w.Secret, w.Source)
		}
	}
}
