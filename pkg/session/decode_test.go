package session_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

type cart struct {
	Items []string  `json:"items"`
	Total int       `json:"total"`
	Seen  time.Time `json:"seen"`
}

// TestDecodeRoundTrips: a struct Set in one request is read back typed by
// Decode in the next, through both stores and both codecs; a value of
// another shape gives ErrValueType with the reason, a missing key
// ErrNoValue. Pickle keeps no Go types either: the value is set as the
// map a Python app would store, and read into the struct.
func TestDecodeRoundTrips(t *testing.T) {
	rdb := redistest.Start(t, redistest.Options{}).Client()
	want := cart{Items: []string{"tea", "cups"}, Total: 2, Seen: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	asMap := map[string]any{"items": []any{"tea", "cups"}, "total": 2, "seen": "2026-12-04T10:00:00Z"}
	cookieJSON, err := session.NewCookieManager(testSecret, session.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cookieEmmett, err := session.NewCookieManager(testSecret, session.CookieOptions{Format: session.FormatEmmett})
	if err != nil {
		t.Fatal(err)
	}
	redisJSON, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "dj:"})
	if err != nil {
		t.Fatal(err)
	}
	redisPickle, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "dp:", Options: session.Options{Codec: session.PickleCodec{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		mw   func(http.Handler) http.Handler
		set  any
	}{
		{"cookie/json", cookieJSON.Middleware, want},
		{"cookie/emmett-pickle", cookieEmmett.Middleware, asMap},
		{"redis/json", redisJSON.Middleware, want},
		{"redis/pickle", redisPickle.Middleware, asMap},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				s.Set("cart", tt.set)
				s.Set("name", "ana")
				if _, same := tt.set.(cart); same {
					var c cart // the same request: copied as it is
					if err := s.Decode("cart", &c); err != nil || !reflect.DeepEqual(c, want) {
						t.Errorf("Decode in the request that set it: %+v, %v", c, err)
					}
				}
			})
			mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
				s := session.From(r.Context())
				var c cart
				if err := s.Decode("cart", &c); err != nil {
					t.Errorf("Decode: %v", err)
				} else if !reflect.DeepEqual(c, want) {
					t.Errorf("Decode = %+v, want %+v", c, want)
				}
				var n int
				err := s.Decode("name", &n)
				if !errors.Is(err, session.ErrValueType) {
					t.Errorf("Decode of a string into an int: %v, want ErrValueType", err)
				}
				fmt.Fprint(w, err)
				if err := s.Decode("missing", &c); !errors.Is(err, session.ErrNoValue) {
					t.Errorf("Decode of a missing key: %v, want ErrNoValue", err)
				}
				if err := s.Decode("cart", c); err == nil {
					t.Error("Decode into a non-pointer: no error")
				}
			})
			srv := httptest.NewServer(tt.mw(mux))
			defer srv.Close()
			c := newClient(t, srv)
			c.mustGet("/set")
			msg := c.mustGet("/get")
			if want := `session: value does not fit the type: "name" holds a string, which does not fit *int: json: cannot unmarshal string into Go value of type int`; msg != want {
				t.Errorf("the shape error says %q, want %q", msg, want)
			}
		})
	}
}
