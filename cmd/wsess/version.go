package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version may be set at link time: -ldflags "-X main.version=v1.2.3".
// Otherwise the module version from the build information is used.
var version = ""

type versionOptions struct {
	IO        *IOStreams
	BuildInfo func() (*debug.BuildInfo, bool)
}

func newCmdVersion(f *factory, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{IO: f.IOStreams, BuildInfo: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the wsess version and the Go version it was built with",
		Example: `  wsess version`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *versionOptions) error {
	v, goVersion := version, runtime.Version()
	if bi, ok := opts.BuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		if v == "" || v == "(devel)" {
			if rev := vcsRevision(bi); rev != "" {
				v = "(devel) " + rev
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "wsess %s (%s)\n", v, goVersion)
	return err
}

// vcsRevision returns the short VCS revision recorded in the build, with a
// "+dirty" mark when the tree was modified.
func vcsRevision(bi *debug.BuildInfo) string {
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && modified == "true" {
		rev += "+dirty"
	}
	return rev
}
