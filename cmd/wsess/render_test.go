package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// renderT0 is the clock of the rendered sessions.
var renderT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// renderSessions are the sessions the render golden files show: a weppy
// and an Emmett cookie of the interop vectors, a wsess cookie and an empty
// stored value.
func renderSessions(t *testing.T) map[string]*inspect.Session {
	t.Helper()
	out := map[string]*inspect.Session{}
	for _, v := range pyCookies(t) {
		name := v.Format + "_" + v.Case
		if _, ok := out[name]; ok || !(v.Format == "weppy" && v.Case == "auth" || v.Format == "emmett" && v.Case == "types") {
			continue
		}
		s, err := inspect.DecodeCookie("wpp_session_data_app="+v.Cookie, inspect.CookieOptions{Secrets: []string{v.Key}})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	const secret = "golden-secret-0123456789"
	mgr, err := session.NewCookieManager(secret, session.CookieOptions{
		AllowShortSecret: true,
		Options:          session.Options{Clock: func() time.Time { return renderT0 }},
	})
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := mgr.Seal(map[string]any{"counter": 41, "flash": []any{"saved"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspect.DecodeCookie(cookie, inspect.CookieOptions{Secrets: []string{secret}, Now: func() time.Time { return renderT0 }})
	if err != nil {
		t.Fatal(err)
	}
	out["wsess"] = s
	// A logged-in session: the library's reserved keys become named
	// fields, the app's keys stay data.
	login, err := mgr.Seal(map[string]any{"theme": "dark", "_wsess_user": "u-42", "_wsess_auth": renderT0.Add(-90 * time.Second).UnixMilli(),
		"_wsess_gen": 2, "_expires_after": 1800, "_wsess_lid": "bG9naW4taWQtMTIzNDU2", "_wsess_persist": 0}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if out["wsess_login"], err = inspect.DecodeCookie(login, inspect.CookieOptions{Secrets: []string{secret}, Now: func() time.Time { return renderT0 }}); err != nil {
		t.Fatal(err)
	}
	out["empty"] = &inspect.Session{Format: inspect.FormatPickle, Data: map[string]any{}, Size: 96}
	return out
}

// renderModes are the terminal modes of the golden files: a pipe, a
// terminal without colour, a terminal with the ANSI palette.
var renderModes = []struct {
	name  string
	tty   bool
	color bool
}{
	{"pipe", false, false},
	{"tty", true, false},
	{"tty_color", true, true},
}

// modeIO returns test streams in a terminal mode.
func modeIO(tty, color bool) (*IOStreams, *bytes.Buffer) {
	ios, _, out, _ := testIO()
	ios.SetStdoutTTY(tty)
	if color {
		ios.SetNoColor(false)
		ios.SetColorProfile(termenv.ANSI)
	}
	return ios, out
}

func TestRenderSessionGolden(t *testing.T) {
	now := renderT0.Add(10 * time.Minute)
	for name, s := range renderSessions(t) {
		for _, m := range renderModes {
			t.Run(name+"_"+m.name, func(t *testing.T) {
				ios, out := modeIO(m.tty, m.color)
				if err := renderSession(ios.Out, s, ios.Styles(), isTable(ios, outTable), now, nil); err != nil {
					t.Fatal(err)
				}
				if !m.color && bytes.Contains(out.Bytes(), []byte("\x1b")) {
					t.Fatal("escape code in output without colour")
				}
				golden(t, "render/render_"+name+"_"+m.name+".golden", out.Bytes())
			})
		}
		t.Run(name+"_json", func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeSessionJSON(&buf, s, map[string]any{"key": "wppsess:abc", "ttl_seconds": 3599, "format": "ignored"}); err != nil {
				t.Fatal(err)
			}
			golden(t, "render/json_"+name+".golden", buf.Bytes())
		})
	}
}

func TestSessionJSONCompact(t *testing.T) {
	b, err := sessionJSON(&inspect.Session{Format: inspect.FormatJSON, Size: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No expiry: "expires" is left out, never null (the JSON policy).
	if want := `{"format":"json","data":{},"size":2}`; string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}

func TestPreview(t *testing.T) {
	data := map[string]any{"counter": 7, "auth": map[string]any{"user": 1}, "name": "Zoë", "tags": []any{"a", "b"}}
	for _, tt := range []struct {
		data  map[string]any
		width int
		want  string
	}{
		{data, 0, `auth={1 key} counter=7 name="Zoë" tags=[2 items]`},
		{data, 20, `auth={1 key} counte…`},
		{data, 1, `…`},
		{map[string]any{"n": nil, "big": json.Number("123456789012345678901234567890")}, 0, `big=123456789012345678901234567890 n=null`},
		{map[string]any{"s": strings.Repeat("x", 50)}, 0, `s="` + strings.Repeat("x", 37) + `…"`},
		// Wide characters count two cells.
		{map[string]any{"名前": "日本語"}, 12, `名前="日本…`},
	} {
		if got := preview(tt.data, tt.width); got != tt.want {
			t.Errorf("preview(%v, %d) = %q, want %q", tt.data, tt.width, got, tt.want)
		}
		if tt.width > 0 && cellWidth(preview(tt.data, tt.width)) > tt.width {
			t.Errorf("preview(%v, %d) is wider than %d cells", tt.data, tt.width, tt.width)
		}
	}
}

func TestCellWidths(t *testing.T) {
	for _, tt := range []struct {
		in         string
		width      int
		trunc, pad string
	}{
		{"abc", 5, "abc", "abc  "},
		{"abcdef", 4, "abc…", "abc…"},
		{"日本語テキスト", 8, "日本語…", "日本語… "},                                                // 2 cells each: 3 fit with the ellipsis, one cell of padding
		{"日本語", 6, "日本語", "日本語"},                                                       // exactly 6 cells
		{"🎉🎉🎉", 5, "🎉🎉…", "🎉🎉…"},                                                       // emoji are 2 cells
		{"e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301", "e\u0301e\u0301e\u0301"}, // combining marks take none
	} {
		if got := truncateCells(tt.in, tt.width); got != tt.trunc {
			t.Errorf("truncateCells(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.trunc)
		}
		got := padCells(tt.in, tt.width, false)
		if got != tt.pad {
			t.Errorf("padCells(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.pad)
		}
		if w := cellWidth(got); w != tt.width {
			t.Errorf("padCells(%q, %d) is %d cells wide", tt.in, tt.width, w)
		}
	}
}

func TestRelativeTime(t *testing.T) {
	now := fixedNow
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(2 * time.Hour), "2h00m from now"},
		{now.Add(-45 * time.Second), "45s ago"},
		{now.Add(49 * time.Hour), "2d01h from now"},
	} {
		if got := relativeTime(now, tt.at); got != tt.want {
			t.Errorf("relativeTime(%v) = %q, want %q", tt.at.Sub(now), got, tt.want)
		}
	}
}

// redis show prints its key and TTL lines and the session with one
// palette: the 16 ANSI colours, no 256-colour or true-colour code.
func TestRedisShowColorGolden(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	if err := s.Client().Set(context.Background(), "wppsess:s000042", `{"counter": 42, "user": {"id": 7}}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	ios, out := modeIO(true, true)
	f := newFactory(ios, testEnv{envRedisURL: s.URL()}.lookup)
	f.Now = func() time.Time { return fixedNow }
	defer f.CloseRedis()
	root := newRootCmd(f)
	root.SetArgs([]string{"redis", "show", "s000042"})
	if _, err := root.ExecuteContextC(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("\x1b[")) {
		t.Fatal("no colour in the output")
	}
	if bytes.Contains(out.Bytes(), []byte("38;2;")) || bytes.Contains(out.Bytes(), []byte("38;5;")) {
		t.Errorf("a colour outside the ANSI palette:\n%q", out)
	}
	golden(t, "redis_show_tty_color.golden", out.Bytes())
}

// The preview shows the app's keys first: reserved keys left in the data
// (of an unexpected type) come last.
func TestPreviewReservedLast(t *testing.T) {
	data := map[string]any{"_wsess_user": json.Number("7"), "_expires_after": "x", "_csrf": "t", "zed": true}
	if got, want := preview(data, 0), `_csrf="t" zed=true _expires_after="x" _wsess_user=7`; got != want {
		t.Errorf("preview = %s, want %s", got, want)
	}
	if got := preview(data, 12); cellWidth(got) > 12 {
		t.Errorf("preview %q wider than 12 cells", got)
	}
}

func TestBytesText(t *testing.T) {
	for _, tt := range []struct {
		b    []byte
		max  int
		want string
	}{
		{nil, 8, "<0 bytes>"},
		{[]byte{0xff}, 8, "<1 byte: ff>"},
		{[]byte("hello"), 8, "<5 bytes: 68656c6c6f>"},
		{[]byte("hello"), 2, "<5 bytes: 6865...>"},
	} {
		if got := bytesText(tt.b, tt.max); got != tt.want {
			t.Errorf("bytesText(%q, %d) = %s, want %s", tt.b, tt.max, got, tt.want)
		}
	}
}
