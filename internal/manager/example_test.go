package manager_test

import (
	"fmt"

	"github.com/wsess/wsess/internal/manager"
)

// The prefix is matched literally, the extra glob is not.
func ExamplePattern() {
	fmt.Println(manager.Pattern("wppsess:", ""))
	fmt.Println(manager.Pattern("app[1]*:", "a?c*"))
	// Output:
	// wppsess:*
	// app\[1\]\*:a?c*
}
