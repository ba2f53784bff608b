package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestControl(t *testing.T) {
	for name, want := range map[string]string{
		"Read/wsess-cookie/existing":  "Read/bare/existing",
		"Counter/gorilla/existing":    "Counter/bare/existing",
		"Read/wsess-redis/logged-in":  "Read/redis-floor/logged-in",
		"Counter/scs-redis/existing":  "Counter/redis-floor/existing",
		"Read/bare/existing":          "",
		"Read/redis-floor/existing":   "",
		"Counter/wsess-cookie/new":    "",
		"RedisManagement/read/raw-id": "",
		"Cookie/floor":                "",
	} {
		if got := control(name); got != want {
			t.Errorf("control(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestRun checks the paired changes on files whose rounds are known: HEAD
// takes 10 % longer than BASE in every round although the machine's speed
// differs from round to round, and its floor does not change.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, slow float64, shift int) string {
		var b strings.Builder
		b.WriteString("pkg: example.com/bench\n")
		for rd := 1; rd <= 10; rd++ {
			speed := 1 + float64((rd+shift)%3) // the machine: 1x, 2x or 3x slower
			fmt.Fprintf(&b, "# round %d\n", rd)
			fmt.Fprintf(&b, "BenchmarkRead/bare/existing-2 100 %.0f p50-ns/op 20 allocs/op\n", 1000*speed)
			fmt.Fprintf(&b, "BenchmarkRead/wsess-cookie/existing-2 100 %.0f p50-ns/op 27 allocs/op\n", 2000*speed*slow)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var out strings.Builder
	// Different machine speeds on the two sides of each pair: HEAD's
	// rounds are one step slower, which the floor cancels.
	base := write("base.txt", 1, 0)
	head := write("head.txt", 1.1, 1)
	if err := run(&out, base, head, []string{"p50-ns/op", "allocs/op"}, 1); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "Read/wsess-cookie/existing  ") && strings.Contains(line, "p50") {
			continue
		}
		if strings.HasPrefix(line, "Read/wsess-cookie/existing  ") && strings.Contains(line, "µs") &&
			strings.Contains(line, "[+10.0%, +10.0%]") {
			t.Fatalf("the raw change is exact although the machine's speed differs between the sides:\n%s", got)
		}
	}
	for _, want := range []string{
		"Read/wsess-cookie/existing ÷ Read/bare/existing  2.000  2.200  +10.0% [+10.0%, +10.0%]  slower  10",
		"Read/wsess-cookie/existing  27    27    +0.0% [+0.0%, +0.0%]    ~  10",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allocs/op") && strings.Count(got, "÷ Read/bare") != 1 {
		t.Errorf("a floor table for allocations, or none for time:\n%s", got)
	}
}
