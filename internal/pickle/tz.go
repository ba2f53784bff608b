package pickle

import (
	"strings"
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
		loc, err := d.zone(name)
		if err != nil {
			return 0, false, err
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

// zoneLoadCost is what loading a zone that is not cached costs in
// elements: time.LoadLocation reads and parses a file, about 50 µs, the
// time of some thousand elements of other work. A decode can therefore
// load at most a hundred or so zones, however many names it carries.
const zoneLoadCost = 1024

// zone returns the zone of the tz database with that name: from this
// decode's zones, then from the process's cache, else loaded (and charged
// zoneLoadCost first). A name that is not in the canonical form of the
// database's names is refused before any file is read: the files answer
// to any number of spellings ("Europe//Berlin", "Europe/./Berlin"), each
// of which would otherwise be a file read of its own.
func (d *decoder) zone(name string) (*time.Location, error) {
	if loc, ok := d.zones[name]; ok {
		return loc, nil
	}
	if !zoneName(name) {
		return nil, d.errf(ErrUnsupported, "%q is not a time zone name", name)
	}
	loc, ok := cachedZone(name)
	if !ok {
		if err := d.charge(zoneLoadCost); err != nil {
			return nil, err
		}
		var err error
		if loc, err = loadZone(name); err != nil {
			return nil, d.errf(ErrUnsupported, "time zone %q is not in this system's tz database", name)
		}
	}
	if d.zones == nil {
		d.zones = make(map[string]*time.Location)
	}
	d.zones[name] = loc
	return loc, nil
}

// zoneName reports whether name has the form of a tz database name:
// segments of letters, digits, '_', '-' and '+' ("America/Port-au-Prince",
// "Etc/GMT+5") joined by single slashes. "Local" is not one: Go's
// time.LoadLocation gives the machine's own zone for it, so a value naming
// it would decode differently on every host, and Python's zoneinfo and pytz
// refuse it.
func zoneName(name string) bool {
	if name == "" || name == "Local" || len(name) > 255 {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '+') {
				return false
			}
		}
	}
	return true
}

// zones caches the tz database zones loaded so far: a session names few,
// and time.LoadLocation reads a file each time. It holds at most maxZones
// (the database has about 600 names); further names are loaded uncached.
var zones struct {
	sync.Mutex
	m map[string]*time.Location
}

const maxZones = 1024

// cachedZone returns the zone from the process's cache (UTC always).
func cachedZone(name string) (*time.Location, bool) {
	if name == "UTC" {
		return time.UTC, true
	}
	zones.Lock()
	defer zones.Unlock()
	loc, ok := zones.m[name]
	return loc, ok
}

// loadZone loads a zone from the tz database and caches it.
func loadZone(name string) (*time.Location, error) {
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
