package pickle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
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
func (d DateTime) String() string { return string(d.appendISO(make([]byte, 0, 32))) }

// appendISO appends what String returns: without fmt, as a value is
// rendered for every place it has in a dict key.
func (d DateTime) appendISO(b []byte) []byte {
	if d.Kind != KindTime {
		b = appendPadded(b, d.Year, 4)
		b = append(b, '-')
		b = appendPadded(b, d.Month, 2)
		b = append(b, '-')
		b = appendPadded(b, d.Day, 2)
	}
	if d.Kind == KindDate {
		return b
	}
	if d.Kind == KindDateTime {
		b = append(b, 'T')
	}
	b = appendClock(b, d.Hour, d.Minute, d.Second)
	if d.Microsecond != 0 {
		b = append(b, '.')
		b = appendPadded(b, d.Microsecond, 6)
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
		b = append(b, sign)
		b = appendPadded(b, h, 2)
		b = append(b, ':')
		b = appendPadded(b, m, 2)
		if s != 0 || us != 0 {
			b = append(b, ':')
			b = appendPadded(b, s, 2)
			if us != 0 {
				b = append(b, '.')
				b = appendPadded(b, us, 6)
			}
		}
	}
	return b
}

// appendClock appends hh:mm:ss.
func appendClock(b []byte, h, m, s int) []byte {
	b = appendPadded(b, h, 2)
	b = append(b, ':')
	b = appendPadded(b, m, 2)
	b = append(b, ':')
	return appendPadded(b, s, 2)
}

// appendPadded appends v in decimal, zero-padded to width characters as
// fmt's %0<width>d does (a minus sign counts in the width).
func appendPadded(b []byte, v, width int) []byte { return appendPadded64(b, int64(v), width) }

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
func (d Duration) String() string { return string(d.appendISO(make([]byte, 0, 32))) }

// appendISO appends what String returns.
func (d Duration) appendISO(b []byte) []byte {
	days, secs, us := d.Days, d.Seconds, d.Microseconds
	if days < 0 {
		b = append(b, '-')
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
	b = append(b, 'P')
	if days != 0 {
		b = strconv.AppendInt(b, days, 10)
		b = append(b, 'D')
	}
	if secs == 0 && us == 0 {
		if days == 0 {
			b = append(b, "T0S"...)
		}
		return b
	}
	b = append(b, 'T')
	if h := secs / 3600; h != 0 {
		b = strconv.AppendInt(b, h, 10)
		b = append(b, 'H')
	}
	if m := secs % 3600 / 60; m != 0 {
		b = strconv.AppendInt(b, m, 10)
		b = append(b, 'M')
	}
	if s := secs % 60; s != 0 || us != 0 {
		b = strconv.AppendInt(b, s, 10)
		if us != 0 {
			b = append(b, '.')
			b = appendPadded64(b, us, 6)
			b = bytes.TrimRight(b, "0") // stops at the digits' last non-zero
		}
		b = append(b, 'S')
	}
	return b
}

// appendPadded64 is appendPadded for an int64.
func appendPadded64(b []byte, v int64, width int) []byte {
	var u uint64
	if v < 0 {
		b = append(b, '-')
		width--
		u = uint64(-(v + 1)) + 1
	} else {
		u = uint64(v)
	}
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	for i := len(digits); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, digits...)
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
