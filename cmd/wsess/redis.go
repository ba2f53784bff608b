package main

import (
	"bufio"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
)

// defaultPrefix is the key prefix of sessions (pkg/session's and weppy's).
const defaultPrefix = "wppsess:"

// newCmdRedis is the "redis" command group.
func newCmdRedis(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "redis <command>",
		Short: "List, show, expire and summarise sessions stored in Redis",
		Long: `Administer the sessions a Redis session store keeps under a key prefix
(default "wppsess:", as weppy, Emmett and pkg/session use).

Keys are walked with SCAN, never KEYS, on every master of a cluster, in
constant memory. Connect with --redis-url (or WSESS_REDIS_URL) for a single
server, and add --cluster host:port,... for a Redis Cluster.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newCmdRedisLs(f, nil),
		newCmdRedisShow(f, nil),
		newCmdRedisExpire(f, nil),
		newCmdRedisStats(f, nil),
	)
	return cmd
}

// managerFunc builds the store manager from the factory's Redis client.
func managerFunc(f *factory) func() (*manager.Manager, error) {
	return func() (*manager.Manager, error) {
		c, err := f.RedisClient()
		if err != nil {
			return nil, err
		}
		return manager.New(c), nil
	}
}

// checkOutput validates -o against the allowed values.
func checkOutput(o string, allowed ...string) error {
	if contains(allowed, o) {
		return nil
	}
	return newUsageError("use -o "+strings.Join(allowed, ", -o "), "unknown output %q", o)
}

// outBuffer is the buffered writer every listing writes through; the
// caller flushes it.
func outBuffer(ios *IOStreams) *bufio.Writer { return bufio.NewWriterSize(ios.Out, 64<<10) }

// humanDuration is a short duration for people: 45s, 12m05s, 5h07m, 3d04h.
// Sub-second parts are rounded up, so a key about to expire shows 1s, not 0s.
func humanDuration(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// humanTTL shows a TTL for people ("none" for a key that never expires).
func humanTTL(d time.Duration) string {
	if d == manager.NoExpiry || d < 0 {
		return "none"
	}
	return humanDuration(d)
}

// humanIdle shows an idle time for people ("-" when unknown).
func humanIdle(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return humanDuration(d)
}

// humanSize shows a byte count for people: 33 B, 1.9 KiB, 12.0 MiB.
func humanSize(n int64) string {
	switch {
	case n < 0:
		return "-"
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}

// ttlSeconds is a TTL in whole seconds for machines (rounded up; -1 none).
func ttlSeconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(math.Ceil(d.Seconds()))
}

// idleSeconds is an idle time in whole seconds for machines (-1 unknown).
func idleSeconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Second)
}

// expiresAt is the RFC 3339 expiry time for a TTL ("" for none).
func expiresAt(now time.Time, d time.Duration) string {
	if d < 0 {
		return ""
	}
	return now.Add(time.Duration(ttlSeconds(d)) * time.Second).UTC().Format(time.RFC3339)
}

// nonNegative checks an integer flag.
func nonNegative(name string, v int) error {
	if v < 0 {
		return newUsageError("give 0 or more", "--%s %d is negative", name, v)
	}
	return nil
}
