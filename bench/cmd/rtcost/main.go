// Command rtcost tells the loopback hop from Redis's own work. It times,
// one at a time on loopback, plain go-redis calls (PING, GET, GETEX) and
// whole requests of an existing session through each library's Redis app
// (the same apps as the in-process benchmarks): wsess's read (one load
// script) and counter (the load script, then the compare-and-set script),
// and scs's read and counter (GET, then MULTI/SET/PEXPIREAT/EXEC), next to
// the same request without sessions. For each it prints the median wall
// time, Redis's own time per call or request (INFO commandstats, scripts
// counted once with what they run) and the commands per call.
//
//	rtcost -addr 127.0.0.1:6379 [-n 5000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsess/wsess/bench"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis host:port")
	n := flag.Int("n", 5000, "calls per kind")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *addr, *n); err != nil {
		fmt.Fprintln(os.Stderr, "rtcost:", err)
		os.Exit(1)
	}
}

type kind struct {
	name string
	f    func() error
}

func run(ctx context.Context, out io.Writer, addr string, n int) error {
	rdb, err := bench.NewGoRedis(ctx, addr, 1)
	if err != nil {
		return err
	}
	defer rdb.Close()
	const key = "rtcost:value"
	if err := rdb.Set(ctx, key, `{"counter":41}`, time.Hour).Err(); err != nil {
		return err
	}
	kinds := []kind{
		{"PING", func() error { return rdb.Ping(ctx).Err() }},
		{"GET", func() error { return rdb.Get(ctx, key).Err() }},
		{"GETEX", func() error { return rdb.GetEx(ctx, key, time.Hour).Err() }},
	}

	bare := bench.Bare()
	wsess, err := bench.WsessRedis(rdb)
	if err != nil {
		return err
	}
	pool := bench.NewRedigoPool(addr, 1)
	defer pool.Close()
	scs := bench.SCSRedis(pool)
	defer scs.Close()
	kinds = append(kinds, kind{"request, no session", request(bare.Handler, "/read", "")})
	for _, app := range []bench.App{wsess, scs} {
		cookie, err := sessionCookie(app.Handler)
		if err != nil {
			return fmt.Errorf("%s: %w", app.Name, err)
		}
		kinds = append(kinds,
			kind{app.Name + " read request", request(app.Handler, "/read", cookie)},
			kind{app.Name + " counter request", request(app.Handler, "/counter", cookie)})
	}

	fmt.Fprintf(out, "%-28s %12s %14s %10s\n", "call", "median wall", "server/call", "cmds/call")
	for _, k := range kinds {
		for range 20 { // warm pools and the script cache
			if err := k.f(); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
			return err
		}
		ts := make([]time.Duration, 0, n)
		for range n {
			start := time.Now()
			if err := k.f(); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			ts = append(ts, time.Since(start))
		}
		slices.Sort(ts)
		info, err := rdb.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		usec, calls := serverTime(info)
		fmt.Fprintf(out, "%-28s %12s %13.1fµs %10.1f\n", k.name, ts[len(ts)/2].Round(100*time.Nanosecond),
			usec/float64(n), calls/float64(n))
	}
	return nil
}

// request returns a call that sends one GET of path with cookie through h
// and fails unless the answer is 200.
func request(h http.Handler, path, cookie string) func() error {
	return func() error {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", path, w.Code)
		}
		return nil
	}
}

// sessionCookie starts a session in h and returns its "name=value".
func sessionCookie(h http.Handler) (string, error) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/counter", nil))
	sc := w.Result().Header.Values("Set-Cookie")
	if len(sc) == 0 {
		return "", errors.New("the first request set no cookie")
	}
	nv, _, _ := strings.Cut(sc[0], ";")
	return nv, nil
}

// serverTime returns Redis's time and the commands counted in an INFO
// commandstats reply, leaving out INFO and CONFIG. A script's usec include
// the commands it ran, so when scripts ran their time alone is returned
// (none of the kinds above mixes scripts with commands outside them);
// calls count the script and each command it ran.
func serverTime(info string) (usec, calls float64) {
	var scripts, inside float64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		cmd := strings.TrimPrefix(name, "cmdstat_")
		if cmd == "info" || strings.HasPrefix(cmd, "config") {
			continue
		}
		var c, u float64
		for _, field := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			switch k {
			case "calls":
				c, _ = strconv.ParseFloat(v, 64)
			case "usec":
				u, _ = strconv.ParseFloat(v, 64)
			}
		}
		calls += c
		if cmd == "evalsha" || cmd == "eval" {
			scripts += u
		} else {
			inside += u
		}
	}
	if scripts > 0 {
		return scripts, calls
	}
	return inside, calls
}
