package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the Sentinels of StartSentinel watch.
const SentinelMaster = "wsessmaster"

// Sentinels is a master, one replica and Sentinels watching them, each a
// private process on a free loopback port.
type Sentinels struct {
	Primary, Replica *Server
	Sentinels        []*Server
	tb               testing.TB
}

// StartSentinel starts a master, a replica of it and n Sentinels (quorum
// 1, a master down after 1 s) and waits until every Sentinel knows the
// replica, so that a failover can run. Everything stops when the test
// ends. Without a redis-server binary it skips, or fails when Required.
func StartSentinel(tb testing.TB, n int) *Sentinels {
	tb.Helper()
	primary := Start(tb, Options{})
	replica := Start(tb, Options{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.Port)}})
	ss := &Sentinels{Primary: primary, Replica: replica, tb: tb}
	bin := sentinelBinary(tb, primary.bin)
	for range n {
		s := &Server{Dir: tb.TempDir(), bin: bin, tb: tb}
		s.conf = filepath.Join(s.Dir, "sentinel.conf")
		conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\nsentinel down-after-milliseconds %[1]s 1000\nsentinel failover-timeout %[1]s 5000\nsentinel parallel-syncs %[1]s 1\n",
			SentinelMaster, primary.Port)
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if err = os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
				tb.Fatal(err)
			}
			if s.Port, err = FreePort(); err != nil {
				tb.Fatal(err)
			}
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
			if err = s.start(); err == nil {
				break
			}
		}
		if err != nil {
			tb.Fatalf("redistest: sentinel: %v", err)
		}
		tb.Cleanup(s.Stop)
		ss.Sentinels = append(ss.Sentinels, s)
	}
	ss.waitKnown(primary.Addr, replica.Addr)
	return ss
}

// sentinelBinary is Debian's redis-sentinel (package redis-sentinel), or
// server, which runs as a Sentinel with --sentinel too, for a quick local
// run; when Required (under CI) a missing redis-sentinel fails the test.
func sentinelBinary(tb testing.TB, server string) string {
	tb.Helper()
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		return p
	}
	if Required() {
		tb.Fatal("redistest: redis-sentinel not found on PATH (run ./scripts/bootstrap, or apt-get install -y redis-sentinel)")
	}
	return server
}

// URL is the failover URL of go-redis (redis.ParseFailoverURL) naming
// every Sentinel and the master: redis://S1/0?master_name=M&addr=S2...
func (ss *Sentinels) URL() string {
	u := "redis://" + ss.Sentinels[0].Addr + "/0?master_name=" + SentinelMaster
	for _, s := range ss.Sentinels[1:] {
		u += "&addr=" + s.Addr
	}
	return u
}

// Master returns the address the Sentinels give for the master now.
func (ss *Sentinels) Master() string {
	ss.tb.Helper()
	addr, err := ss.masterOf(ss.Sentinels[0])
	if err != nil {
		ss.tb.Fatalf("redistest: sentinel: %v", err)
	}
	return addr
}

func (ss *Sentinels) masterOf(s *Server) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hp, err := c.GetMasterAddrByName(ctx, SentinelMaster).Result()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// Failover has the Sentinels promote the replica (SENTINEL FAILOVER, once
// the replica has every write the master acknowledged: WAIT), and returns
// when every Sentinel names the new master and it accepts writes. The old
// master becomes a replica of the new one.
func (ss *Sentinels) Failover() {
	ss.tb.Helper()
	ctx := context.Background()
	old := ss.Master()
	oldC := redis.NewClient(&redis.Options{Addr: old, MaxRetries: -1})
	defer oldC.Close()
	if n, err := oldC.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n < 1 {
		ss.tb.Fatalf("redistest: WAIT for the replica before the failover: %d, %v", n, err)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: ss.Sentinels[0].Addr, MaxRetries: -1})
	defer sc.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := sc.Failover(ctx, SentinelMaster).Err()
		if err == nil {
			break
		}
		// NOGOODSLAVE: the replica is not ready yet; INPROG: one runs.
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "NOGOODSLAVE") && !strings.Contains(err.Error(), "INPROG") {
			ss.tb.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		done := true
		var now string
		for _, s := range ss.Sentinels {
			addr, err := ss.masterOf(s)
			if err != nil || addr == old {
				done = false
				break
			}
			now = addr
		}
		if done && ss.writable(now) {
			return
		}
		if time.Now().After(deadline) {
			ss.tb.Fatalf("redistest: the Sentinels did not move the master off %s within 30 s", old)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writable reports whether addr is a master that accepts a write.
func (ss *Sentinels) writable(addr string) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Set(ctx, "redistest:failover-probe", "1", time.Second).Err() == nil
}

// waitKnown waits until every Sentinel names primary as the master and
// lists replica among its replicas (Sentinels learn replicas from the
// master's INFO, which they read every few seconds).
func (ss *Sentinels) waitKnown(primary, replica string) {
	ss.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range ss.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			reps, err := c.Replicas(ctx, SentinelMaster).Result()
			master, merr := ss.masterOf(s)
			cancel()
			if err == nil && merr == nil && master == primary && knows(reps, replica) {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				ss.tb.Fatalf("redistest: sentinel %s never saw master %s with replica %s (%v %v)", s.Addr, primary, replica, err, merr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
}

// knows reports whether SENTINEL REPLICAS lists addr as a healthy replica.
func knows(reps []map[string]string, addr string) bool {
	for _, r := range reps {
		if net.JoinHostPort(r["ip"], r["port"]) == addr && !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
			return true
		}
	}
	return false
}
