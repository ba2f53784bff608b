// Command scanfloor is the floor of the admin-command scale runs: a bare loop
// of SCAN cursor MATCH prefix* COUNT n over one connection that only counts
// the keys it sees, and prints the count.
//
//	scanfloor -addr 127.0.0.1:6379 -prefix wppsess: [-count 1000]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis host:port")
	prefix := flag.String("prefix", "wppsess:", "key prefix")
	count := flag.Int64("count", 1000, "SCAN COUNT hint")
	flag.Parse()
	n, err := scan(context.Background(), *addr, *prefix, *count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanfloor:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

func scan(ctx context.Context, addr, prefix string, count int64) (int, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
	defer rdb.Close()
	var (
		cursor uint64
		n      int
	)
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", count).Result()
		if err != nil {
			return n, fmt.Errorf("scan: %w", err)
		}
		n += len(keys)
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}
