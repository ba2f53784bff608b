package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The sessions a benchmark's requests carry.
const (
	// KindNew: no cookie, so a new session each request.
	KindNew = "new"
	// KindExisting: the cookie of a session made by GET /counter.
	KindExisting = "existing"
	// KindLoggedIn: the cookie of a session made by GET /login (wsess's
	// apps and the Redis floor only).
	KindLoggedIn = "logged-in"
)

// BareCookie is the Cookie header the bare handler is sent for an existing
// session: the size of wsess's cookie, so the harness does the same work
// for it as for the others.
var BareCookie = "wsess=" + strings.Repeat("x", 92)

// Serve runs one request to path with cookie ("name=value"; none when
// empty) through h: a fresh httptest request and recorder each call.
func Serve(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// FirstCookie returns the "name=value" of the response's first Set-Cookie.
func FirstCookie(w *httptest.ResponseRecorder) (string, error) {
	sc := w.Result().Header.Values("Set-Cookie")
	if len(sc) == 0 {
		return "", fmt.Errorf("bench: no Set-Cookie (status %d, body %q)", w.Code, w.Body.String())
	}
	nv, _, _ := strings.Cut(sc[0], ";")
	return nv, nil
}

// ErrNoRedis is returned by Prepare for a Redis app without a Redis address.
var ErrNoRedis = errors.New("bench: no Redis server")

// Prepared is one app ready for a benchmark's requests.
type Prepared struct {
	// Name is the benchmark's name: "Read/wsess-cookie/existing".
	Name string
	App  App
	// Path and Cookie are what each request sends.
	Path, Cookie string
	// Redis: the app keeps its sessions in Redis.
	Redis   bool
	closers []func()
}

// Close releases the app, its clients and pools.
func (p *Prepared) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// Apps are the names Prepare knows: the bare handler, the cookie stores,
// the Redis stores and the Redis floor.
var Apps = []string{"bare", "wsess-cookie", "gorilla", "scs-mem", "wsess-redis", "scs-redis", "redis-floor"}

// RedisApp reports whether app keeps its sessions in Redis.
func RedisApp(app string) bool {
	return app == "wsess-redis" || app == "scs-redis" || app == "redis-floor"
}

// PoolSize is the go-redis pool size and the redigo pool's idle
// connections of the in-process benchmarks.
const PoolSize = 16

// Prepare makes the app named app (see Apps) for requests to path
// ("/counter" or "/read"), with a session of kind made in it (none for
// KindNew; BareCookie for the bare handler). The Redis apps use the
// server at redisAddr, each with its own client: go-redis with PoolSize
// connections for wsess and the floor, redigo with PoolSize idle ones for
// scs. The floor is RedisFloor on the key of a wsess Redis session of kind
// (GETEX for /read, GETEX and SET for /counter), sent that session's
// cookie. The benchmark's name is bench/app/kind, bench being "Counter"
// for /counter and "Read" otherwise.
func Prepare(ctx context.Context, redisAddr, app, kind, path string) (*Prepared, error) {
	bench := "Read"
	if path == "/counter" {
		bench = "Counter"
	}
	p := &Prepared{Name: bench + "/" + app + "/" + kind, Path: path, Redis: RedisApp(app)}
	if p.Redis && redisAddr == "" {
		return nil, ErrNoRedis
	}
	if err := p.prepare(ctx, redisAddr, app, kind); err != nil {
		p.Close()
		return nil, fmt.Errorf("bench: %s: %w", p.Name, err)
	}
	return p, nil
}

func (p *Prepared) prepare(ctx context.Context, redisAddr, app, kind string) error {
	goRedis := func() (*redis.Client, error) {
		rdb, err := NewGoRedis(ctx, redisAddr, PoolSize)
		if err != nil {
			return nil, err
		}
		p.closers = append(p.closers, func() { rdb.Close() })
		return rdb, nil
	}
	made := "/counter"
	if kind == KindLoggedIn {
		made = "/login"
	}
	var err error
	switch app {
	case "bare":
		p.App = Bare()
	case "wsess-cookie":
		p.App, err = WsessCookie()
	case "gorilla":
		p.App = Gorilla()
	case "scs-mem":
		p.App = SCSMem()
	case "wsess-redis":
		rdb, err := goRedis()
		if err != nil {
			return err
		}
		p.App, err = WsessRedis(rdb)
		if err != nil {
			return err
		}
	case "scs-redis":
		pool := NewRedigoPool(redisAddr, PoolSize)
		p.closers = append(p.closers, func() { pool.Close() })
		p.App = SCSRedis(pool)
	case "redis-floor":
		rdb, err := goRedis()
		if err != nil {
			return err
		}
		w, err := WsessRedis(rdb)
		if err != nil {
			return err
		}
		cookie, err := FirstCookie(Serve(w.Handler, made, ""))
		if err != nil {
			return err
		}
		_, id, _ := strings.Cut(cookie, "=")
		p.App, p.Cookie = RedisFloor(rdb, WsessRedisKey(id), p.Path == "/counter"), cookie
		return nil
	default:
		return fmt.Errorf("unknown app %q", app)
	}
	if err != nil {
		return err
	}
	p.closers = append(p.closers, p.App.Close)
	switch {
	case kind == KindNew:
	case app == "bare":
		p.Cookie = BareCookie
	default:
		if p.Cookie, err = FirstCookie(Serve(p.App.Handler, made, "")); err != nil {
			return err
		}
	}
	return nil
}
