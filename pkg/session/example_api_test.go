package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/pkg/session"
)

// get GETs url with c and returns the body.
func get(c *http.Client, url string) string {
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// newDevice is a browser: an HTTP client with its own cookie jar.
func newDevice() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// "Log out my other devices": RevokeUser keeping the current session's
// handle ends every other session of the user, whatever they do meanwhile.
func ExampleRedisManager_RevokeUser() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedisAddr()})
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "example-revoke:"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		m.From(r.Context()).Login("ana") // after checking her password
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %q", m.From(r.Context()).UserID())
	})
	mux.HandleFunc("/logout-others", func(w http.ResponseWriter, r *http.Request) {
		s := m.From(r.Context())
		n, err := m.RevokeUser(r.Context(), s.UserID(), s.Handle())
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ended %d other sessions", n)
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	laptop, phone, tablet := newDevice(), newDevice(), newDevice()
	for _, d := range []*http.Client{laptop, phone, tablet} {
		get(d, srv.URL+"/login")
	}
	fmt.Println(get(laptop, srv.URL+"/logout-others"))
	fmt.Println("laptop:", get(laptop, srv.URL+"/me"))
	fmt.Println("phone:", get(phone, srv.URL+"/me"))
	// Output:
	// ended 2 other sessions
	// laptop: user "ana"
	// phone: user ""
}

// UserSessions lists a user's sessions by handle (safe to show and log,
// unlike the id), with when each was created, last seen and will expire.
func ExampleRedisManager_UserSessions() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedisAddr()})
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "example-list:"})
	if err != nil {
		panic(err)
	}
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.From(r.Context()).Login("bob")
	}))
	srv := httptest.NewServer(login)
	defer srv.Close()
	get(newDevice(), srv.URL)
	get(newDevice(), srv.URL)

	infos, err := m.UserSessions(context.Background(), "bob")
	if err != nil {
		panic(err)
	}
	for _, in := range infos {
		fmt.Println(len(in.Handle), in.Expires.After(in.LastSeen))
	}
	// Output:
	// 43 true
	// 43 true
}

// A Go service and a weppy or Emmett app share Redis sessions: the same
// prefix and cookie name, PickleCodec (which means Compat: CompatPython, so
// ids are not hashed: the Python app looks sessions up by the cookie's id).
func ExamplePickleCodec() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedisAddr()})
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{
		Prefix: "emtsess:",
		Options: session.Options{
			CookieName: "emt_session_data_app",
			Codec:      session.PickleCodec{Target: session.TargetEmmett26},
		},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.From(r.Context()).Set("lang", "it")
	})))
	defer srv.Close()
	c := newDevice()
	get(c, srv.URL)
	u, _ := http.NewRequest("GET", srv.URL, nil)
	id := c.Jar.Cookies(u.URL)[0].Value
	v, err := rdb.Get(context.Background(), "emtsess:"+id).Bytes()
	fmt.Printf("stored under the raw id: %v; a pickle: %v\n", err == nil, v[0] == 0x80)
	// Output:
	// stored under the raw id: true; a pickle: true
}

// Decode reads a value back into the Go type it was set as: stores keep no
// Go types (JSON and pickle alike), so the next request gets a map until
// it is decoded.
func ExampleSession_Decode() {
	type Cart struct {
		Items []string `json:"items"`
	}
	m, err := session.NewCookieManager("a-secret-of-at-least-16-bytes", session.CookieOptions{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
		m.From(r.Context()).Set("cart", Cart{Items: []string{"tea", "cups"}})
	})
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		s := m.From(r.Context())
		raw, _ := s.Get("cart")
		var c Cart
		if err := s.Decode("cart", &c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "stored as %T, decoded: %v", raw, c.Items)
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	c := newDevice()
	get(c, srv.URL+"/add")
	fmt.Println(get(c, srv.URL+"/cart"))
	// Output:
	// stored as map[string]interface {}, decoded: [tea cups]
}

// An ErrorHandler answers a request whose session could not be loaded or
// saved; here a Redis outage (ErrUnavailable) gets a page of the app's own.
func ExampleOptions_errorHandler() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // nothing listens
	defer rdb.Close()
	m, err := session.NewRedisManager(rdb, session.RedisOptions{Options: session.Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, session.ErrUnavailable) {
				w.Header().Set("Retry-After", "5")
				http.Error(w, "sessions are down for a moment", http.StatusServiceUnavailable)
				return
			}
			session.DefaultErrorHandler(w, r, err)
		},
	}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.From(r.Context()).Set("k", "v")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(string(body)))
	// Output:
	// 503 5 sessions are down for a moment
}

// NewContext puts a session in a context without a manager: a unit test of
// a handler that reads From.
func ExampleNewContext() {
	hello := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", session.From(r.Context()).String("name"))
	}
	s := new(session.Session)
	s.Set("name", "ana")
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(session.NewContext(r.Context(), s))
	w := httptest.NewRecorder()
	hello(w, r)
	fmt.Println(w.Body.String())
	// Output:
	// hello ana
}

// Two managers in one chain: a wsess Redis session beside an Emmett
// cookie session. Each manager's From returns its own.
func ExampleRedisManager_From() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedisAddr()})
	defer rdb.Close()
	own, err := session.NewRedisManager(rdb, session.RedisOptions{Prefix: "example-from:"})
	if err != nil {
		panic(err)
	}
	emmett, err := session.NewCookieManager("the-emmett-app-secret", session.CookieOptions{
		Format: session.FormatEmmett, Options: session.Options{CookieName: "emt_session_data_app"},
	})
	if err != nil {
		panic(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		visits := own.From(r.Context()).Incr("visits", 1)
		lang := emmett.From(r.Context()).String("lang")
		if lang == "" {
			emmett.From(r.Context()).Set("lang", "it")
		}
		fmt.Fprintf(w, "visits %d, lang %q", visits, lang)
	})
	srv := httptest.NewServer(emmett.Middleware(own.Middleware(h)))
	defer srv.Close()
	c := newDevice()
	fmt.Println(get(c, srv.URL))
	fmt.Println(get(c, srv.URL))
	// Output:
	// visits 1, lang ""
	// visits 2, lang "it"
}
