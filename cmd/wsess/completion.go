package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsess/wsess/internal/textesc"
)

//go:generate sh -c "go run . completion bash > ../../completions/wsess.bash"
//go:generate sh -c "go run . completion zsh > ../../completions/_wsess"
//go:generate sh -c "go run . completion fish > ../../completions/wsess.fish"
//go:generate sh -c "go run . completion powershell > ../../completions/wsess.ps1"

// completionShells are the shells wsess writes completion scripts for, with
// the file name of each script in completions/.
var completionShells = []struct{ Shell, File string }{
	{"bash", "wsess.bash"},
	{"zsh", "_wsess"},
	{"fish", "wsess.fish"},
	{"powershell", "wsess.ps1"},
}

type completionOptions struct {
	IO    *IOStreams
	Shell string
	Root  *cobra.Command
}

func newCmdCompletion(f *factory, runF func(*completionOptions) error) *cobra.Command {
	opts := &completionOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "completion {bash|zsh|fish|powershell}",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell on stdout.

The same scripts are shipped in the completions/ folder of the source tree.`,
		Example: `  # bash, for the current shell:
  source <(wsess completion bash)
  # zsh, installed:
  wsess completion zsh > "${fpath[1]}/_wsess"
  # fish:
  wsess completion fish > ~/.config/fish/completions/wsess.fish
  # PowerShell:
  wsess completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      completionArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return completionRun(opts)
		},
	}
	cmd.DisableFlagsInUseLine = true
	return cmd
}

func completionRun(opts *completionOptions) error {
	return writeCompletion(opts.Root, opts.Shell, opts.IO.Out)
}

// writeCompletion writes the completion script of root for shell to w.
func writeCompletion(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return newUsageError(shellsHint, "unknown shell %q", shell)
}

// shellsHint lists the shells wsess writes completion scripts for.
var shellsHint = func() string {
	var names []string
	for _, s := range completionShells {
		names = append(names, s.Shell)
	}
	return "name one of " + strings.Join(names, ", ") + " (e.g. wsess completion bash)"
}()

// completionArgs takes exactly one argument, a shell wsess knows.
func completionArgs(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return newUsageError(shellsHint, "no shell named")
	case len(args) > 1:
		return newUsageError(shellsHint, "one shell at a time, not %d", len(args))
	}
	for _, s := range completionShells {
		if s.Shell == args[0] {
			return nil
		}
	}
	return newUsageError(shellsHint, "unknown shell %q", textesc.Escape(args[0]))
}
