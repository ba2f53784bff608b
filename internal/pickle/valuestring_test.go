package pickle

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// dateTimeRef is DateTime.String as first written (through fmt).
func dateTimeRef(d DateTime) string {
	var b strings.Builder
	if d.Kind != KindTime {
		fmt.Fprintf(&b, "%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	if d.Kind == KindDate {
		return b.String()
	}
	if d.Kind == KindDateTime {
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", d.Hour, d.Minute, d.Second)
	if d.Microsecond != 0 {
		fmt.Fprintf(&b, ".%06d", d.Microsecond)
	}
	if d.HasOffset {
		off := d.Offset
		sign := byte('+')
		if off < 0 {
			sign = '-'
			off = -off
		}
		h := int(off / time.Hour)
		m := int(off % time.Hour / time.Minute)
		s := int(off % time.Minute / time.Second)
		us := int(off % time.Second / time.Microsecond)
		fmt.Fprintf(&b, "%c%02d:%02d", sign, h, m)
		if s != 0 || us != 0 {
			fmt.Fprintf(&b, ":%02d", s)
			if us != 0 {
				fmt.Fprintf(&b, ".%06d", us)
			}
		}
	}
	return b.String()
}

// durationRef is Duration.String as first written (through fmt).
func durationRef(d Duration) string {
	days, secs, us := d.Days, d.Seconds, d.Microseconds
	sign := ""
	if days < 0 {
		sign = "-"
		days = -days
		if us > 0 {
			us = 1000000 - us
			secs++
		}
		if secs > 0 {
			secs = 86400 - secs
			days--
		}
	}
	var b strings.Builder
	b.WriteString(sign)
	b.WriteByte('P')
	if days != 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if secs == 0 && us == 0 {
		if days == 0 {
			b.WriteString("T0S")
		}
		return b.String()
	}
	b.WriteByte('T')
	if h := secs / 3600; h != 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m := secs % 3600 / 60; m != 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if s := secs % 60; s != 0 || us != 0 {
		fmt.Fprintf(&b, "%d", s)
		if us != 0 {
			b.WriteString(strings.TrimRight(fmt.Sprintf(".%06d", us), "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// FuzzValueStrings: DateTime and Duration render exactly as they did
// through fmt, whatever their fields (the decoder only makes valid ones;
// callers may build any).
func FuzzValueStrings(f *testing.F) {
	f.Add(2024, 5, 17, 13, 45, 30, 123456, int64(3600), true, uint8(0), int64(3), int64(4), int64(7))
	f.Add(1, 1, 1, 0, 0, 0, 0, int64(-19800), true, uint8(1), int64(-1), int64(86399), int64(999999))
	f.Add(-5, 123, -1, 24, 60, 61, -1, int64(math.MinInt64), true, uint8(2), int64(math.MinInt64), int64(-5), int64(-10))
	f.Add(9999, 12, 31, 23, 59, 59, 999999, int64(-1), false, uint8(0), int64(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, y, mo, d, h, mi, s, us int, off int64, hasOff bool, kind uint8, days, secs, dus int64) {
		dt := DateTime{Kind: DateKind(kind % 3), Year: y, Month: mo, Day: d, Hour: h, Minute: mi, Second: s,
			Microsecond: us, HasOffset: hasOff, Offset: time.Duration(off)}
		if got, want := dt.String(), dateTimeRef(dt); got != want {
			t.Fatalf("%#v: String() = %q, want %q", dt, got, want)
		}
		du := Duration{Days: days, Seconds: secs, Microseconds: dus}
		if got, want := du.String(), durationRef(du); got != want {
			t.Fatalf("%#v: String() = %q, want %q", du, got, want)
		}
	})
}
