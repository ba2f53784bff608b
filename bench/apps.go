// Package bench compares wsess sessions with gorilla/sessions and
// alexedwards/scs on weppy's counter app. It is its own module, so the peers
// never become dependencies of wsess itself.
//
// Each constructor returns the same two routes on an http.ServeMux, wrapped
// in one library's session middleware:
//
//	GET /counter  read an int, add one, write it back: "This is your N visit"
//	GET /read     read the int and answer with it, changing nothing
//
// wsess's apps also have GET /login (log user "ana" in, counter 1), which
// the benchmarks use to make a logged-in session; RedisFloor is the floor of
// a Redis store.
//
// The benchmarks in this package drive them in-process; cmd/peerserver serves
// them on loopback for wrk. See BENCHMARKS.md at the repository root and
// run.sh beside this file.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/pkg/session"
)

// Fixed secrets: benchmarks need no real ones, and the peer servers must
// accept the cookies of the run that made them.
const (
	// Secret seals wsess cookies.
	Secret = "bench-secret-0123456789abcdef-0123456789"
	// Expire is every library's session lifetime (and scs's idle timeout).
	Expire = time.Hour
	// Prefix is the Redis key prefix of the wsess Redis benchmarks.
	Prefix = "wsess:bench:"
	// SCSPrefix is the Redis key prefix of the scs Redis benchmarks.
	SCSPrefix = "scs:bench:"
	// User is the user wsess's GET /login logs in.
	User = "ana"
)

var (
	gorillaHashKey  = []byte("bench-gorilla-hash-key-0123456789abcdef-0123456789abcdef-0123456")[:64]
	gorillaBlockKey = []byte("bench-gorilla-block-key-0123456789")[:32]
)

// App is one library's counter app.
type App struct {
	Name    string
	Handler http.Handler
	// Close releases what the app holds (scs memstore's cleanup goroutine).
	Close func()
}

func text(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "This is your %d visit", n)
}

func routes(counter, read http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /counter", counter)
	mux.HandleFunc("GET /read", read)
	return mux
}

// Bare is the floor: the same routes and answer, no sessions.
func Bare() App {
	h := func(w http.ResponseWriter, r *http.Request) { text(w, 1) }
	return App{Name: "bare", Handler: routes(h, h), Close: func() {}}
}

func wsessRoutes() *http.ServeMux {
	mux := routes(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n := s.Int("counter") + 1
		s.Set("counter", n)
		text(w, n)
	}, func(w http.ResponseWriter, r *http.Request) {
		text(w, session.From(r.Context()).Int("counter"))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		s.Login(User)
		s.Set("counter", 1)
		text(w, 1)
	})
	return mux
}

// WsessCookie is wsess's cookie manager (AES-256-GCM).
func WsessCookie() (App, error) {
	m, err := session.NewCookieManager(Secret, session.CookieOptions{Options: session.Options{Expire: Expire}})
	if err != nil {
		return App{}, err
	}
	return App{Name: "wsess-cookie", Handler: m.Middleware(wsessRoutes()), Close: func() {}}, nil
}

// WsessRedis is wsess's Redis manager over rdb.
func WsessRedis(rdb redis.UniversalClient) (App, error) {
	m, err := session.NewRedisManager(rdb, session.RedisOptions{
		Options: session.Options{Expire: Expire},
		Prefix:  Prefix,
	})
	if err != nil {
		return App{}, err
	}
	return App{Name: "wsess-redis", Handler: m.Middleware(wsessRoutes()), Close: func() {}}, nil
}

// WsessRedisKey returns the Redis key of the wsess Redis session whose
// cookie value is id: Prefix + session.HashID(id) (WsessRedis hashes ids, the
// default).
func WsessRedisKey(id string) string { return Prefix + session.HashID(id) }

// RedisFloor is the floor of a Redis session store, on the caller's client
// and pool: the bare handler after exactly one GETEX of key that sets its TTL
// to Expire (a read-only request: the least a store that slides the
// session's lifetime must send), and with write, one SET of the value read
// back to key with that TTL after it (a changing request: GETEX, SET). It
// reads no cookie and decodes nothing; it answers 500 when key is missing,
// so a benchmark of the wrong key fails instead of timing a miss.
func RedisFloor(rdb redis.UniversalClient, key string, write bool) App {
	h := func(w http.ResponseWriter, r *http.Request) {
		val, err := rdb.GetEx(r.Context(), key, Expire).Result()
		if err != nil {
			http.Error(w, fmt.Sprintf("bench: GETEX %s: %v", key, err), http.StatusInternalServerError)
			return
		}
		if write {
			if err := rdb.Set(r.Context(), key, val, Expire).Err(); err != nil {
				http.Error(w, fmt.Sprintf("bench: SET %s: %v", key, err), http.StatusInternalServerError)
				return
			}
		}
		text(w, 1)
	}
	name := "redis-floor-getex"
	if write {
		name = "redis-floor-getex-set"
	}
	return App{Name: name, Handler: routes(h, h), Close: func() {}}
}

// Gorilla is gorilla/sessions' CookieStore with a hash key and a block key,
// so its cookies are encrypted (AES-256-CTR + HMAC-SHA256, gob-encoded).
func Gorilla() App {
	store := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey)
	store.Options = &sessions.Options{Path: "/", MaxAge: int(Expire / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode}
	const name = "gorilla_session"
	get := func(w http.ResponseWriter, r *http.Request) (*sessions.Session, bool) {
		s, err := store.Get(r, name)
		if err != nil && s == nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return nil, false
		}
		return s, true // a cookie that does not decode gives a new session
	}
	mux := routes(func(w http.ResponseWriter, r *http.Request) {
		s, ok := get(w, r)
		if !ok {
			return
		}
		n, _ := s.Values["counter"].(int)
		n++
		s.Values["counter"] = n
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		text(w, n)
	}, func(w http.ResponseWriter, r *http.Request) {
		s, ok := get(w, r)
		if !ok {
			return
		}
		n, _ := s.Values["counter"].(int)
		text(w, n)
	})
	return App{Name: "gorilla", Handler: mux, Close: func() {}}
}

func scsApp(name string, sm *scs.SessionManager, closeFn func()) App {
	sm.Lifetime = 24 * time.Hour
	sm.IdleTimeout = Expire
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	mux := routes(func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), "counter") + 1
		sm.Put(r.Context(), "counter", n)
		text(w, n)
	}, func(w http.ResponseWriter, r *http.Request) {
		text(w, sm.GetInt(r.Context(), "counter"))
	})
	return App{Name: name, Handler: sm.LoadAndSave(mux), Close: closeFn}
}

// SCSMem is alexedwards/scs with its in-memory store, IdleTimeout set.
// Close leaves the store's cleanup goroutine running: memstore's
// StopCleanup reads the channel that goroutine assigns once it has started,
// a data race when called soon after New (scs v2.9.0), and the goroutine
// only wakes once a minute.
func SCSMem() App {
	sm := scs.New()
	sm.Store = memstore.New()
	return scsApp("scs-mem", sm, func() {})
}

// SCSRedis is alexedwards/scs with its Redis store (redigo pool), IdleTimeout
// set.
func SCSRedis(pool *redigo.Pool) App {
	sm := scs.New()
	sm.Store = redisstore.NewWithPrefix(pool, SCSPrefix)
	return scsApp("scs-redis", sm, func() {})
}

// NewRedigoPool returns a pool dialing addr, keeping up to maxIdle
// connections (redigo's default of none dials per request).
func NewRedigoPool(addr string, maxIdle int) *redigo.Pool {
	return &redigo.Pool{
		MaxIdle:     maxIdle,
		IdleTimeout: time.Minute,
		Dial:        func() (redigo.Conn, error) { return redigo.Dial("tcp", addr) },
	}
}

// NewGoRedis returns a go-redis client for addr and checks that it answers.
func NewGoRedis(ctx context.Context, addr string, poolSize int) (*redis.Client, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: poolSize})
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("bench: redis at %s: %w", addr, err)
	}
	return rdb, nil
}
