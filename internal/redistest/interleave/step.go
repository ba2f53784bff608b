package interleave

import (
	"fmt"
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
