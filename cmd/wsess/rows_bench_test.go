package main

import (
	"testing"
	"time"
)

// BenchmarkLsRows is the cost of one listed row per output format (the
// row printer, escaping and widths included), without Redis.
//
//	go test -run '^$' -bench BenchmarkLsRows -benchmem ./cmd/wsess
func BenchmarkLsRows(b *testing.B) {
	for _, tt := range []struct {
		name, output string
		tty, decode  bool
	}{
		{"table", "table", true, false},
		{"tsv", "tsv", false, false},
		{"jsonl", "jsonl", false, false},
		{"tsv_decode", "tsv", false, true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			ios, _, out, _ := testIO()
			ios.SetStdoutTTY(tt.tty)
			opts := redisLsOptions{IO: ios, Now: func() time.Time { return fixedNow }, Prefix: "wppsess:", Output: tt.output, Decode: tt.decode, Format: "auto"}
			w := newLsWriter(&opts)
			rows := lsRows()[:2]
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := w.row(rows[i%2]); err != nil {
					b.Fatal(err)
				}
				if out.Len() > 1<<20 {
					out.Reset()
				}
			}
		})
	}
}
