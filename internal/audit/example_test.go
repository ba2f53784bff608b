package audit_test

import (
	"fmt"
	"net/http"

	"github.com/wsess/wsess/internal/audit"
)

// Judge the Set-Cookie line of a response, as wsess audit set-cookie does.
func ExampleHeaders() {
	h := http.Header{"Set-Cookie": {"__Host-sid=abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax"}}
	r, err := audit.Headers(h, audit.HeaderOptions{})
	if err != nil {
		panic(err)
	}
	for _, f := range r.Findings {
		fmt.Println(f.Check, f.Verdict, f.ASVS)
	}
	fmt.Println("failed:", r.Failed())
	// Output:
	// httponly pass 3.3.4
	// secure pass 3.3.1
	// prefix pass 3.3.1, 3.3.3
	// samesite pass 3.3.2
	// lifetime pass 7.3.2
	// domain pass 3.3.3
	// size pass 3.3.5
	// failed: false
}

// Judge a secret used by two cookie formats; the secret is never in a
// finding.
func ExampleKeys() {
	r, err := audit.Keys([]string{"GreatScott"}, audit.KeyOptions{Formats: []string{"emmett", "weppy"}})
	if err != nil {
		panic(err)
	}
	for _, f := range r.Findings {
		fmt.Println(f.Check, f.Verdict)
	}
	// Output:
	// length pass
	// strength fail
	// well-known-secret fail
	// reuse fail
}
