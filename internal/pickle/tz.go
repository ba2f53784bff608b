package pickle

import (
	"sync"
	"time"
)

// zoneOffset gives the UTC offset that Python's isoformat() prints for dt
// with the tzinfo tz (FORMATS.md 1a). It understands, by class name only:
//
//	datetime.timezone(timedelta)                 a fixed offset
//	pendulum FixedTimezone(offset_seconds, name) a fixed offset (pendulum 2 and 3)
//	pytz._p(zone, utcoffset, dst, tzname)        the offset pytz localized to
//	pytz._p(zone), pytz._UTC()                   a static zone, UTC
//	zoneinfo.ZoneInfo._unpickle(key, 1)          a zone of the tz database
//	pendulum.tz.timezone.Timezone._unpickle(key, 1) (pendulum 3), Timezone(key) (pendulum 2)
//
// A named zone gives its offset at dt's wall time from this system's tz
// database, with fold chosen as PEP 495 says. A time (no date) has an
// offset only with a fixed zone, as Python's time.utcoffset() asks the
// zone with no date. Any other tzinfo is ErrUnsupported.
func (d *decoder) zoneOffset(tz any, dt DateTime) (time.Duration, bool, error) {
	o, ok := tz.(*pObj)
	if !ok {
		return 0, false, d.errf(ErrUnsupported, "tzinfo %s", describe(tz))
	}
	named := func(key any) (time.Duration, bool, error) {
		name, ok := key.(string)
		if !ok {
			return 0, false, d.errf(ErrMalformed, "%s needs a zone name", o.class)
		}
		if dt.Kind == KindTime {
			return 0, false, nil
		}
		loc, err := loadZone(name)
		if err != nil {
			return 0, false, d.errf(ErrUnsupported, "time zone %q is not in this system's tz database", name)
		}
		return wallOffset(loc, dt), true, nil
	}
	seconds := func(v any) (time.Duration, bool, error) {
		n, ok := v.(int64)
		if !ok || n <= -86400 || n >= 86400 {
			return 0, false, d.errf(ErrMalformed, "%s: bad UTC offset", o.class)
		}
		return time.Duration(n) * time.Second, true, nil
	}
	switch o.class {
	case "datetime.timezone":
		if len(o.args) == 0 {
			break
		}
		td, ok := o.args[0].(Duration)
		if !ok {
			return 0, false, d.errf(ErrUnsupported, "timezone offset is not a timedelta")
		}
		if td.Days < -1 || td.Days > 0 {
			return 0, false, d.errf(ErrMalformed, "timezone offset out of range")
		}
		return time.Duration(td.Days)*24*time.Hour + time.Duration(td.Seconds)*time.Second +
			time.Duration(td.Microseconds)*time.Microsecond, true, nil
	case "pendulum.tz.timezone.FixedTimezone", "pendulum.FixedTimezone":
		if len(o.args) > 0 {
			return seconds(o.args[0])
		}
	case "pytz._UTC":
		return 0, true, nil
	case "pytz._p":
		switch {
		case len(o.args) == 1:
			return named(o.args[0])
		case len(o.args) >= 2:
			if dt.Kind == KindTime {
				return 0, false, nil
			}
			return seconds(o.args[1])
		}
	case "zoneinfo.ZoneInfo._unpickle", "backports.zoneinfo.ZoneInfo._unpickle",
		"pendulum.tz.timezone.Timezone._unpickle", "pendulum.Timezone._unpickle",
		"pendulum.tz.timezone.Timezone", "pendulum.Timezone":
		if len(o.args) > 0 {
			return named(o.args[0])
		}
	}
	return 0, false, d.errf(ErrUnsupported, "tzinfo %s", describe(tz))
}

// wallOffset is the offset of loc at the wall time dt, as Python's zoneinfo
// computes it: where the wall time is ambiguous (clocks turned back) or
// skipped (clocks turned forward), fold 0 takes the offset from before the
// transition and fold 1 the one after.
func wallOffset(loc *time.Location, dt DateTime) time.Duration {
	wall := time.Date(dt.Year, time.Month(dt.Month), dt.Day, dt.Hour, dt.Minute, dt.Second, 0, time.UTC).Unix()
	const day = 24 * 60 * 60
	before := time.Unix(wall-day, 0).In(loc)
	_, offBefore := before.Zone()
	_, offAfter := time.Unix(wall+day, 0).In(loc).Zone()
	if offBefore == offAfter {
		return time.Duration(offBefore) * time.Second
	}
	_, end := before.ZoneBounds()
	if end.IsZero() {
		return time.Duration(offBefore) * time.Second
	}
	t := end.Unix()
	validBefore := wall-int64(offBefore) < t
	validAfter := wall-int64(offAfter) >= t
	off := offBefore
	switch {
	case validBefore && validAfter, !validBefore && !validAfter:
		if dt.Fold == 1 {
			off = offAfter
		}
	case validAfter:
		off = offAfter
	}
	return time.Duration(off) * time.Second
}

// zones caches the tz database zones loaded so far: a session names few,
// and time.LoadLocation reads a file each time. It holds at most maxZones
// (the database has about 600 names); further names are loaded uncached.
var zones struct {
	sync.Mutex
	m map[string]*time.Location
}

const maxZones = 1024

func loadZone(name string) (*time.Location, error) {
	if name == "UTC" {
		return time.UTC, nil
	}
	zones.Lock()
	loc, ok := zones.m[name]
	zones.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Lock()
	if zones.m == nil {
		zones.m = make(map[string]*time.Location)
	}
	if len(zones.m) < maxZones {
		zones.m[name] = loc
	}
	zones.Unlock()
	return loc, nil
}

// makeDuration reads timedelta's arguments (days, seconds, microseconds)
// and normalises them as Python does.
func (d *decoder) makeDuration(args []any) (any, error) {
	var parts [3]int64
	for i, a := range args {
		n, ok := a.(int64)
		if !ok || i >= 3 || n < -1<<50 || n > 1<<50 {
			return nil, d.errf(ErrMalformed, "bad timedelta arguments")
		}
		parts[i] = n
	}
	days, secs, us := parts[0], parts[1], parts[2]
	secs += floorDiv(us, 1000000)
	us -= floorDiv(us, 1000000) * 1000000
	days += floorDiv(secs, 86400)
	secs -= floorDiv(secs, 86400) * 86400
	if days < -999999999 || days > 999999999 {
		return nil, d.errf(ErrMalformed, "timedelta out of range")
	}
	return Duration{Days: days, Seconds: secs, Microseconds: us}, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
