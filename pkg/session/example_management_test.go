package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/wsess/wsess/pkg/session"
)

// A login binds the session to a user; later requests read the user back.
func ExampleSession_Login() {
	m, err := session.NewCookieManager("a-secret-of-at-least-16-bytes", session.CookieOptions{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		// ... after checking the user's credentials:
		session.From(r.Context()).Login("ana")
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		fmt.Fprintf(w, "user %q, logged in: %v", s.UserID(), !s.AuthTime().IsZero())
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for _, path := range []string{"/me", "/login", "/me"} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) > 0 {
			fmt.Println(string(body))
		}
	}
	// Output:
	// user "", logged in: false
	// user "ana", logged in: true
}
