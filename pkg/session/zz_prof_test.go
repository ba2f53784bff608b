package session_test

import (
	"net/http"
	"testing"

	"github.com/wsess/wsess/pkg/session"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkZZOwn(b *testing.B) {
	m, _ := session.NewCookieManager(testSecret, session.CookieOptions{})
	existing, _ := m.Seal(map[string]any{"counter": 41}, 0)
	for _, c := range []struct {
		name string
		h    http.HandlerFunc
	}{{"read", benchRead}, {"counter", benchCounter}} {
		b.Run(c.name, func(b *testing.B) {
			h := m.Middleware(c.h)
			req, _ := http.NewRequest("GET", "/counter", nil)
			req.Header.Set("Cookie", session.DefaultCookieName+"="+existing)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}
