package session

import (
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"
)

func TestOperationsReplay(t *testing.T) {
	s := &Session{}
	s.Set("a", "x")
	s.Incr("n", 2)
	s.Delete("gone")
	s.Incr("n", 3)
	s.Set("b", true)

	// Replaying the ops on a value another request wrote keeps its keys,
	// adds to its counter and overwrites only the keys this request set.
	other := map[string]any{"n": json.Number("10"), "gone": 1, "theirs": "kept", "a": "old"}
	for _, o := range s.ops {
		o.apply(other)
	}
	want := map[string]any{"n": int64(15), "theirs": "kept", "a": "x", "b": true}
	if !reflect.DeepEqual(other, want) {
		t.Fatalf("replay = %#v, want %#v", other, want)
	}
	if got := s.Int("n"); got != 5 {
		t.Fatalf("Int(n) = %d, want 5", got)
	}
}

func TestClearRecordsAndReplays(t *testing.T) {
	s := &Session{values: map[string]any{"a": 1}}
	s.Clear()
	s.Set("b", 2)
	other := map[string]any{"a": 1, "c": 3}
	for _, o := range s.ops {
		o.apply(other)
	}
	if !reflect.DeepEqual(other, map[string]any{"b": 2}) {
		t.Fatalf("after Clear+Set replay: %v", other)
	}
}

func TestTypedGetters(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 70)
	s := &Session{values: map[string]any{
		"num":   json.Number("42"),
		"numf":  json.Number("42.0"),
		"float": 3.0,
		"frac":  3.5,
		"i64":   int64(-7),
		"big":   big1,
		"small": big.NewInt(9),
		"str":   "hi",
		"yes":   true,
	}}
	tests := []struct {
		key  string
		want int
	}{
		{"num", 42}, {"numf", 42}, {"float", 3}, {"frac", 0}, {"i64", -7},
		{"big", 0}, {"small", 9}, {"str", 0}, {"missing", 0},
	}
	for _, tt := range tests {
		if got := s.Int(tt.key); got != tt.want {
			t.Errorf("Int(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
	if s.String("str") != "hi" || s.String("num") != "" {
		t.Errorf("String getters wrong")
	}
	if !s.Bool("yes") || s.Bool("str") {
		t.Errorf("Bool getters wrong")
	}
	if s.Float64("frac") != 3.5 || s.Float64("num") != 42 {
		t.Errorf("Float64 getters wrong")
	}
	if _, ok := s.Get("missing"); ok || s.Has("missing") || !s.Has("num") {
		t.Errorf("presence wrong")
	}
	if s.Modified() {
		t.Errorf("reads marked the session modified")
	}
}

func TestFlashAndKeys(t *testing.T) {
	s := &Session{}
	s.SetFlash("msg", "saved")
	s.Set("user", "ann")
	s.SetExpire(10 * time.Minute)
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"user"}) {
		t.Fatalf("Keys = %v, want [user] (reserved keys hidden)", got)
	}
	if got := s.expireOrLocked(time.Hour); got != 10*time.Minute {
		t.Fatalf("expiry override = %v", got)
	}
	if v, ok := s.Flash("msg"); !ok || v != "saved" {
		t.Fatalf("Flash = %v, %v", v, ok)
	}
	if _, ok := s.Flash("msg"); ok {
		t.Fatal("flash read twice")
	}
	s.SetExpire(0)
	if got := s.expireOrLocked(time.Hour); got != time.Hour {
		t.Fatalf("expiry after removing the override = %v", got)
	}
}

func TestValidID(t *testing.T) {
	good := newID()
	tests := []struct {
		id   string
		want bool
	}{
		{good, true},
		{"9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10", true},
		{"9B2F4A0E-6F4C-4E0E-8D2A-3F1C2B7A9E10", false}, // uppercase: not what Python writes
		{"9b2f4a0e-6f4c-1e0e-8d2a-3f1c2b7a9e10", false}, // version 1
		{"9b2f4a0e-6f4c-4e0e-cd2a-3f1c2b7a9e10", false}, // wrong variant
		{"abc*", false},
		{"", false},
		{good[:42], false},
		{good + "A", false},
		{good[:42] + "*", false},
		{good[:42] + "B", false}, // non-canonical last character (B = 1)
		{string(make([]byte, 10240)), false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%.50q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
