package session_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/pickle"
	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// pyload is the CPython script that unpickles hex lines with stub sdict
// classes and prints typed JSON (shared with internal/pickle's tests).
const pyload = "../../internal/pickle/testdata/pyload.py"

// pythonLoad runs CPython's pickle.loads on raw and returns the script's
// JSON line.
func pythonLoad(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed for the interop tests")
	}
	cmd := exec.Command("python3", pyload)
	cmd.Stdin = bytes.NewBufferString(hex.EncodeToString(raw) + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python3 printed %q: %v", out, err)
	}
	return got
}

func sharedValues() map[string]any {
	huge, _ := new(big.Int).SetString("1180591620717411303424", 10)
	return map[string]any{
		"name":   "Zoë ✓",
		"huge":   huge,
		"f":      1.5,
		"ok":     true,
		"none":   nil,
		"tags":   []any{"a", int64(2)},
		"nested": map[string]any{"inner": map[string]any{"x": int64(-3)}},
		"raw":    []byte{0, 255},
		"when":   time.Date(2024, 5, 17, 13, 45, 30, 123456000, time.UTC),
	}
}

// What CPython must see for sharedValues (pyload.py's typed JSON).
const sharedValuesPython = `{"class":"emmett.datastructures.sdict","value":{
  "f":{"float":"1.5"},"huge":{"int":"1180591620717411303424"},"name":"Zoë ✓","none":null,"ok":true,
  "nested":{"inner":{"x":{"int":"-3"}}},"raw":{"bytes":"AP8="},"tags":["a",{"int":"2"}],
  "when":{"datetime":"2024-05-17T13:45:30.123456"}}}`

func jsonEqual(t *testing.T, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(g, wb) {
		t.Fatalf("python sees\n %s\nwant\n %s", g, wb)
	}
}

// TestPickleCodecSharedWithPython: a Go handler writes a session with the
// pickle codec into a real Redis under Emmett's prefix; CPython's pickle
// reads the same values back; Go reads what it wrote.
func TestPickleCodecSharedWithPython(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "emtsess:", Options: session.Options{Codec: session.PickleCodec{}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		for k, v := range sharedValues() {
			s.Set(k, v)
		}
	})
	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
		n := session.From(r.Context()).Incr("counter", 1)
		w.Write([]byte{byte('0' + n)})
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	c := newClient(t, srv)
	c.mustGet("/write")
	id := c.cookie(session.DefaultIDCookieName)
	raw, err := rdb.Get(context.Background(), "emtsess:"+id).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, pythonLoad(t, raw), sharedValuesPython)

	// Go reads it back and keeps counting on top of it.
	for want := "1"; want <= "3"; want = string(want[0] + 1) {
		if got := c.mustGet("/counter"); got != want {
			t.Fatalf("counter = %q, want %q", got, want)
		}
	}
	raw, _ = rdb.Get(context.Background(), "emtsess:"+id).Bytes()
	got := pythonLoad(t, raw)["value"].(map[string]any)
	if got["counter"].(map[string]any)["int"] != "3" || got["name"] != "Zoë ✓" {
		t.Fatalf("after counting, python sees %v", got)
	}
}

// TestPickleCodecReadsEmmettSessions: a session an Emmett app stored (a
// UUID4 id, a protocol-4 pickle written by CPython, from the interop
// vectors) is read by a Go handler.
func TestPickleCodecReadsEmmettSessions(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	// From the interop vectors: CPython's pickle.dumps(sdict(counter=7), 4),
	// sdict from weppy.datastructures.
	py, err := hex.DecodeString("80049532000000000000008c1477657070792e6461746173747275637475726573948c0573646963749493942981948c07636f756e746572944b07732e")
	if err != nil {
		t.Fatal(err)
	}
	id := "9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	rdb.Set(context.Background(), "emtsess:"+id, py, time.Hour)
	m, _ := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "emtsess:", Options: session.Options{CookieName: "emt_session_data_app", Codec: session.PickleCodec{}}})
	srv := httptest.NewServer(m.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	c.setCookie("emt_session_data_app", id)
	if got := c.mustGet("/counter"); got != "This is your 8 visit" {
		t.Fatalf("%q", got)
	}
	if c.cookie("emt_session_data_app") != id {
		t.Fatal("the Emmett session id was not kept")
	}
}

// TestEmmettCookieFormat: a Go service sealing Emmett 2.5+ cookies opens
// the vectors' Emmett cookies and writes cookies that the Emmett format's
// reference implementation (and Python, see internal/pycookie's tests) opens.
func TestEmmettCookieFormat(t *testing.T) {
	const secret = "shared-with-the-emmett-app"
	m, err := session.NewCookieManager(secret, session.CookieOptions{Format: session.FormatEmmett, Options: session.Options{CookieName: "emt_session_data_app"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Middleware(counterMux()))
	defer srv.Close()
	c := newClient(t, srv)
	for i := 1; i <= 2; i++ {
		c.mustGet("/counter")
	}
	value := c.cookie("emt_session_data_app")
	plain, err := pycookie.OpenEmmett(value, secret)
	if err != nil {
		t.Fatalf("the cookie is not an Emmett cookie: %v", err)
	}
	got := pythonLoad(t, plain)
	if v := got["value"].(map[string]any)["counter"]; v.(map[string]any)["int"] != "2" {
		t.Fatalf("python sees %v", got)
	}

	// A cookie sealed the Emmett way by someone else opens too.
	pk, _ := pickle.Marshal(map[string]any{"counter": int64(41)})
	foreign, err := pycookie.SealEmmett(pk, secret, 6) // compressed, as with compression_level
	if err != nil {
		t.Fatal(err)
	}
	c2 := newClient(t, srv)
	c2.setCookie("emt_session_data_app", foreign)
	if got := c2.mustGet("/counter"); got != "This is your 42 visit" {
		t.Fatalf("Emmett-sealed cookie: %q", got)
	}
	// Under another secret it is a new session.
	other, _ := session.NewCookieManager("not-the-shared-secret", session.CookieOptions{Format: session.FormatEmmett, Options: session.Options{CookieName: "emt_session_data_app"}})
	if _, _, err := other.Open(foreign); err == nil {
		t.Fatal("opened under another secret")
	}
}
