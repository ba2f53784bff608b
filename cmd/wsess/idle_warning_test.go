package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/redistest"
)

// wouldDeleteRe reads the count out of an expire --delete --dry-run summary.
var wouldDeleteRe = regexp.MustCompile(`^Would delete (\d+) keys? under "p:"`)

// TestAdminCommandsKeepIdleTimes: on this machine's redis-server (7.0, no
// CLIENT NO-TOUCH), ls and stats leave the idle times that expire --idle
// selects on alone, and say once that their sizes are MEMORY USAGE; the
// commands that must read values (show, ls --decode, expire --where) say
// once that they reset them, and do. The issue: a dry run found 11 idle
// keys, and after one ls it found 0.
func TestAdminCommandsKeepIdleTimes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := srv.Client()
	ctx := context.Background()
	for i := range 20 {
		if err := c.Set(ctx, fmt.Sprintf("p:%d", i), `{"counter": `+strconv.Itoa(i)+`}`, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.HSet(ctx, "p:hash", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, line := range strings.Split(c.Info(ctx, "server").Val(), "\r\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			version = v
		}
	}
	noTouch := hasNoTouch(c)
	valuesNote := "wsess: notice: Redis " + version + " has no CLIENT NO-TOUCH: reading values resets their idle time, which expire --idle selects on\n"
	sizesNote := "wsess: notice: Redis " + version + " has no CLIENT NO-TOUCH: sizes are MEMORY USAGE (key and overhead included), read without resetting idle times\n"
	if noTouch {
		valuesNote, sizesNote = "", ""
	}

	// OBJECT IDLETIME counts whole seconds of a clock updated ten times a
	// second: after idleFor+1.2 s every key not used since is idle for
	// idleFor or more. The keys used below must stay under idleFor until
	// the last dry run: on a loaded machine the commands between take
	// seconds (with 2 s, a run under load once found all 21 keys idle).
	const idleFor = 5 * time.Second
	time.Sleep(idleFor + 1200*time.Millisecond)
	for i := range 5 { // five sessions in use: not idle
		if err := c.Get(ctx, fmt.Sprintf("p:%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	wsessTTY := func(tty bool, args ...string) cliResult {
		t.Helper()
		return runRedis(t, tty, "", append([]string{"--redis-url", srv.URL(), "redis"}, args...)...)
	}
	wsess := func(args ...string) cliResult { t.Helper(); return wsessTTY(false, args...) }
	idle := func() int {
		t.Helper()
		r := wsess("expire", "--prefix", "p:", "--delete", "--idle", idleFor.String(), "--dry-run")
		m := wouldDeleteRe.FindStringSubmatch(r.Stdout)
		if r.Code != 0 || r.Stderr != "" || m == nil {
			t.Fatalf("expire --idle %s --dry-run: exit %d, %q %q", idleFor, r.Code, r.Stdout, r.Stderr)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	const want = 16 // 15 sessions and the hash
	if n := idle(); n != want {
		t.Fatalf("dry run: %d idle keys, want %d", n, want)
	}
	// The sizes are MEMORY USAGE there: said to people, once.
	for _, tty := range []bool{true, false} {
		want := sizesNote
		if !tty {
			want = ""
		}
		for _, args := range [][]string{
			{"ls", "--prefix", "p:"},
			{"ls", "--prefix", "p:", "-o", "json"},
			{"stats", "--prefix", "p:"},
			{"stats", "--prefix", "p:", "-o", "json"},
		} {
			// On a terminal a progress line may follow (stats).
			r := wsessTTY(tty, args...)
			if r.Code != 0 || !strings.HasPrefix(r.Stderr, want) || strings.Count(r.Stderr, "NO-TOUCH") != strings.Count(want, "NO-TOUCH") ||
				!tty && r.Stderr != "" {
				t.Errorf("%q (terminal %v): exit %d, stderr %q; want %q", args, tty, r.Code, r.Stderr, want)
			}
		}
		if r := wsessTTY(tty, "ls", "--prefix", "p:", "--keys-only"); r.Code != 0 || r.Stderr != "" {
			t.Errorf("ls --keys-only: exit %d, stderr %q", r.Code, r.Stderr)
		}
	}
	if n := idle(); n != want {
		t.Fatalf("dry run after ls and stats: %d idle keys, want %d as before", n, want)
	}

	// Commands that read values say so, once, and on this server reset
	// the idle times of what they read.
	steps := []struct {
		args  []string
		after int // idle keys after it, on a server without NO-TOUCH
	}{
		{[]string{"show", "p:5"}, want - 1},
		{[]string{"ls", "--prefix", "p:", "--match", "1?", "--decode"}, want - 1 - 10}, // p:10 to p:19
		{[]string{"expire", "--prefix", "p:", "--in", "1h", "--where", ".counter == 6", "--dry-run"}, 0},
	}
	for _, s := range steps {
		r := wsess(s.args...)
		if r.Code != 0 || r.Stderr != valuesNote {
			t.Errorf("%q: exit %d, stderr %q; want %q", s.args, r.Code, r.Stderr, valuesNote)
		}
		wantIdle := s.after
		if noTouch {
			wantIdle = want
		}
		if n := idle(); n != wantIdle {
			t.Errorf("dry run after %q: %d idle keys, want %d", s.args, n, wantIdle)
		}
	}
}

// idleNoteRe matches the notice noteIdleTimes prints on a server without
// CLIENT NO-TOUCH.
var idleNoteRe = regexp.MustCompile(`(?m)^wsess: notice: (Redis \S+|this Redis server) has no CLIENT NO-TOUCH: .*\n`)

// dropIdleNote returns stderr without the notice about idle times, which
// only servers without CLIENT NO-TOUCH (before Redis 7.2) get: for tests
// of other output (TestAdminCommandsKeepIdleTimes checks the notice).
func dropIdleNote(stderr string) string { return idleNoteRe.ReplaceAllString(stderr, "") }

// hasNoTouch reports whether c's server knows CLIENT NO-TOUCH (Redis 7.2
// and later).
func hasNoTouch(c redis.UniversalClient) bool {
	return c.Do(context.Background(), "client", "no-touch", "off").Err() == nil
}
