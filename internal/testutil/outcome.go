package testutil

import (
	"fmt"
	"runtime"
	"testing"
)

// RequireCases are the settings under which a test that needs a peer (a
// redis-server, the real weppy/Emmett runner) must skip or fail when the
// peer is missing: CI, then the helper's own "require" variable, then what
// must happen.
var RequireCases = []struct{ CI, Require, Want string }{
	{"", "", "skip"},
	{"false", "false", "skip"},
	{"true", "", "fatal"},
	{"", "1", "fatal"},
}

// Outcome runs f with a testing.TB that records whether f skipped or
// failed, and with what message (Skip*, Fatal* end f's goroutine, as in a
// real test), and returns "skip", "fatal" or "done", and the message.
func Outcome(t testing.TB, f func(tb testing.TB)) (outcome, msg string) {
	o := &outcomeTB{TB: t, outcome: "done"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return o.outcome, o.msg
}

type outcomeTB struct {
	testing.TB
	outcome, msg string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) end(outcome, msg string) {
	o.outcome, o.msg = outcome, msg
	runtime.Goexit()
}
func (o *outcomeTB) Skip(args ...any)                  { o.end("skip", fmt.Sprint(args...)) }
func (o *outcomeTB) Skipf(format string, args ...any)  { o.end("skip", fmt.Sprintf(format, args...)) }
func (o *outcomeTB) SkipNow()                          { o.end("skip", "") }
func (o *outcomeTB) Fatal(args ...any)                 { o.end("fatal", fmt.Sprint(args...)) }
func (o *outcomeTB) Fatalf(format string, args ...any) { o.end("fatal", fmt.Sprintf(format, args...)) }
func (o *outcomeTB) FailNow()                          { o.end("fatal", "") }
