// Command wsess inspects and administers weppy-style sessions: it decrypts
// session cookies (wsess, weppy and Emmett formats), lists and expires Redis
// sessions, and runs a demo counter server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // named zones in pickled times decode without a system tz database (the library leaves this to programs)

	"github.com/redis/go-redis/v9"
)

func main() {
	os.Exit(Main())
}

// Main runs wsess with the process's arguments, standard streams and
// environment, and returns the exit code. SIGINT and SIGTERM cancel the
// command's context (the demo server shuts down gracefully on it).
func Main() int {
	// go-redis logs dial failures itself; wsess reports errors as one line.
	redis.SetLogger(quietLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], systemIO(), os.LookupEnv)
}

// quietLogger drops go-redis's internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
