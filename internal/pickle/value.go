package pickle

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// DateKind tells which of Python's datetime classes a DateTime came from.
type DateKind uint8

const (
	KindDateTime DateKind = iota // datetime.datetime
	KindDate                     // datetime.date
	KindTime                     // datetime.time
)

// DateTime is a Python datetime.datetime, datetime.date or datetime.time.
// Fields a kind does not have are zero. Offset is set only when the pickle
// carried a fixed-offset tzinfo (datetime.timezone).
type DateTime struct {
	Kind        DateKind
	Year        int
	Month       int
	Day         int
	Hour        int
	Minute      int
	Second      int
	Microsecond int
	Fold        int
	HasOffset   bool
	Offset      time.Duration
}

// String renders the value as Python's isoformat() does.
func (d DateTime) String() string {
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

// Time converts the value to a time.Time. A naive value is placed in loc
// (UTC when loc is nil); a time-only value is placed on 0000-01-01.
func (d DateTime) Time(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if d.HasOffset {
		loc = time.FixedZone("", int(d.Offset/time.Second))
	}
	y, mo, day := d.Year, d.Month, d.Day
	if d.Kind == KindTime {
		y, mo, day = 0, 1, 1
	}
	return time.Date(y, time.Month(mo), day, d.Hour, d.Minute, d.Second, d.Microsecond*1000, loc)
}

// MarshalJSON renders the value as its isoformat() string.
func (d DateTime) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// FromTime returns the naive datetime.datetime that has t's wall clock
// (t's zone is dropped, sub-microsecond digits are truncated).
func FromTime(t time.Time) DateTime {
	return DateTime{
		Kind: KindDateTime, Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(), Microsecond: t.Nanosecond() / 1000,
	}
}

// Duration is a Python datetime.timedelta, or a pendulum Duration (which
// pickles as a timedelta: pendulum's years and months are not kept).
// Fields are normalised as Python keeps them: Days may be negative,
// 0 <= Seconds < 86400 and 0 <= Microseconds < 1000000.
type Duration struct {
	Days, Seconds, Microseconds int64
}

// String renders the duration in ISO 8601 form: "P3DT4H5M6.000007S",
// "-PT1S" for timedelta(seconds=-1), "PT0S" for zero.
func (d Duration) String() string {
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

// Duration converts the value to a time.Duration, which holds about
// 292 years: beyond that it saturates.
func (d Duration) Duration() time.Duration {
	const maxDays = int64(math.MaxInt64/(24*time.Hour)) - 1
	switch {
	case d.Days > maxDays:
		return math.MaxInt64
	case d.Days < -maxDays:
		return math.MinInt64
	}
	return time.Duration(d.Days)*24*time.Hour + time.Duration(d.Seconds)*time.Second +
		time.Duration(d.Microseconds)*time.Microsecond
}

// MarshalJSON renders the value as its ISO 8601 string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Object is an instance of a class the decoder does not map to a Go value.
// The class is named, never imported or executed.
//
// State is what BUILD gave the instance (usually a map[string]any of its
// attributes), Args what its constructor was called with (REDUCE, NEWOBJ,
// OBJ, INST). Either may be nil.
type Object struct {
	Class string
	State any
	Args  []any
}

// String returns a short description such as "decimal.Decimal('1.5')".
func (o Object) String() string {
	return fmt.Sprintf("%s(%v)", o.Class, o.Args)
}

// Global is a reference to a class or function that was pickled as a value
// (for example a class stored in a session). It is never resolved.
type Global struct {
	Module, Name string
}

func (g Global) String() string { return g.Module + "." + g.Name }
