// Command rtcost times, over one go-redis connection on loopback, the Redis
// calls a session request makes: GETEX (wsess's load), wsess's compare-and-set
// script (its save), and scs's GET and MULTI/SET/PEXPIREAT/EXEC. It prints the
// median wall time of each and the server's time per call (INFO
// commandstats), to tell the network hop from Redis's own work.
//
//	rtcost -addr 127.0.0.1:6379 [-n 5000]
package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// casScript is pkg/session's compare-and-set script (keep in step).
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return {0, cur} end
elseif not cur then
  return {0, false}
elseif redis.sha1hex(cur) ~= ARGV[1] then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return {1}
`)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis host:port")
	n := flag.Int("n", 5000, "calls per kind")
	flag.Parse()
	if err := run(context.Background(), *addr, *n); err != nil {
		fmt.Fprintln(os.Stderr, "rtcost:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, n int) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, Protocol: 2})
	defer rdb.Close()
	const key = "rtcost:session"
	val := `{"counter":41,"user":"u1"}`
	sum := sha1.Sum([]byte(val))
	digest := hex.EncodeToString(sum[:])
	if err := rdb.Set(ctx, key, val, time.Hour).Err(); err != nil {
		return err
	}
	if err := casScript.Load(ctx, rdb).Err(); err != nil {
		return err
	}
	kinds := []struct {
		name string
		f    func() error
	}{
		{"PING", func() error { return rdb.Ping(ctx).Err() }},
		{"GET", func() error { return rdb.Get(ctx, key).Err() }},
		{"GETEX", func() error { return rdb.GetEx(ctx, key, time.Hour).Err() }},
		{"EVALSHA cas", func() error {
			return casScript.EvalSha(ctx, rdb, []string{key}, digest, val, 3600).Err()
		}},
		{"MULTI SET PEXPIREAT EXEC", func() error {
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, val, 0)
				p.PExpireAt(ctx, key, time.Now().Add(time.Hour))
				return nil
			})
			return err
		}},
	}
	fmt.Printf("%-26s %12s %14s\n", "call", "median wall", "server/call")
	for _, k := range kinds {
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
		fmt.Printf("%-26s %12s %14s\n", k.name, ts[len(ts)/2].Round(100*time.Nanosecond), serverTime(info, n))
	}
	return nil
}

// serverTime sums the usec of every command in an INFO commandstats reply
// (but INFO and CONFIG) and divides by n calls.
func serverTime(info string, n int) string {
	var total int64
	var name string
	var calls, usec int64
	for _, line := range splitLines(info) {
		if _, err := fmt.Sscanf(line, "cmdstat_%s", &name); err != nil {
			continue
		}
		i := 0
		for i < len(line) && line[i] != ':' {
			i++
		}
		cmd := line[len("cmdstat_"):i]
		if cmd == "info" || cmd == "config|resetstat" || cmd == "config" {
			continue
		}
		if _, err := fmt.Sscanf(line[i+1:], "calls=%d,usec=%d", &calls, &usec); err == nil {
			total += usec
		}
	}
	return fmt.Sprintf("%.1fµs", float64(total)/float64(n))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			line := s[start:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			out = append(out, line)
			start = i + 1
		}
	}
	return out
}
