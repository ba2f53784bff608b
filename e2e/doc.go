// Package e2e holds the end-to-end tests of wsess: they build the real wsess
// binary, run "wsess serve demo" on a loopback port (with the cookie store
// and with a private redis-server) and drive it with headless Chromium
// through the DevTools protocol and with raw HTTP clients.
//
// The package has no code of its own; run it with
//
//	go test ./e2e/
//
// The browser tests need Debian's chromium package (./scripts/test installs
// it). Without it they fail, unless WSESS_SKIP_BROWSER=1 is set.
package e2e
