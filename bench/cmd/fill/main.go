// Command fill writes, in the Redis protocol on stdout, the commands that
// fill a server for the scale runs: -sessions wsess sessions under -prefix
// (43-character ids, small JSON values, TTLs spread over 30 minutes to 3 hours, so none expires during a run)
// and -others unrelated keys. Pipe it into `redis-cli --pipe`. With
// -nottl-every N, every Nth session has no TTL (the --no-ttl runs). With
// -logged-in-every N, every Nth session is logged in the way pkg/session
// writes it ("_wsess_user" and "_wsess_created" in its value, listed in its
// user's index {prefix u:HashID} with an index TTL past its own; two
// sessions a user), so that wsess redis doctor has users to check. With
// -cluster host:port,..., it writes the keys itself through a cluster client
// (pipelines routed per master) instead of printing them.
//
//	fill -sessions 1000000 -others 100000 -prefix wppsess: | redis-cli -p PORT --pipe
//	fill -sessions 3000000 -others 0 -prefix wppsess: -cluster 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	sessions := flag.Int("sessions", 1_000_000, "sessions to write under -prefix")
	others := flag.Int("others", 100_000, "other keys to write (under \"other:\")")
	prefix := flag.String("prefix", "wppsess:", "session key prefix")
	seed := flag.Uint64("seed", 1, "random seed (ids, values, TTLs)")
	noTTLEvery := flag.Int("nottl-every", 0, "give every Nth session no TTL (0: all have one)")
	loggedInEvery := flag.Int("logged-in-every", 0, "make every Nth session a logged-in one, listed in its user's index (0: none)")
	cluster := flag.String("cluster", "", "comma-separated cluster node addresses: write the keys there instead of printing them")
	flag.Parse()
	var err error
	if *cluster != "" {
		err = fillCluster(strings.Split(*cluster, ","), *sessions, *others, *prefix, *seed, *noTTLEvery, *loggedInEvery)
	} else {
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		err = fill(func(key, val []byte, ttl int) { setex(w, key, val, ttl) },
			func(index, member []byte, score int64, ttl int) { zaddex(w, index, member, score, ttl) },
			*sessions, *others, *prefix, *seed, *noTTLEvery, *loggedInEvery)
		if err == nil {
			err = w.Flush()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

// fillCluster writes the keys through a cluster client, 10,000 per pipeline.
func fillCluster(addrs []string, sessions, others int, prefix string, seed uint64, noTTLEvery, loggedInEvery int) error {
	ctx := context.Background()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	pipe := c.Pipeline()
	var err error
	flush := func() {
		if err == nil && pipe.Len() > 0 {
			_, err = pipe.Exec(ctx)
		}
	}
	_ = fill(func(key, val []byte, ttl int) {
		pipe.Set(ctx, string(key), string(val), time.Duration(ttl)*time.Second)
		if pipe.Len() >= 10_000 {
			flush()
		}
	}, func(index, member []byte, score int64, ttl int) {
		pipe.ZAdd(ctx, string(index), redis.Z{Score: float64(score), Member: string(member)})
		pipe.Do(ctx, "EXPIRE", string(index), ttl, "GT")
		pipe.Do(ctx, "EXPIRE", string(index), ttl, "NX")
		if pipe.Len() >= 10_000 {
			flush()
		}
	}, sessions, others, prefix, seed, noTTLEvery, loggedInEvery)
	flush()
	return err
}

// fill calls set for every key to write (ttl in seconds, 0 for none) and
// zadd for every index entry of a logged-in session (score in Unix ms;
// the index's TTL in seconds, to be raised, never lowered).
func fill(set func(key, val []byte, ttl int), zadd func(index, member []byte, score int64, ttl int), sessions, others int, prefix string, seed uint64, noTTLEvery, loggedInEvery int) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now := time.Now()
	index := make([]byte, 0, 96)
	var id [32]byte
	key := make([]byte, 0, 64)
	val := make([]byte, 0, 64)
	for i := range sessions {
		for j := 0; j < len(id); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				id[j+k] = byte(v >> (8 * k))
			}
		}
		key = append(key[:0], prefix...)
		key = base64.RawURLEncoding.AppendEncode(key, id[:])
		val = append(val[:0], `{"counter":`...)
		val = strconv.AppendInt(val, int64(rng.IntN(1000)+1), 10)
		val = append(val, `,"user":"u`...)
		val = strconv.AppendInt(val, int64(i), 10)
		loggedIn := loggedInEvery > 0 && i%loggedInEvery == 0
		var user string
		if loggedIn {
			user = "user" + strconv.Itoa(i/loggedInEvery/2) // two sessions a user
			val = append(val, `","_wsess_user":"`...)
			val = append(val, user...)
			val = append(val, `","_wsess_created":`...)
			val = strconv.AppendInt(val, now.Unix(), 10)
			val = append(val, '}')
		} else {
			val = append(val, `"}`...)
		}
		ttl := 1800 + rng.IntN(9000)
		if noTTLEvery > 0 && i%noTTLEvery == 0 {
			ttl = 0
		}
		set(key, val, ttl)
		if loggedIn {
			// pkg/session's index: {prefix u:HashID(user)}, the handle (the
			// key after the prefix) scored by when its session expires,
			// plus its slack; the index lives as long as its last entry.
			sum := sha256.Sum256([]byte(user))
			index = append(append(index[:0], '{'), prefix...)
			index = append(index, "u:"...)
			index = base64.RawURLEncoding.AppendEncode(index, sum[:])
			index = append(index, '}')
			life := ttl + 300
			if ttl == 0 {
				life = 24 * 3600
			}
			zadd(index, key[len(prefix):], now.Add(time.Duration(life)*time.Second).UnixMilli(), life)
		}
	}
	for i := range others {
		key = strconv.AppendInt(append(key[:0], "other:"...), int64(i), 10)
		set(key, []byte("x"), 0)
	}
	return nil
}

// zaddex writes ZADD index score member and EXPIRE index ttl GT, then NX
// (raised, never lowered), as RESP arrays.
func zaddex(w *bufio.Writer, index, member []byte, score int64, ttl int) {
	w.WriteString("*4\r\n")
	bulk(w, []byte("ZADD"))
	bulk(w, index)
	bulk(w, strconv.AppendInt(nil, score, 10))
	bulk(w, member)
	for _, cond := range []string{"GT", "NX"} {
		w.WriteString("*4\r\n")
		bulk(w, []byte("EXPIRE"))
		bulk(w, index)
		bulk(w, strconv.AppendInt(nil, int64(ttl), 10))
		bulk(w, []byte(cond))
	}
}

// setex writes SET key val [EX ttl] as a RESP array.
func setex(w *bufio.Writer, key, val []byte, ttl int) {
	if ttl > 0 {
		w.WriteString("*5\r\n")
	} else {
		w.WriteString("*3\r\n")
	}
	bulk(w, []byte("SET"))
	bulk(w, key)
	bulk(w, val)
	if ttl > 0 {
		bulk(w, []byte("EX"))
		bulk(w, strconv.AppendInt(nil, int64(ttl), 10))
	}
}

func bulk(w *bufio.Writer, b []byte) {
	w.WriteByte('$')
	w.WriteString(strconv.Itoa(len(b)))
	w.WriteString("\r\n")
	w.Write(b)
	w.WriteString("\r\n")
}
