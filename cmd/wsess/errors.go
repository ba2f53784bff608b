package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

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
		if err = flagGroupError(nil, err); !errors.As(err, &ue) {
			err = &usageError{err: err, hint: "run 'wsess --help' for usage"}
		}
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

// explainRedisError rewrites the Redis failures a new user meets first,
// whatever command hit them and however it wrapped them, into one line that
// says what was wrong and what to do: a refused connection, a database
// number the server does not have, a password missing or wrong. db is the
// database number the URL selects (-1 if unknown). Other errors pass
// unchanged. The chain is kept for errors.Is; no part of the URL is shown
// (it may hold a password).
func explainRedisError(err error, db int) error {
	if err == nil {
		return nil
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && errors.Is(op.Err, syscall.ECONNREFUSED) {
		at := "the Redis address"
		if op.Addr != nil {
			at = op.Addr.String()
		}
		return withHint(&causeError{msg: "Redis refused the connection at " + at, err: err},
			"is redis-server running? check --redis-url / "+envRedisURL+" (and --cluster)")
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return err
	}
	const urlForm = "redis://:PASSWORD@host:port/0 or redis://USER:PASSWORD@host:port/0, in --redis-url or " + envRedisURL
	switch msg := reply.Error(); {
	case strings.HasPrefix(msg, "ERR DB index is out of range"):
		what := "the Redis database the URL names does not exist"
		if db >= 0 {
			what = fmt.Sprintf("Redis database %d does not exist", db)
		}
		return withHint(&causeError{msg: what, err: err},
			"Redis has 16 (0 to 15) by default: check the /N at the end of --redis-url / "+envRedisURL)
	case strings.HasPrefix(msg, "NOAUTH"):
		return withHint(&causeError{msg: "Redis requires a password and none was given (NOAUTH)", err: err},
			"put the password in the URL: "+urlForm)
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "ERR invalid password"):
		return withHint(&causeError{msg: "Redis authentication failed: wrong user name or password (WRONGPASS)", err: err},
			"check the password in the URL: "+urlForm)
	case strings.HasPrefix(msg, "WRONGTYPE"):
		return withHint(&causeError{msg: "a Redis key that wsess read holds another type than the session store writes (WRONGTYPE)", err: err},
			"check that --prefix names only this app's sessions: 'wsess redis ls --prefix PREFIX' shows each key's type")
	case strings.Contains(msg, "cluster support disabled"):
		return withHint(&causeError{msg: "the Redis server is not a cluster node", err: err},
			"drop --cluster (and "+envRedisCluster+") and name the server with --redis-url / "+envRedisURL)
	}
	var (
		he *hintError
		ue *usageError
	)
	if errors.As(err, &he) || errors.As(err, &ue) {
		return err // it says what to do already
	}
	// Any other reply: Redis's own words, without the layers of wsess's
	// code it passed through, and where to look next.
	return withHint(&causeError{msg: "Redis answered: " + reply.Error(), err: err},
		"check the server's log, and that --redis-url / "+envRedisURL+" names the app's Redis")
}

// flagGroupError rewrites the errors cobra makes about flag groups and
// required flags, which name the flags in Go syntax ("[in delete]") and
// point at no help, into what the user did wrong in flag syntax, with the
// failing command's help as the hint (cmd may be nil: then the root's).
// Any other error is returned as it is.
func flagGroupError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var what string
	switch {
	case strings.HasPrefix(msg, "if any flags in the group ") && strings.Contains(msg, " are set none of the others can be; "):
		// if any flags in the group [in delete] are set none of the others can be; [delete in] were all set
		group := bracketed(msg, 0)
		set := map[string]bool{}
		for _, name := range bracketed(msg, 1) {
			set[name] = true
		}
		var used []string
		for _, name := range group {
			if set[name] {
				used = append(used, "--"+name)
			}
		}
		if len(used) < 2 {
			used = dashed(group)
		}
		what = orList(used, "and") + " cannot be used together"
	case strings.HasPrefix(msg, "at least one of the flags in the group "):
		// at least one of the flags in the group [in delete] is required
		what = "one of " + orList(dashed(bracketed(msg, 0)), "or") + " is required"
	case strings.HasPrefix(msg, "if any flags in the group ") && strings.Contains(msg, " are set they must all be set; "):
		// if any flags in the group [a b] are set they must all be set; missing [b]
		what = orList(dashed(bracketed(msg, 0)), "and") + " go together: " + orList(dashed(bracketed(msg, 1)), "and") + " missing"
	case strings.HasPrefix(msg, "required flag(s) "):
		// required flag(s) "a", "b" not set
		var names []string
		for _, q := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(msg, "required flag(s) "), " not set"), ", ") {
			names = append(names, "--"+strings.Trim(q, `"`))
		}
		what = orList(names, "and") + " is required"
		if len(names) > 1 {
			what = orList(names, "and") + " are required"
		}
	default:
		return err
	}
	path := "wsess"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return &usageError{err: &causeError{msg: what, err: err}, hint: "see " + path + " --help"}
}

// bracketed returns the space-separated words inside the i-th [...] of msg.
func bracketed(msg string, i int) []string {
	for ; ; i-- {
		open := strings.IndexByte(msg, '[')
		if open < 0 {
			return nil
		}
		end := strings.IndexByte(msg[open:], ']')
		if end < 0 {
			return nil
		}
		if i == 0 {
			return strings.Fields(msg[open+1 : open+end])
		}
		msg = msg[open+end+1:]
	}
}

func dashed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return out
}

// orList joins words as "a", "a and b", "a, b and c" (conj "and" or "or").
func orList(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
