package sessiontest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wsess/wsess/pkg/session"
	"github.com/wsess/wsess/pkg/session/sessiontest"
)

// counter is the handler under test: weppy's counter.
func counter(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	n := s.Incr("counter", 1)
	fmt.Fprintf(w, "This is your %d visit", n)
}

// A handler run with a session preloaded with a value.
func ExampleServe() {
	res, err := sessiontest.Serve(http.HandlerFunc(counter), httptest.NewRequest("GET", "/counter", nil),
		sessiontest.Values(map[string]any{"counter": 41}))
	if err != nil {
		panic(err) // in a test: t.Fatal(err)
	}
	fmt.Println(res.Recorder.Body.String())
	fmt.Println(res.Session.Int("counter"), res.Saved)
	// Output:
	// This is your 42 visit
	// 42 true
}

// A handler that needs a logged-in user, and one that logs out.
func ExampleLoggedIn() {
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", session.From(r.Context()).UserID())
	})
	res, err := sessiontest.Serve(whoami, httptest.NewRequest("GET", "/", nil), sessiontest.LoggedIn("ana"))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Recorder.Body.String(), res.Saved)

	logout := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).Destroy()
	})
	if res, err = sessiontest.Serve(logout, httptest.NewRequest("POST", "/logout", nil), sessiontest.LoggedIn("ana")); err != nil {
		panic(err)
	}
	fmt.Printf("destroyed=%v user=%q\n", res.Destroyed, res.Session.UserID())
	// Output:
	// hello ana false
	// destroyed=true user=""
}
