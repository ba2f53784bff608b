package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/rediserr"
	"github.com/wsess/wsess/internal/textesc"
)

// Exit codes. They are decided in exactly one place: exitCode.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in how wsess was called: a bad flag, a wrong
// number of arguments, an argument that does not parse. Exit code 2.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return joinHint(e.err.Error(), e.hint) }
func (e *usageError) Unwrap() error { return e.err }

// newUsageError returns a usage error saying what was wrong (msg) and what to
// do (hint).
func newUsageError(hint, format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...), hint: hint}
}

// hintError is a failure (exit 1) that carries advice for the user.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return joinHint(e.err.Error(), e.hint) }
func (e *hintError) Unwrap() error { return e.err }

// withHint attaches what to do to a failure. A nil err stays nil.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// exitError ends wsess with a given code after the command already said
// what there was to say (Msg may be empty: nothing more is printed).
type exitError struct {
	Code int
	Msg  string
}

func (e *exitError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Msg
}

func joinHint(msg, hint string) string {
	if hint == "" {
		return msg
	}
	return msg + "; " + hint
}

// exitCode maps the error a command returned to the process exit code and
// prints it on errOut as one line: "wsess: <what was wrong>; <what to do>".
func exitCode(err error, errOut io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var (
		ue *usageError
		ee *exitError
	)
	switch {
	case errors.As(err, &ee):
		if ee.Msg != "" {
			printError(errOut, ee.Msg)
		}
		return ee.Code
	case errors.As(err, &ue):
		code = exitUsage
	case isCobraUsageError(err):
		code = exitUsage
		err = &usageError{err: err, hint: "run 'wsess --help' for usage"}
	case errors.Is(err, context.Canceled):
		err = withHint(errors.New("interrupted"), "nothing more was done")
	}
	printError(errOut, err.Error())
	return code
}

// isCobraUsageError recognises the errors cobra makes itself before any of
// our code runs (an unknown subcommand, a missing required flag, flags of a
// group used together), which are not typed.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{
		"unknown command ",
		"unknown flag",
		"unknown shorthand flag",
		"required flag(s) ",
		"if any flags in the group ",
		"at least one of the flags in the group ",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// printError writes msg as one line prefixed with "wsess: ", with runs of
// blanks and line breaks made one space and any other control character
// escaped (an error may quote a key or a Redis reply).
func printError(w io.Writer, msg string) {
	msg = textesc.Escape(strings.Join(strings.Fields(msg), " "))
	fmt.Fprintf(w, "wsess: %s\n", msg)
}

// redisError turns a failed manager call into one line for people that
// says what failed underneath and what to do, keeping the chain for
// errors.Is. Errors that are no *manager.Error pass unchanged, and so do a
// canceled run (exitCode says "interrupted") and Redis replies about one
// command or key.
func redisError(err error) error {
	var me *manager.Error
	if !errors.As(err, &me) {
		return err
	}
	switch me.Kind {
	case rediserr.Unavailable:
		var reply redis.Error
		if errors.As(me.Err, &reply) { // LOADING, READONLY, BUSY, CLUSTERDOWN, ...
			return withHint(&causeError{msg: "Redis cannot serve now: " + me.Err.Error(), err: err},
				"try again later, and check that --redis-url / "+envRedisURL+" names a master")
		}
		return withHint(&causeError{msg: "cannot reach Redis: " + me.Err.Error(), err: err},
			"check --redis-url / "+envRedisURL+" (and --cluster) and that the server is running")
	case rediserr.Redirected:
		return withHint(&causeError{msg: "Redis answered " + me.Err.Error() + ": the server is a cluster node", err: err},
			"give the cluster's addresses with --cluster (or "+envRedisCluster+")")
	}
	return err
}

// causeError shows msg and unwraps to err.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }
