package benchfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	const text = `goos: linux
pkg: example.com/a
# round 1
BenchmarkX/y-2   	 100	 5000 ns/op	 12.00 cpu-ns/op	 10 allocs/op
BenchmarkZ-2   	 100	 7000 ns/op
PASS
# round 2
pkg: example.com/a
BenchmarkX/y-2   	 100	 5100 ns/op	 13.00 cpu-ns/op	 10 allocs/op
BenchmarkX/y-2   	 100	 5200 ns/op
pkg: example.com/b
BenchmarkX/y-2   	 100	 9 ns/op
BenchmarkBroken
`
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	xy := Key{"example.com/a", "X/y"}
	want := []Key{xy, {"example.com/a", "Z"}, {"example.com/b", "X/y"}}
	if len(f.Order) != len(want) {
		t.Fatalf("order %v, want %v", f.Order, want)
	}
	for i := range want {
		if f.Order[i] != want[i] {
			t.Fatalf("order %v, want %v", f.Order, want)
		}
	}
	ns := f.Values[xy]["ns/op"]
	// The second X/y of round 2 counts as round 3.
	if len(ns) != 3 || ns[1] != 5000 || ns[2] != 5100 || ns[3] != 5200 {
		t.Fatalf("X/y ns/op by round: %v", ns)
	}
	if cpu := f.Values[xy]["cpu-ns/op"]; cpu[2] != 13 {
		t.Fatalf("X/y cpu-ns/op by round: %v", cpu)
	}
	if b := f.Values[Key{"example.com/b", "X/y"}]["ns/op"]; b[2] != 9 {
		t.Fatalf("b's X/y by round: %v", b)
	}
}
