package testutil_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsess/wsess/internal/testutil"
)

// TestSyncBufferMax: a buffer with Max keeps writing until it holds Max
// bytes, then drops writes while reporting them written; without Max it
// keeps everything.
func TestSyncBufferMax(t *testing.T) {
	for _, tt := range []struct {
		max  int
		want string
	}{
		{0, "abcabcabcabc"},
		{5, "abcabc"}, // the write that crosses Max is kept whole
		{6, "abcabc"},
		{7, "abcabcabc"},
	} {
		b := &testutil.SyncBuffer{Max: tt.max}
		for range 4 {
			if n, err := b.Write([]byte("abc")); n != 3 || err != nil {
				t.Fatalf("Max %d: Write = %d, %v", tt.max, n, err)
			}
		}
		if got := b.String(); got != tt.want {
			t.Errorf("Max %d: %q, want %q", tt.max, got, tt.want)
		}
	}
}

// TestJarClientReadResponse: the client keeps the cookies a server sets,
// and ReadResponse gives the status and the whole body.
func TestJarClientReadResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("c"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "c", Value: "1"})
			w.WriteHeader(http.StatusCreated)
		}
		w.Write([]byte(strings.Repeat("x", 10000)))
	}))
	defer srv.Close()
	c, _ := testutil.JarClient(t)
	for _, want := range []int{http.StatusCreated, http.StatusOK} {
		resp, err := c.Get(srv.URL)
		code, body := testutil.ReadResponse(t, resp, err)
		if code != want || len(body) != 10000 {
			t.Fatalf("%d, %d bytes; want %d, 10000 bytes", code, len(body), want)
		}
	}
}
