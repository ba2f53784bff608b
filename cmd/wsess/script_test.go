package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wsess/wsess/internal/redistest"
)

// TestMain registers the wsess command for the end-to-end scripts: inside
// them (and in exec.Command from tests), "wsess" is this test binary running
// main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"wsess": func() { os.Exit(Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar against the real command.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Start from a clean environment: no secret, no Redis, no colour
			// decision inherited from the developer's shell.
			for _, k := range []string{envKey, envKeyFile, envRedisURL, envRedisCluster, "NO_COLOR"} {
				env.Setenv(k, "")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// envfile VAR FILE sets VAR to the trimmed contents of FILE.
			"envfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: envfile VAR FILE")
				}
				ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
			},
			// redis-server VAR [PASSWORD] starts a private redis-server on a
			// free loopback port, stopped when the script ends, and sets VAR
			// to its host:port. With PASSWORD it requires that password
			// (set after the start: redistest checks readiness with a PING).
			"redis-server": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 || len(args) > 2 {
					ts.Fatalf("usage: redis-server VAR [PASSWORD]")
				}
				s, err := redistest.Launch(redistest.Options{})
				ts.Check(err)
				ts.Defer(s.Stop)
				if len(args) == 2 {
					c := redis.NewClient(&redis.Options{Addr: s.Addr})
					defer c.Close()
					ts.Check(c.ConfigSet(context.Background(), "requirepass", args[1]).Err())
				}
				ts.Setenv(args[0], s.Addr)
			},
			// exitcode N PROG ARGS... runs PROG and checks its exit status.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("%s: %v", args[1], err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
				}
			},
		},
	})
}
