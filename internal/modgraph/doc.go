// Package modgraph has no code: its test checks what importing pkg/session
// costs a program. It builds a throwaway module that imports only
// pkg/session (with a replace to this checkout), runs go mod tidy offline
// and checks that the module graph holds nothing the library's users should
// not have to fetch (the browser-test and benchmark dependencies, which live
// in the e2e and bench modules) and that a build compiles no package outside
// the library and go-redis.
package modgraph
