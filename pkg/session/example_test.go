package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/redis/go-redis/v9"
	"github.com/wsess/wsess/pkg/session"
)

// visit GETs url three times through a cookie jar and prints the bodies.
func visit(url string) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(url)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
}

func counter(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	n := s.Int("counter") + 1 // session.counter = (session.counter or 0) + 1
	s.Set("counter", n)
	fmt.Fprintf(w, "This is your %d visit", n)
}

// The weppy counter with the whole session in an encrypted cookie.
func ExampleCookieManager() {
	mgr, err := session.NewCookieManager("a secret of at least 16 bytes", session.CookieOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/counter", counter)
	srv := httptest.NewServer(mgr.Middleware(mux))
	defer srv.Close()

	visit(srv.URL + "/counter")
	// Output:
	// This is your 1 visit
	// This is your 2 visit
	// This is your 3 visit
}

// The weppy counter with sessions in Redis under "wppsess:<id>". Incr counts
// every visit even when one user's requests run at the same time.
func ExampleRedisManager() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedisAddr()})
	defer rdb.Close()
	mgr, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "wppsess:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
		n := session.From(r.Context()).Incr("counter", 1)
		fmt.Fprintf(w, "This is your %d visit", n)
	})
	srv := httptest.NewServer(mgr.Middleware(mux))
	defer srv.Close()

	visit(srv.URL + "/counter")
	// Output:
	// This is your 1 visit
	// This is your 2 visit
	// This is your 3 visit
}
