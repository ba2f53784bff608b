// Command scanfloor is the floor of the admin-command scale runs: a bare loop
// of SCAN cursor MATCH prefix* COUNT n that only counts the keys it sees, or
// that acts on each batch with the fewest commands Redis allows, and prints
// the count.
//
//	scanfloor -addr 127.0.0.1:6379 -prefix wppsess: [-count 1000] [-action scan|delete|in|nottl] [-ttl 1h]
//	scanfloor -addrs A,B,C ...   (every master of a cluster, all at once)
//
// Actions, each pipelined (the SCAN for the next batch runs while the
// previous batch is acted on, on a second connection):
//
//	scan    count the keys (the default)
//	delete  one variadic UNLINK per batch (one node only: a cluster refuses
//	        keys of several slots)
//	in      one script call per batch that sets the TTL of every key in it
//	nottl   one script call per batch that sets the TTL of the keys that
//	        have none, checked and set atomically
//	describe one pipeline per batch of OBJECT IDLETIME, PTTL and STRLEN
//	        for each key (what stats reads; ls reads the value with GET
//	        in place of STRLEN), counting the replies
//
// With -addrs every address is walked at the same time, each on its own
// connections, and the totals are added: the floor for a cluster-wide walk
// on this machine. The scripts are flagged allow-cross-slot-keys and take
// the keys as arguments, so they run on a cluster master for the keys it
// holds. The count printed is keys seen for scan, keys changed otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// scripts per action: ARGV[1] is the TTL in ms, ARGV[2...] the keys.
var scripts = map[string]*redis.Script{
	"in": redis.NewScript(`#!lua flags=allow-cross-slot-keys
local n = 0
for i = 2, #ARGV do n = n + redis.call('PEXPIRE', ARGV[i], ARGV[1]) end
return n
`),
	"nottl": redis.NewScript(`#!lua flags=allow-cross-slot-keys
local n = 0
for i = 2, #ARGV do
  if redis.call('PTTL', ARGV[i]) == -1 then n = n + redis.call('PEXPIRE', ARGV[i], ARGV[1]) end
end
return n
`),
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis host:port")
	addrs := flag.String("addrs", "", "comma-separated host:port of every master, walked all at once (overrides -addr)")
	prefix := flag.String("prefix", "wppsess:", "key prefix")
	count := flag.Int64("count", 1000, "SCAN COUNT hint")
	action := flag.String("action", "scan", "scan, delete, in, nottl or describe")
	ttl := flag.Duration("ttl", time.Hour, "TTL for -action in and nottl")
	flag.Parse()
	list := []string{*addr}
	if *addrs != "" {
		list = strings.Split(*addrs, ",")
	}
	switch *action {
	case "scan", "delete", "in", "nottl", "describe":
	default:
		fmt.Fprintln(os.Stderr, "scanfloor: unknown -action", *action)
		os.Exit(2)
	}
	n, err := all(context.Background(), list, *prefix, *count, *action, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanfloor:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// all walks every address at once and adds up the counts.
func all(ctx context.Context, addrs []string, prefix string, count int64, action string, ttl time.Duration) (int64, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error
	)
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := walk(ctx, a, prefix, count, action, ttl)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", a, err)
			}
		}()
	}
	wg.Wait()
	return total, first
}

// walk runs the loop on one server: SCAN on one connection, the action on
// another, one batch in flight while the next is scanned.
func walk(ctx context.Context, addr, prefix string, count int64, action string, ttl time.Duration) (int64, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 2})
	defer rdb.Close()
	if action == "scan" {
		var n int64
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", count).Result()
			if err != nil {
				return n, fmt.Errorf("scan: %w", err)
			}
			n += int64(len(keys))
			if cursor = next; cursor == 0 {
				return n, nil
			}
		}
	}
	script := scripts[action]
	if script != nil {
		if err := script.Load(ctx, rdb).Err(); err != nil {
			return 0, fmt.Errorf("script load: %w", err)
		}
	}
	ms := strconv.FormatInt(ttl.Milliseconds(), 10)
	batches := make(chan []string, 1)
	var (
		n      int64
		actErr error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		args := make([]any, 0, count+1)
		for keys := range batches {
			if actErr != nil {
				continue
			}
			var (
				m   int64
				err error
			)
			switch {
			case action == "describe":
				pipe := rdb.Pipeline()
				for _, k := range keys {
					pipe.ObjectIdleTime(ctx, k)
					pipe.PTTL(ctx, k)
					pipe.StrLen(ctx, k)
				}
				var cmds []redis.Cmder
				cmds, err = pipe.Exec(ctx)
				m = int64(len(cmds) / 3)
			case script == nil:
				m, err = rdb.Unlink(ctx, keys...).Result()
			default:
				args = append(args[:0], ms)
				for _, k := range keys {
					args = append(args, k)
				}
				m, err = script.EvalSha(ctx, rdb, nil, args...).Int64()
			}
			if err != nil {
				actErr = fmt.Errorf("%s: %w", action, err)
			}
			n += m
		}
	}()
	var (
		cursor  uint64
		scanErr error
	)
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", count).Result()
		if err != nil {
			scanErr = fmt.Errorf("scan: %w", err)
			break
		}
		if len(keys) > 0 {
			batches <- keys
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	close(batches)
	<-done
	if scanErr != nil {
		return n, scanErr
	}
	return n, actErr
}
