package pickle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/interop"
)

var updateZones = flag.Bool("update-zones", false, "rewrite testdata/zones from ../shared/upstream/pyreal")

// zoneCases are session values with pendulum, pytz and zoneinfo times, in
// pyreal's request tags (../shared/upstream/README.md).
var zoneCases = []struct {
	name  string
	value map[string]any
}{
	{"pendulum-rome-summer", map[string]any{"$pendulum": "2024-05-17T13:45:30", "tz": "Europe/Rome"}},
	{"pendulum-rome-winter", map[string]any{"$pendulum": "2024-01-17T13:45:30.000500", "tz": "Europe/Rome"}},
	{"pendulum-new-york", map[string]any{"$pendulum": "2024-07-04T09:00:00", "tz": "America/New_York"}},
	{"pendulum-kolkata", map[string]any{"$pendulum": "2024-07-04T09:00:00", "tz": "Asia/Kolkata"}},
	{"pendulum-utc-name", map[string]any{"$pendulum": "2024-05-17T13:45:30", "tz": "UTC"}},
	{"pendulum-naive", map[string]any{"$pendulum": "2024-05-17T13:45:30.123456"}},
	{"pendulum-offset", map[string]any{"$pendulum": "2024-05-17T13:45:30+02:00"}},
	{"pendulum-negative-offset", map[string]any{"$pendulum": "2024-05-17T13:45:30-05:30"}},
	{"pendulum-z", map[string]any{"$pendulum": "2024-05-17T13:45:30Z"}},
	{"pendulum-date", map[string]any{"$pendulum_date": "2024-02-29"}},
	{"pendulum-time", map[string]any{"$pendulum_time": "13:45:30.000500"}},
	{"datetime-offset", map[string]any{"$datetime": "2024-05-17T13:45:30+02:00"}},
	{"datetime-z", map[string]any{"$datetime": "2024-05-17T13:45:30Z"}},
	{"pytz-rome-summer", map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "pytz:Europe/Rome"}},
	{"pytz-rome-winter", map[string]any{"$datetime": "2024-01-17T13:45:30.500", "tz": "pytz:Europe/Rome"}},
	{"pytz-utc", map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "pytz:UTC"}},
	{"pytz-kolkata", map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "pytz:Asia/Kolkata"}},
	{"pytz-new-york-ambiguous", map[string]any{"$datetime": "2024-11-03T01:30:00", "tz": "pytz:America/New_York"}},
	{"zoneinfo-rome-summer", map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "zoneinfo:Europe/Rome"}},
	{"zoneinfo-rome-winter", map[string]any{"$datetime": "2024-01-17T13:45:30", "tz": "zoneinfo:Europe/Rome"}},
	{"zoneinfo-utc", map[string]any{"$datetime": "2024-05-17T13:45:30", "tz": "zoneinfo:UTC"}},
	{"zoneinfo-rome-ambiguous", map[string]any{"$datetime": "2024-10-27T02:30:00", "tz": "zoneinfo:Europe/Rome"}},
	{"zoneinfo-rome-gap", map[string]any{"$datetime": "2024-03-31T02:30:00", "tz": "zoneinfo:Europe/Rome"}},
	{"zoneinfo-new-york-gap", map[string]any{"$datetime": "2024-03-10T02:30:00", "tz": "zoneinfo:America/New_York"}},
	{"zoneinfo-sao-paulo-1990", map[string]any{"$datetime": "1990-12-01T12:00:00", "tz": "zoneinfo:America/Sao_Paulo"}},
}

// pyreal starts ../shared/upstream/pyreal serve framework and returns a
// function that sends one request and reads its answer.
func pyreal(t *testing.T, bin, framework string) func(req map[string]any) map[string]any {
	t.Helper()
	cmd := exec.Command(bin, "serve", framework)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	enc := json.NewEncoder(in)
	return func(req map[string]any) map[string]any {
		t.Helper()
		if err := enc.Encode(req); err != nil {
			t.Fatal(err)
		}
		if !sc.Scan() {
			t.Fatalf("pyreal serve %s stopped: %v", framework, sc.Err())
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var resp map[string]any
		if err := dec.Decode(&resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
}

func pyrealBin(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "upstream", "pyreal"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("../shared/upstream is absent (%v): the real frameworks cannot be run", err)
	}
	return bin
}

// TestZonesFromRealFrameworks: each framework's real code
// pickles pendulum, pytz and zoneinfo times (its `now` action too), at its
// own protocol and at 0 and 2; what we decode renders exactly as the
// framework's `data`. A value the framework's Python cannot make (zoneinfo
// and pytz under weppy's CPython 3.7) is logged and left out.
func TestZonesFromRealFrameworks(t *testing.T) {
	bin := pyrealBin(t)
	if out, err := exec.Command(bin, "setup").CombinedOutput(); err != nil {
		t.Fatalf("pyreal setup: %v\n%s", err, out)
	}
	list, err := exec.Command(bin, "frameworks").Output()
	if err != nil {
		t.Fatalf("pyreal frameworks: %v", err)
	}
	frameworks := strings.Fields(string(list))
	if len(frameworks) < 5 {
		t.Fatalf("pyreal offers %q", frameworks)
	}
	if *updateZones {
		if err := os.RemoveAll(filepath.Join("testdata", "zones")); err != nil {
			t.Fatal(err)
		}
	}
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			call := pyreal(t, bin, fw)
			decoded := 0
			for _, c := range zoneCases {
				for _, proto := range []any{nil, 0, 2} {
					req := map[string]any{"op": "make-redis-value", "session": map[string]any{"v": c.value}, "actions": []string{"now"}}
					name := c.name
					if proto != nil {
						req["proto"] = proto
						name += "-proto" + jsonText(t, proto)
					}
					resp := call(req)
					if e, ok := resp["error"].(string); ok {
						if strings.Contains(e, "Python 3.9") || strings.Contains(e, "not available") {
							t.Logf("%s: %s cannot make it: %s", name, fw, e)
							continue
						}
						t.Fatalf("%s: %s", name, e)
					}
					raw, err := hex.DecodeString(resp["value_hex"].(string))
					if err != nil {
						t.Fatal(err)
					}
					want := []byte(jsonText(t, resp["data"]))
					got, err := UnmarshalMap(raw)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					decoded++
					interop.AssertPlainJSON(t, got, want)
					if *updateZones && proto == nil && keepFixture(fw, c.name) {
						writeZoneFixture(t, fw+"-"+c.name, raw, want)
					}
				}
			}
			if decoded < len(zoneCases) {
				t.Fatalf("only %d values decoded", decoded)
			}
		})
	}
}

// keepFixture picks the pickles checked in under testdata/zones, so that
// the offline test covers every tzinfo form: pendulum 2 (weppy, Emmett
// 2.4) and 3, pytz and zoneinfo.
func keepFixture(fw, name string) bool {
	switch fw {
	case "weppy-1.3.4":
		return name == "pendulum-rome-winter" || name == "pendulum-offset" || name == "pendulum-time"
	case "emmett-2.4.14":
		return name == "pendulum-new-york" || name == "pendulum-date" || name == "pytz-rome-summer"
	case "emmett-2.5.13":
		return name == "pendulum-rome-summer" || name == "pendulum-offset" || name == "zoneinfo-rome-gap" ||
			name == "zoneinfo-rome-ambiguous" || name == "pytz-new-york-ambiguous"
	case "emmett-2.7.1":
		return name == "pendulum-kolkata" || name == "zoneinfo-sao-paulo-1990"
	}
	return false
}

func writeZoneFixture(t *testing.T, name string, raw, want []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "zones")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pickle"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(want, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestZoneFixtures decodes the pickles that the real frameworks wrote
// (testdata/zones, made by TestZonesFromRealFrameworks -update-zones) and
// compares with what the framework itself read back.
func TestZoneFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "zones", "*.pickle"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 12 {
		t.Fatalf("only %d fixtures in testdata/zones", len(paths))
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".pickle"), func(t *testing.T) {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(p, ".pickle") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalMap(raw)
			if err != nil {
				t.Fatal(err)
			}
			interop.AssertPlainJSON(t, got, want)
		})
	}
}

// TestPendulumDuration: pendulum's Duration pickles as timedelta does,
// Duration(days, seconds, microseconds) (pyreal has no tag for it: these
// bytes are what pickle.dumps gave under pendulum 2.1.2 on CPython 3.7
// and pendulum 3.0.0 on 3.11, identical for both), and it decodes like a
// timedelta, to an ISO 8601 duration. Years and months are not pickled.
func TestPendulumDuration(t *testing.T) {
	tests := []struct {
		name, hex string
		want      Duration
		iso       string
	}{
		{"proto2", "80026370656e64756c756d2e6475726174696f6e0a4475726174696f6e0a71004b034d72394b078771015271022e",
			Duration{Days: 3, Seconds: 14706, Microseconds: 7}, "P3DT4H5M6.000007S"},
		{"proto4", "8004952d000000000000008c1170656e64756c756d2e6475726174696f6e948c084475726174696f6e9493944b034d72394b07879452942e",
			Duration{Days: 3, Seconds: 14706, Microseconds: 7}, "P3DT4H5M6.000007S"},
		{"timedelta-proto4", "80049525000000000000008c086461746574696d65948c0974696d6564656c74619493944b034d72394b07879452942e",
			Duration{Days: 3, Seconds: 14706, Microseconds: 7}, "P3DT4H5M6.000007S"},
		{"years-months", "8004952d000000000000008c1170656e64756c756d2e6475726174696f6e948c084475726174696f6e9493944dac014b004b00879452942e",
			Duration{Days: 428}, "P428D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if s := got.(Duration).String(); s != tt.iso {
				t.Fatalf("String() = %q, want %q", s, tt.iso)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    Duration
		want string
	}{
		{Duration{}, "PT0S"},
		{Duration{Days: -1, Seconds: 86399}, "-PT1S"},
		{Duration{Days: -1, Seconds: 86399, Microseconds: 500000}, "-PT0.5S"},
		{Duration{Days: -2, Seconds: 3600}, "-P1DT23H"},
		{Duration{Days: 1}, "P1D"},
		{Duration{Seconds: 60}, "PT1M"},
		{Duration{Seconds: 3661, Microseconds: 10}, "PT1H1M1.00001S"},
		{Duration{Days: 999999999, Seconds: 86399, Microseconds: 999999}, "P999999999DT23H59M59.999999S"},
		{Duration{Days: -999999999}, "-P999999999D"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := (Duration{Days: -1, Seconds: 86399}).Duration(); got != -time.Second {
		t.Errorf("Duration() = %v, want -1s", got)
	}
}

// TestZoneForms: the tzinfo forms of FORMATS.md 1a, hand-built so that
// they run without the frameworks, and those that are refused.
func TestZoneForms(t *testing.T) {
	dt := "cdatetime\ndatetime\n(M\xe8\x07K\x05K\x11K\x0dK\x2dK\x1eK\x00" // 2024-05-17 13:45:30 as fields
	tests := []struct {
		name string
		tz   string // pickle text that pushes the tzinfo
		want string
		err  error
	}{
		{"pytz static", "cpytz\n_p\n(X\x03\x00\x00\x00ESTtR", "2024-05-17T13:45:30-05:00", nil},
		{"pytz utc", "cpytz\n_UTC\n)R", "2024-05-17T13:45:30+00:00", nil},
		{"pendulum 2 named", "cpendulum.tz.timezone\nTimezone\n(X\x0b\x00\x00\x00Europe/RometR}b", "2024-05-17T13:45:30+02:00", nil},
		{"pendulum fixed", "cpendulum.tz.timezone\nFixedTimezone\n(J\xb8\xc0\xff\xffNtR", "2024-05-17T13:45:30-04:30", nil},
		{"zoneinfo", "cbuiltins\ngetattr\n(czoneinfo\nZoneInfo\nX\x09\x00\x00\x00_unpickletR(X\x0a\x00\x00\x00Asia/TokyoK\x01tR", "2024-05-17T13:45:30+09:00", nil},
		{"unknown zone name", "cbuiltins\ngetattr\n(czoneinfo\nZoneInfo\nX\x09\x00\x00\x00_unpickletR(X\x07\x00\x00\x00Nowhere\x4b\x01tR", "", ErrUnsupported},
		{"zone path escape", "cpendulum.tz.timezone\nTimezone\n(X\x0b\x00\x00\x00../etc/hosttR", "", ErrUnsupported},
		{"getattr of a string", "cbuiltins\ngetattr\n(X\x01\x00\x00\x00aX\x01\x00\x00\x00btR", "", ErrUnsupported},
		{"dateutil", "cdateutil.tz.tz\ntzutc\n)R", "", ErrUnsupported},
		{"fixed offset a day", "cpendulum.tz.timezone\nFixedTimezone\n(J\x80\x51\x01\x00NtR", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unmarshal([]byte(dt + tt.tz + "tR."))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.(DateTime).String(); s != tt.want {
				t.Fatalf("got %s, want %s", s, tt.want)
			}
		})
	}
}

// TestEncodeDuration: a Duration read from a session is written back as a
// datetime.timedelta that CPython loads to the same value.
func TestEncodeDuration(t *testing.T) {
	in := map[string]any{"d": Duration{Days: -1, Seconds: 86399, Microseconds: 5}, "p": Duration{Days: 3, Seconds: 14706, Microseconds: 7}}
	raw, err := Encoder{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got["d"] != in["d"] || got["p"] != in["p"] {
		t.Fatalf("round trip gave %v", got)
	}
	if _, err := (Encoder{}).Encode(map[string]any{"x": Duration{Seconds: 86400}}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("unnormalised Duration: err = %v, want ErrUnsupported", err)
	}
	py := needPython(t)
	script := "import pickle,sys,types,datetime\n" +
		"m=types.ModuleType('emmett.datastructures'); m.sdict=type('sdict',(dict,),{})\n" +
		"sys.modules['emmett']=types.ModuleType('emmett'); sys.modules['emmett.datastructures']=m\n" +
		"d=pickle.loads(bytes.fromhex(sys.argv[1]))\n" +
		"print(repr(d['d']), repr(d['p']))"
	out, err := exec.Command(py, "-c", script, hex.EncodeToString(raw)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "datetime.timedelta(days=-1, seconds=86399, microseconds=5) datetime.timedelta(days=3, seconds=14706, microseconds=7)\n"
	if string(out) != want {
		t.Fatalf("python loaded %q, want %q", out, want)
	}
}
