// Package where selects stored sessions by what they hold: it compiles a jq
// expression (github.com/itchyny/gojq) once and evaluates it on each decoded
// session, JSON (wsess) or pickle (weppy, Emmett) alike.
//
// The expression sees the session as jq sees a JSON document: objects,
// arrays, strings, booleans, null and numbers. Integers of any size compare
// exactly (.auth.user.id == 42 holds for a Python int 42 and for a JSON 42);
// other pickled values appear as inspect.ToJSON converts them (bytes as
// base64 strings, datetimes as ISO strings, objects as maps with
// "__class__").
//
// A session matches when the first value the expression produces is truthy
// in jq's sense: anything but false and null. An expression that produces
// nothing, or fails on a session (for example `length` of a number), does not
// match; the failure is counted (manager.VerdictError), never fatal. A value
// that cannot be decoded never matches and is counted apart
// (manager.VerdictUndecodable).
package where

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/manager"
)

// ErrSyntax is what every compile failure wraps; test with errors.Is. The
// concrete error is a *SyntaxError carrying the position.
var ErrSyntax = errors.New("where: invalid expression")

// SyntaxError is a bad expression. Offset is the byte offset in Expr at
// which the parser gave up (len(Expr) for an expression that ends too
// early); Caret draws it.
type SyntaxError struct {
	Expr   string
	Offset int
	// Msg is the parser's or compiler's reason, without position.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("where: invalid expression at position %d: %s", e.Offset+1, e.Msg)
}

// Is makes errors.Is(err, ErrSyntax) hold.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Caret returns two lines: the expression (tabs and newlines shown as
// spaces) and a caret under the offending byte, for a usage message.
func (e *SyntaxError) Caret() string {
	expr := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(e.Expr)
	off := e.Offset
	if off > len(expr) {
		off = len(expr)
	}
	if off < 0 {
		off = 0
	}
	return expr + "\n" + strings.Repeat(" ", off) + "^"
}

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	src  string
	code *gojq.Code
	// Format is the stored value format handed to inspect: "json",
	// "pickle", or "" to tell them apart by content (the default).
	Format string
	// Decoder bounds the pickle decoder (zero value: the decoder's defaults).
	Decoder inspect.Decoder
}

// Compile parses and compiles src. A bad expression is a *SyntaxError
// (errors.Is(err, ErrSyntax)). The expression cannot read environment
// variables or other input, nor write anywhere: $ENV and env are empty, and
// input, inputs, debug and stderr are refused as bad expressions.
func Compile(src string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &SyntaxError{Expr: src, Offset: 0, Msg: "empty expression"}
	}
	q, err := gojq.Parse(src)
	if err != nil {
		se := &SyntaxError{Expr: src, Offset: len(src), Msg: err.Error()}
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			// Offset counts the bytes read up to and including the bad
			// token; point at the token's first byte.
			se.Offset = pe.Offset - len(pe.Token)
			if se.Offset < 0 {
				se.Offset = 0
			}
		}
		return nil, se
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		// Compile errors (an unknown function or variable) carry no
		// position; point at the name when it can be found.
		se := &SyntaxError{Expr: src, Offset: 0, Msg: err.Error()}
		if name := compileErrName(err.Error()); name != "" {
			if i := strings.Index(src, name); i >= 0 {
				se.Offset = i
			}
		}
		return nil, se
	}
	return &Expr{src: src, code: code}, nil
}

// compileErrName pulls the function or variable name out of gojq's compile
// errors ("function not defined: foo/0", "variable not defined: $x",
// "input(s)/0 is not allowed").
func compileErrName(msg string) string {
	if strings.HasPrefix(msg, "input(s)") {
		return "input"
	}
	_, name, ok := strings.Cut(msg, "not defined: ")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		name = name[:i]
	}
	return name
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval runs the expression on data (a decoded session as inspect returns
// it: map[string]any with json.Number numbers) and reports whether it holds.
// A runtime error is returned as is (and means no match). The evaluation
// honours ctx: once it is done, Eval returns an error wrapping ctx.Err()
// (gojq checks it at every step, so even an expression that never ends
// stops).
func (e *Expr) Eval(ctx context.Context, data map[string]any) (bool, error) {
	iter := e.code.RunWithContext(ctx, Value(data))
	v, ok := iter.Next()
	if !ok {
		return false, nil
	}
	if err, isErr := v.(error); isErr {
		return false, fmt.Errorf("where: %w", err)
	}
	return v != nil && v != false, nil
}

// Verdict decodes a stored value and evaluates the expression on it. Its
// signature is manager.Filter's, so `opts.Filter = expr.Verdict` selects by
// content in manager.List, Stats and Expire.
//
// The evaluation stops as soon as ctx is done, however long the expression
// would run (`def f: f; f` never ends); the verdict is then
// VerdictNoMatch, not an error: nothing was wrong with the value.
func (e *Expr) Verdict(ctx context.Context, _ string, value []byte) manager.Verdict {
	s, err := e.Decoder.DecodeValue(value, e.Format)
	if err != nil {
		return manager.VerdictUndecodable
	}
	ok, err := e.Eval(ctx, s.Data)
	switch {
	case err != nil && ctx.Err() != nil:
		return manager.VerdictNoMatch
	case err != nil:
		return manager.VerdictError
	case ok:
		return manager.VerdictMatch
	}
	return manager.VerdictNoMatch
}

// Value converts a decoded value into one gojq evaluates exactly: a
// json.Number becomes an int when it is an integer that fits, a *big.Int
// when it is a larger integer, and a float64 otherwise; maps and slices are
// converted in place of copies; everything else is returned unchanged.
func Value(v any) any {
	switch t := v.(type) {
	case json.Number:
		return number(string(t))
	case int64:
		if int64(int(t)) == t {
			return int(t)
		}
		return new(big.Int).SetInt64(t)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = Value(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = Value(x)
		}
		return s
	}
	return v
}

func number(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && int64(int(i)) == i {
		return int(i)
	}
	if b, ok := new(big.Int).SetString(s, 10); ok {
		return b
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s // ToJSON never produces this; keep it visible rather than lose it
}
