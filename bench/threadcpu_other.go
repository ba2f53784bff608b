//go:build !linux

package bench

// threadCPU is not implemented here: -1, so Interleave measures no CPU time.
func threadCPU() int64 { return -1 }
