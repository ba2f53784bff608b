// Package benchfile reads `go test -bench` output written in rounds, as
// bench/run.sh and bench/compare write it: a "# round N" line before the
// output of each round's runs (benchstat ignores it), "pkg: ..." lines from
// go test, and benchmark lines.
package benchfile

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Key names one benchmark: its package and its name without the
// "Benchmark" prefix and the -GOMAXPROCS suffix.
type Key struct {
	Pkg, Name string
}

// File is one output file's results: Values[key][unit][round].
type File struct {
	Order  []Key // in first-seen order
	Values map[Key]map[string]map[int]float64
}

// Read parses path. A benchmark line before any "# round" line, or a
// second line of one name in one round, counts as the name's next round.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("benchfile: %w", err)
	}
	defer f.Close()
	out := &File{Values: map[Key]map[string]map[int]float64{}}
	pkg, round := "", 0
	last := map[Key]int{} // the last round each key was given
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# round "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				round = n
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(rest)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		k := Key{Pkg: pkg, Name: TrimName(fields[0])}
		if out.Values[k] == nil {
			out.Values[k] = map[string]map[int]float64{}
			out.Order = append(out.Order, k)
		}
		rd := round
		if prev, ok := last[k]; ok && rd <= prev {
			rd = prev + 1
		} else if rd == 0 {
			rd = 1
		}
		last[k] = rd
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			unit := fields[i+1]
			if out.Values[k][unit] == nil {
				out.Values[k][unit] = map[int]float64{}
			}
			out.Values[k][unit][rd] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchfile: %s: %w", path, err)
	}
	return out, nil
}

// TrimName returns a benchmark line's name without "Benchmark" and the
// -GOMAXPROCS suffix.
func TrimName(s string) string {
	s = strings.TrimPrefix(s, "Benchmark")
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			s = s[:i]
		}
	}
	return s
}
