//go:build !unix

package testutil

import "time"

var processStart = time.Now()

// CPUTime falls back to the wall clock since the process started where
// getrusage is missing.
func CPUTime() time.Duration { return time.Since(processStart) }
