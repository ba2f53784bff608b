// Command peerserver serves one library's counter app (see package bench) on
// loopback for wrk, the way `wsess serve demo` serves wsess's: same routes
// (/counter, /read), same server timeouts, one log line per request on
// stderr. It prints its URL on stderr and stops on SIGINT or SIGTERM.
//
//	peerserver -lib gorilla|scs-mem|scs-redis|bare|wsess-cookie|wsess-redis [-addr 127.0.0.1:0] [-redis-addr 127.0.0.1:6379]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsess/wsess/bench"
	"github.com/wsess/wsess/internal/reqlog"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peerserver:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerserver", flag.ContinueOnError)
	lib := fs.String("lib", "gorilla", "library: bare, gorilla, scs-mem, scs-redis, wsess-cookie or wsess-redis")
	addr := fs.String("addr", "127.0.0.1:0", "loopback host:port to listen on")
	redisAddr := fs.String("redis-addr", "127.0.0.1:6379", "Redis host:port (scs-redis, wsess-redis)")
	quiet := fs.Bool("quiet", false, "do not log requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("invalid -addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %s: loopback addresses only", *addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var app bench.App
	switch *lib {
	case "bare":
		app = bench.Bare()
	case "gorilla":
		app = bench.Gorilla()
	case "scs-mem":
		app = bench.SCSMem()
	case "scs-redis":
		pool := bench.NewRedigoPool(*redisAddr, 256)
		defer pool.Close()
		app = bench.SCSRedis(pool)
	case "wsess-cookie":
		if app, err = bench.WsessCookie(); err != nil {
			return err
		}
	case "wsess-redis":
		rdb, err := bench.NewGoRedis(ctx, *redisAddr, 0)
		if err != nil {
			return err
		}
		defer rdb.Close()
		if app, err = bench.WsessRedis(rdb); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -lib %q", *lib)
	}
	defer app.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	h := app.Handler
	if !*quiet {
		h = reqlog.Handler(stderr, time.Now, h) // the demo server's own request log
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	fmt.Fprintf(stderr, "peerserver: serving %s on http://%s/\n", app.Name, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
