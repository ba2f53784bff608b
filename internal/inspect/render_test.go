package inspect

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// renderSessions are the sessions the golden files show.
func renderSessions(t *testing.T) map[string]*Session {
	t.Helper()
	out := map[string]*Session{}
	for _, v := range vectors(t) {
		if (v.Format == "weppy" && v.Case == "auth") || (v.Format == "emmett" && v.Case == "types") {
			if _, ok := out[v.Format+"_"+v.Case]; ok {
				continue
			}
			s, err := DecodeCookie("wpp_session_data_app="+v.Cookie, CookieOptions{Secrets: []string{v.Key}})
			if err != nil {
				t.Fatal(err)
			}
			out[v.Format+"_"+v.Case] = s
		}
	}
	cookie := sealWsess(t, "wsess_session_data", "golden-secret-0123456789", map[string]any{"counter": 41, "flash": []any{"saved"}}, t0)
	s, err := DecodeCookie(cookie, CookieOptions{Secrets: []string{"golden-secret-0123456789"}, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	out["wsess"] = s
	out["empty"] = &Session{Format: FormatPickle, Data: map[string]any{}, Size: 96}
	return out
}

func TestRenderGolden(t *testing.T) {
	now := func() time.Time { return t0.Add(10 * time.Minute) }
	modes := []struct {
		name    string
		tty     bool
		profile termenv.Profile
	}{
		{"pipe", false, termenv.Ascii},
		{"tty", true, termenv.Ascii},
		{"tty_color", true, termenv.TrueColor},
	}
	for name, s := range renderSessions(t) {
		for _, m := range modes {
			t.Run(name+"_"+m.name, func(t *testing.T) {
				var buf bytes.Buffer
				r := lipgloss.NewRenderer(&buf)
				r.SetColorProfile(m.profile)
				r.SetHasDarkBackground(true)
				st := NewStyles(r, m.tty)
				st.Now = now
				if err := Render(&buf, s, st); err != nil {
					t.Fatal(err)
				}
				if m.profile == termenv.Ascii && bytes.Contains(buf.Bytes(), []byte("\x1b")) {
					t.Fatal("escape code in ASCII output")
				}
				golden(t, "render_"+name+"_"+m.name, buf.Bytes())
			})
		}
		t.Run(name+"_json", func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, s, map[string]any{"key": "wppsess:abc", "ttl": 3599, "format": "ignored"}); err != nil {
				t.Fatal(err)
			}
			golden(t, "json_"+name, buf.Bytes())
		})
	}
}

func TestJSONCompact(t *testing.T) {
	s := &Session{Format: FormatJSON, Size: 2}
	b, err := JSON(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"format":"json","data":{},"size":2,"expires":null}`; string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}
