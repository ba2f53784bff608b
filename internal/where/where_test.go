package where_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/wsess/wsess/internal/interop"
	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/where"
)

// pickled returns the stored value of the first pickle vector of a case.
func pickled(t *testing.T, c string) []byte {
	t.Helper()
	for _, v := range interop.MustVectors(t) {
		if v.Format == "pickle" && v.Case == c {
			b, err := hex.DecodeString(v.ValueHex)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no pickle vector %q", c)
	return nil
}

func TestVerdict(t *testing.T) {
	auth := pickled(t, "auth")       // weppy 1.3.4's own Auth login: user 1, a weppy.orm.models.UserRow
	types := pickled(t, "types")     // big and 64-bit ints, floats, bytes, nested lists
	counter := pickled(t, "counter") // weppy sdict {"counter": 3}
	wsess := []byte(`{"auth":{"user":{"id":42}},"cart":[1,2,3],"big":1180591620717411303424,"f":1.5,"i63":9223372036854775807,"n63":-9223372036854775808}`)
	tests := []struct {
		name  string
		expr  string
		value []byte
		want  manager.Verdict
	}{
		{"wsess id", ".auth.user.id == 42", wsess, manager.VerdictMatch},
		{"wsess other id", ".auth.user.id == 43", wsess, manager.VerdictNoMatch},
		{"wsess cart length", ".cart | length > 2", wsess, manager.VerdictMatch},
		{"wsess cart length small", ".cart | length > 50", wsess, manager.VerdictNoMatch},
		{"wsess big int exact", ".big == 1180591620717411303424", wsess, manager.VerdictMatch},
		{"wsess big int off by one", ".big == 1180591620717411303423", wsess, manager.VerdictNoMatch},
		{"wsess float", ".f == 1.5", wsess, manager.VerdictMatch},
		{"missing path is null", ".nope.deeper", wsess, manager.VerdictNoMatch},
		{"select produces nothing", "select(false)", wsess, manager.VerdictNoMatch},
		{"truthy non-bool", ".auth", wsess, manager.VerdictMatch},
		{"weppy auth user id", ".auth.user.id == 1", auth, manager.VerdictMatch},
		{"weppy auth other user", ".auth.user.id == 42", auth, manager.VerdictNoMatch},
		{"weppy row class", `.auth.user.__class__ == "weppy.orm.models.UserRow"`, auth, manager.VerdictMatch},
		{"weppy auth email", `.auth.user.email | endswith("@example.com")`, auth, manager.VerdictMatch},
		{"pickle counter", ".counter >= 3", counter, manager.VerdictMatch},
		{"pickle 2^70", ".big == 1180591620717411303424", types, manager.VerdictMatch},
		{"pickle negative", ".n32 == -2147483649", types, manager.VerdictMatch},
		{"pickle nested id", ".nested.id == 42", types, manager.VerdictMatch},
		{"pickle list", `.nested.roles | index("dev") == 1`, types, manager.VerdictMatch},
		{"int64 max", ".i63 == 9223372036854775807", wsess, manager.VerdictMatch},
		{"int64 min", ".n63 == -9223372036854775808", wsess, manager.VerdictMatch},
		{"int64 max off by one", ".i63 == 9223372036854775806", wsess, manager.VerdictNoMatch},
		{"runtime error", ".auth.user.id | keys", wsess, manager.VerdictError},
		{"not decodable", ".a", []byte("\x80\x04garbage"), manager.VerdictUndecodable},
		{"bad json", ".a", []byte(`{"a":`), manager.VerdictUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := where.Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.expr, err)
			}
			if got := e.Verdict(context.Background(), "k", tt.value); got != tt.want {
				t.Errorf("Verdict(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestSyntaxError(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		caret  string
	}{
		{".auth.user.id ==", 16, ".auth.user.id ==\n                ^"},
		{".a ) == 1", 3, ".a ) == 1\n   ^"},
		{".a | nosuch(1)", 5, ".a | nosuch(1)\n     ^"},
		{"$x == 1", 0, "$x == 1\n^"},
		{"[inputs] | length > 0", 1, "[inputs] | length > 0\n ^"},
		{". | debug", 4, ". | debug\n    ^"},
		{"  ", 0, "  \n^"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := where.Compile(tt.expr)
			if !errors.Is(err, where.ErrSyntax) {
				t.Fatalf("Compile(%q) = %v, want ErrSyntax", tt.expr, err)
			}
			var se *where.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T is not a *SyntaxError", tt.expr, err)
			}
			if se.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", se.Offset, tt.offset, err)
			}
			if got := se.Caret(); got != tt.caret {
				t.Errorf("Caret() =\n%s\nwant\n%s", got, tt.caret)
			}
		})
	}
}

func TestNoEnvironment(t *testing.T) {
	t.Setenv("WSESS_WHERE_SECRET", "s3cret")
	e, err := where.Compile(`$ENV.WSESS_WHERE_SECRET == "s3cret"`)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.Eval(context.Background(), map[string]any{})
	if err != nil || ok {
		t.Errorf("Eval = %v, %v: the expression read the environment", ok, err)
	}
}

func TestConcurrent(t *testing.T) {
	e, err := where.Compile(".auth.user.id == 42")
	if err != nil {
		t.Fatal(err)
	}
	v := []byte(`{"auth":{"user":{"id":42}}}`)
	done := make(chan manager.Verdict, 8)
	for range 8 {
		go func() { done <- e.Verdict(context.Background(), "k", v) }()
	}
	for range 8 {
		if got := <-done; got != manager.VerdictMatch {
			t.Errorf("Verdict = %v, want match", got)
		}
	}
}

func FuzzVerdict(f *testing.F) {
	f.Add([]byte(`{"auth":{"user":{"id":42}}}`))
	f.Add([]byte("\x80\x03}q\x00X\x07\x00\x00\x00counterq\x01K\x03s."))
	f.Add([]byte{})
	e, err := where.Compile(`.auth.user.id == 42 or (.cart | length > 50)`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch v := e.Verdict(context.Background(), "k", b); v {
		case manager.VerdictMatch, manager.VerdictNoMatch, manager.VerdictUndecodable, manager.VerdictError:
		default:
			t.Fatalf("Verdict = %v", v)
		}
	})
}

// An expression that never ends stops when its context is done, without
// being counted as an error: Eval returns the context's error, Verdict no
// match. (Verdict ran the expression without a context before: it never
// returned.)
func TestNeverEndingStopsWithContext(t *testing.T) {
	v := []byte(`{"counter":1}`)
	for _, src := range []string{"def f: f; f", "last(range(1e12))"} {
		t.Run(src, func(t *testing.T) {
			e, err := where.Compile(src)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				verdict manager.Verdict
				err     error
			}
			done := make(chan result, 1)
			go func() {
				_, err := e.Eval(ctx, map[string]any{})
				done <- result{e.Verdict(ctx, "k", v), err}
			}()
			cancel()
			select {
			case r := <-done:
				if !errors.Is(r.err, context.Canceled) || r.verdict != manager.VerdictNoMatch {
					t.Errorf("Eval error %v, Verdict %v; want context.Canceled and no match", r.err, r.verdict)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the evaluation did not stop within 30 s of the cancellation")
			}
		})
	}
}
