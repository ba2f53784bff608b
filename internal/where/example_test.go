package where_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/where"
)

func ExampleCompile() {
	e, err := where.Compile(".auth.user.id == 42")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Verdict(context.Background(), "wppsess:abc", []byte(`{"auth":{"user":{"id":42}}}`)) == manager.VerdictMatch)

	_, err = where.Compile(".auth.user.id ==")
	var se *where.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(err)
		fmt.Println(se.Caret())
	}
	// Output:
	// true
	// where: invalid expression at position 17: unexpected EOF
	// .auth.user.id ==
	//                 ^
}
