// Package e2e holds the end-to-end tests of wsess: they build the real wsess
// binary, run "wsess serve demo" on a loopback port (with the cookie store
// and with a private redis-server) and drive it with headless Chromium
// through the DevTools protocol and with raw HTTP clients.
//
// The package has no code of its own. It is a module of its own (as bench
// is), so that chromedp and cdproto stay out of the module graph of every
// program that imports pkg/session; run it from this directory with
//
//	go test ./...
//
// The browser tests need Debian's chromium package (./scripts/test installs
// it). Without it they fail, unless WSESS_SKIP_BROWSER=1 is set.
package e2e
