//go:build race

package session_test

// raceEnabled: the race detector is on. Under it, sync.Pool drops a
// quarter of its Puts at random, so allocation counts vary from run to run.
const raceEnabled = true
