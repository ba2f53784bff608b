package redistest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Cluster is a local Redis Cluster of masters without replicas, each one a
// private redis-server (see Start) with cluster mode on.
type Cluster struct {
	servers []*Server
	tb      testing.TB
}

// StartCluster starts masters (at least 1; 3 is the usual) cluster-enabled
// redis-server processes on free loopback ports, spreads the 16384 slots
// evenly over them, joins them with CLUSTER MEET and waits (up to 20 s) until
// every node reports cluster_state:ok and knows every other node. Every node
// stops when the test ends.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	if masters < 1 {
		tb.Fatalf("redistest: StartCluster needs at least 1 master, got %d", masters)
	}
	cl := &Cluster{tb: tb}
	for i := 0; i < masters; i++ {
		// The cluster bus needs a second port; Redis 7 lets us choose it
		// (the default port+10000 may be past 65535 or taken).
		bus, err := FreePort()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		s := Start(tb, Options{Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000",
			// A test may stop a master: keep serving the slots that remain.
			"--cluster-require-full-coverage", "no",
		}})
		cl.servers = append(cl.servers, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.form(ctx); err != nil {
		tb.Fatalf("redistest: cluster: %v", err)
	}
	return cl
}

// form assigns the slots, introduces the nodes and waits for a stable state.
func (cl *Cluster) form(ctx context.Context) error {
	n := len(cl.servers)
	clients := make([]*redis.Client, n)
	for i, s := range cl.servers {
		clients[i] = redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		defer clients[i].Close()
	}
	for i, c := range clients {
		lo := i * clusterSlots / n
		hi := (i+1)*clusterSlots/n - 1
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE %d %d: %w", cl.servers[i].Addr, lo, hi, err)
		}
	}
	for i := 1; i < n; i++ {
		bus, err := busPort(ctx, clients[i])
		if err != nil {
			return fmt.Errorf("%s: %w", cl.servers[i].Addr, err)
		}
		s := cl.servers[i]
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", s.Port, bus).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", s.Addr, err)
		}
	}
	for {
		if err := ready(ctx, clients); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("not ready: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// busPort reads the node's cluster bus port from its own CLUSTER NODES line
// ("id ip:port@bus flags,myself ...").
func busPort(ctx context.Context, c *redis.Client) (int, error) {
	nodes, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[2], "myself") {
			continue
		}
		addr := f[1]
		if i := strings.IndexByte(addr, ','); i >= 0 {
			addr = addr[:i]
		}
		if i := strings.IndexByte(addr, '@'); i >= 0 {
			return strconv.Atoi(addr[i+1:])
		}
	}
	return 0, fmt.Errorf("no bus port in CLUSTER NODES %q", nodes)
}

// ready reports nil once every node says cluster_state:ok, sees all nodes
// and has every slot assigned.
func ready(ctx context.Context, clients []*redis.Client) error {
	for _, c := range clients {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		want := []string{
			"cluster_state:ok",
			"cluster_slots_ok:" + strconv.Itoa(clusterSlots),
			"cluster_known_nodes:" + strconv.Itoa(len(clients)),
		}
		for _, w := range want {
			if !strings.Contains(info, w+"\r\n") {
				return fmt.Errorf("%s: no %q in CLUSTER INFO", c.Options().Addr, w)
			}
		}
	}
	return nil
}

// Addrs returns host:port of every master, in start order.
func (cl *Cluster) Addrs() []string {
	a := make([]string, len(cl.servers))
	for i, s := range cl.servers {
		a[i] = s.Addr
	}
	return a
}

// StopMaster stops master i (in start order). Its slots stay unserved.
func (cl *Cluster) StopMaster(i int) { cl.servers[i].Stop() }

// Client returns a new cluster client, closed when the test ends.
func (cl *Cluster) Client() *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	cl.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// EachTopology runs f as two subtests, "single" against one redis-server
// and "cluster" against a 3-master cluster, each started for it.
func EachTopology(t *testing.T, f func(t *testing.T, c redis.UniversalClient)) {
	t.Run("single", func(t *testing.T) {
		f(t, Start(t, Options{}).Client())
	})
	t.Run("cluster", func(t *testing.T) {
		f(t, StartCluster(t, 3).Client())
	})
}

// EachNode runs f on every node that holds data: each master of a cluster
// client, or the client itself. f is never called concurrently; its error,
// or the cluster's, fails tb.
func EachNode(tb testing.TB, c redis.UniversalClient, f func(n *redis.Client) error) {
	tb.Helper()
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		var mu sync.Mutex
		err = c.ForEachMaster(context.Background(), func(_ context.Context, n *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return f(n)
		})
	case *redis.Client:
		err = f(c)
	default:
		tb.Fatalf("redistest: unexpected client %T", c)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// Keys returns every key on every node (EachNode), sorted.
func Keys(tb testing.TB, c redis.UniversalClient) []string {
	tb.Helper()
	var keys []string
	EachNode(tb, c, func(n *redis.Client) error {
		ks, err := n.Keys(context.Background(), "*").Result()
		keys = append(keys, ks...)
		return err
	})
	slices.Sort(keys)
	return keys
}
