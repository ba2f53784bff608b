package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/testutil"
)

// TestDemoBinary checks what only the real process shows: the listening
// line, the request log on stderr (escaped), the cookie opened by the
// binary's own decode, and the graceful stop on SIGINT. The demo's routes
// are tested in-process in cmd/wsess.
func TestDemoBinary(t *testing.T) {
	srv := startDemo(t)
	c, jar := testutil.JarClient(t)
	fetch := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		return testutil.ReadResponse(t, resp, err)
	}
	for i, want := range []string{"This is your 1 visit", "This is your 2 visit"} {
		if code, body := fetch("/counter"); code != http.StatusOK || body != want {
			t.Fatalf("visit %d: %d %q", i+1, code, body)
		}
	}
	// A path that would retitle and clear the terminal showing the log.
	if code, _ := fetch("/%1b]0;owned%07%1b[2J%0dFAKE LINE"); code != http.StatusNotFound {
		t.Errorf("hostile path: %d, want 404", code)
	}

	// The binary decodes the jar's cookie, read from stdin.
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cookies := jar.Cookies(u)
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	dec := exec.Command(wsessBinary(t), "decode", "-o", "json", "-")
	dec.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "WSESS_KEY=" + testKey}
	dec.Stdin = strings.NewReader(cookies[0].Name + "=" + cookies[0].Value)
	var stdout, stderr bytes.Buffer
	dec.Stdout, dec.Stderr = &stdout, &stderr
	if err := dec.Run(); err != nil {
		t.Fatalf("wsess decode: %v; %s", err, stderr.String())
	}
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Data["counter"] != float64(2) {
		t.Errorf("decoded %s (%v)", stdout.String(), err)
	}

	srv.stop(t)
	logs := srv.Stderr()
	for _, want := range []string{
		"wsess: serving the demo (cookie store) on " + srv.URL + "/ (Ctrl-C to stop)\n",
		" GET /counter 200 ",
		` GET /\x1b]0;owned\x07\x1b[2J\rFAKE LINE 404 `,
		"wsess: shutting down\n",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	if strings.ContainsAny(logs, "\x1b\x07\r") {
		t.Errorf("raw control characters on stderr: %q", logs)
	}
	if strings.Contains(logs, cookies[0].Value) || strings.Contains(logs, testKey) {
		t.Errorf("stderr shows the cookie or the secret:\n%s", logs)
	}
}
