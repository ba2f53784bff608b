// Package doccheck holds the test that compiles every Go block of the
// README and of docs/, so that a documented snippet cannot rot: each block
// must be a whole Go file; it is vetted and built against this module, and
// a whole program that needs nothing outside the process (no server, no
// Redis) is run.
package doccheck
