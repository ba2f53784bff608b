package interleave

import (
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Step is one step of a schedule: a command or a pipeline of one
// participant.
type Step struct {
	// Participant is the participant's name; Slot its index in
	// Scenario.Tasks.
	Participant string
	Slot        int
	// Command describes the step: the command's name (a script's name from
	// Options.Names, or the first 8 hex digits of its SHA-1) and its first
	// key, cut to 28 bytes; a pipeline lists its commands the same way.
	Command string

	// keys are the keys the step reads or writes; global: unknown (a
	// command not in keyed, or without keys), dependent on every step.
	keys   []string
	global bool
}

// independent reports steps of different participants that touch no key
// in common: run in either order, they leave Redis in the same state and
// answer the same.
func independent(a, b Step) bool {
	if a.global || b.global {
		return false
	}
	for _, k := range a.keys {
		if slices.Contains(b.keys, k) {
			return false
		}
	}
	return true
}

func (s Step) String() string { return s.Participant + ": " + s.Command }

// Schedule is the steps of one run, in the order they ran.
type Schedule []Step

// String numbers the steps, one per line: "1. revoke: ZRANGE {wppsess:u:…}".
func (s Schedule) String() string {
	var b strings.Builder
	for i, st := range s {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d. %s", i+1, st)
	}
	return b.String()
}

// maxKey is how much of a key a step description shows.
const maxKey = 28

// describe builds the step of participant name (at slot) that sends cmds.
func describe(name string, slot int, cmds []redis.Cmder, names map[string]string) Step {
	st := Step{Participant: name, Slot: slot}
	for _, c := range cmds {
		ks, ok := keysOf(c)
		st.keys = append(st.keys, ks...)
		st.global = st.global || !ok
	}
	if len(cmds) == 1 {
		st.Command = describeCmd(cmds[0], names)
		return st
	}
	// A pipeline: "UNLINK×3 k1…" when every command is the same one,
	// else "pipeline[GET k, EXPIRE k]".
	same := true
	for _, c := range cmds[1:] {
		same = same && strings.EqualFold(c.Name(), cmds[0].Name())
	}
	if same {
		st.Command = fmt.Sprintf("%s×%d", strings.ToUpper(cmds[0].Name()), len(cmds))
		if k := firstKey(cmds[0]); k != "" {
			st.Command += " " + cut(k)
		}
		return st
	}
	parts := make([]string, 0, len(cmds))
	for _, c := range cmds {
		if len(parts) == 4 {
			parts = append(parts, fmt.Sprintf("+%d", len(cmds)-4))
			break
		}
		parts = append(parts, describeCmd(c, names))
	}
	st.Command = "pipeline[" + strings.Join(parts, ", ") + "]"
	return st
}

func describeCmd(cmd redis.Cmder, names map[string]string) string {
	name := strings.ToUpper(cmd.Name())
	switch name {
	case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO":
		sha := scriptSHA(cmd)
		label, ok := names[sha]
		if !ok && len(sha) >= 8 {
			label = sha[:8]
		}
		name += " " + label
	}
	if k := firstKey(cmd); k != "" {
		return name + " " + cut(k)
	}
	return name
}

// firstKey returns the command's first key: after EVAL's script and key
// count, else its first argument (good enough for a description; commands
// without keys show their first argument).
func firstKey(cmd redis.Cmder) string {
	args := cmd.Args()
	switch strings.ToLower(cmd.Name()) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		if len(args) < 4 {
			return ""
		}
		if n, ok := args[2].(int); ok && n == 0 {
			return ""
		}
		return fmt.Sprint(args[3])
	}
	if len(args) < 2 {
		return ""
	}
	return fmt.Sprint(args[1])
}

func cut(s string) string {
	if len(s) <= maxKey {
		return s
	}
	return s[:maxKey] + "…"
}

// keyed reports the commands whose only key is their first argument. Any
// other command (but the multi-key ones and scripts, see keysOf) counts as
// touching every key.
func keyed(name string) bool {
	switch name {
	case "get", "set", "setnx", "setex", "psetex", "getex", "getdel", "getset",
		"expire", "pexpire", "expireat", "pexpireat", "persist", "ttl", "pttl",
		"expiretime", "pexpiretime", "type", "incr", "incrby", "incrbyfloat",
		"decr", "decrby", "append", "strlen", "getrange", "setrange", "dump", "restore",
		"hget", "hset", "hsetnx", "hmset", "hmget", "hdel", "hgetall", "hkeys", "hvals",
		"hlen", "hexists", "hincrby", "hincrbyfloat", "hstrlen",
		"zadd", "zrem", "zrange", "zrangebyscore", "zrevrange", "zrevrangebyscore",
		"zrangebylex", "zscore", "zmscore", "zcard", "zcount", "zincrby", "zrank",
		"zrevrank", "zremrangebyscore", "zremrangebyrank", "zpopmin", "zpopmax",
		"lpush", "rpush", "lpop", "rpop", "lrange", "llen", "lindex", "lset", "lrem", "ltrim",
		"sadd", "srem", "smembers", "scard", "sismember", "smismember", "spop", "srandmember":
		return true
	}
	return false
}

// keysOf returns the keys cmd touches, and false when they are not known.
func keysOf(cmd redis.Cmder) ([]string, bool) {
	args := cmd.Args()
	name := strings.ToLower(cmd.Name())
	switch name {
	case "del", "unlink", "exists", "touch", "mget":
		ks := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			ks = append(ks, fmt.Sprint(a))
		}
		return ks, len(ks) > 0
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		if len(args) < 3 {
			return nil, false
		}
		n, ok := args[2].(int)
		if !ok || n <= 0 || len(args) < 3+n {
			return nil, false // a script without declared keys may touch any
		}
		ks := make([]string, n)
		for i := range ks {
			ks[i] = fmt.Sprint(args[3+i])
		}
		return ks, true
	}
	if keyed(name) && len(args) >= 2 {
		return []string{fmt.Sprint(args[1])}, true
	}
	return nil, false
}
