// Command fill writes, in the Redis protocol on stdout, the commands that
// fill a server for the scale runs: -sessions wsess sessions under -prefix
// (43-character ids, small JSON values, TTLs spread over 30 minutes to 3 hours, so none expires during a run)
// and -others unrelated keys. Pipe it into `redis-cli --pipe`.
//
//	fill -sessions 1000000 -others 100000 -prefix wppsess: | redis-cli -p PORT --pipe
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	sessions := flag.Int("sessions", 1_000_000, "sessions to write under -prefix")
	others := flag.Int("others", 100_000, "other keys to write (under \"other:\")")
	prefix := flag.String("prefix", "wppsess:", "session key prefix")
	seed := flag.Uint64("seed", 1, "random seed (ids, values, TTLs)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := fill(w, *sessions, *others, *prefix, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func fill(w *bufio.Writer, sessions, others int, prefix string, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
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
		val = append(val, `"}`...)
		setex(w, key, val, 1800+rng.IntN(9000))
	}
	for i := range others {
		key = strconv.AppendInt(append(key[:0], "other:"...), int64(i), 10)
		setex(w, key, []byte("x"), 0)
	}
	return w.Flush()
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
