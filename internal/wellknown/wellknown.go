// Package wellknown is the list of secrets published in documentation and
// examples (secrets.tsv, embedded): the frameworks' example keys and the
// common defaults, each with where it is published. A session cookie that
// one of them opens can be read and forged by anyone.
package wellknown

import (
	_ "embed"
	"strings"
)

//go:embed secrets.tsv
var table string

// Secret is one published secret and where it is published.
type Secret struct {
	Secret string
	Source string
}

// list is secrets.tsv, parsed once at start (the file is part of the
// binary: a malformed line is a build mistake, caught by the tests).
var list = parse(table)

func parse(s string) []Secret {
	var out []Secret
	for _, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		secret, source, _ := strings.Cut(line, "\t")
		out = append(out, Secret{Secret: secret, Source: source})
	}
	return out
}

// All returns the published secrets, in the file's order. The slice is a
// copy.
func All() []Secret { return append([]Secret(nil), list...) }

// Lookup returns the entry for s, if s is a published secret.
func Lookup(s string) (Secret, bool) {
	for _, w := range list {
		if w.Secret == s {
			return w, true
		}
	}
	return Secret{}, false
}
