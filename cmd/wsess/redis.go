package main

import (
	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/manager"
)

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
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newCmdRedisLs(f, nil),
		newCmdRedisShow(f, nil),
		newCmdRedisExpire(f, nil),
		newCmdRedisStats(f, nil),
		newCmdRedisSessions(f, nil),
		newCmdRedisRevoke(f, nil),
		newCmdRedisPut(f, nil),
		newCmdRedisDoctor(f, nil),
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
