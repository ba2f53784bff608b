package main

import (
	"context"

	"github.com/wsess/wsess/internal/manager"
)

// noteIdleTimes tells the user, in one notice on stderr, what a command
// does to idle times (OBJECT IDLETIME, which expire --idle selects on) on a
// server where reading a key resets it: one without CLIENT NO-TOUCH
// (before Redis 7.2; manager.ReadsTouch). values says the command reads
// values (show, --decode, --where), which resets them there: said
// wherever stderr goes, as it changes the server. Otherwise sizes says it
// shows sizes, which are then MEMORY USAGE rather than lengths, read
// without resetting them: said only to people (stdout a terminal), who
// read the table. Nothing is printed on other servers, nor when the server
// cannot be asked (the command's own calls report that).
func noteIdleTimes(ctx context.Context, ios *IOStreams, m *manager.Manager, values, sizes bool) {
	if !values && (!sizes || !ios.IsStdoutTTY()) {
		return
	}
	touch, version, err := m.ReadsTouch(ctx)
	if err != nil || !touch {
		return
	}
	server := "this Redis server"
	if version != "" {
		server = "Redis " + version
	}
	if values {
		printNotice(ios, server+" has no CLIENT NO-TOUCH: reading values resets their idle time, which expire --idle selects on")
		return
	}
	printNotice(ios, server+" has no CLIENT NO-TOUCH: sizes are MEMORY USAGE (key and overhead included), read without resetting idle times")
}
