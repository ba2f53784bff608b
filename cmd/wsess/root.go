package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// run builds the command tree for one invocation, executes args and returns
// the exit code. It is Main without the process: tests call it directly.
func run(ctx context.Context, args []string, ios *IOStreams, lookupEnv func(string) (string, bool)) int {
	f := newFactory(ios, lookupEnv)
	defer f.CloseRedis()
	root := newRootCmd(f)
	root.SetArgs(cliArgs(root, append([]string{}, args...))) // never nil: cobra would read os.Args
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && isCobraUsageError(err) {
		err = flagGroupError(cmd, err) // names the failing command's help
	}
	return exitCode(err, ios.ErrOut)
}

// newRootCmd builds the whole command tree. Every call returns a fresh tree
// bound to f.
func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "wsess <command>",
		Short: "Inspect and manage weppy-style sessions",
		Long: `wsess decrypts session cookies (wsess, weppy and Emmett formats), lists,
shows and expires sessions stored in Redis, and runs a demo counter server.`,
		Example: `  wsess keygen > key.txt
  wsess decode --key-file key.txt 'wsess_session_data=w1.…'
  wsess serve demo --addr 127.0.0.1:8080`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a subcommand, print help (exit 0).
		Args: unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newCmdHelp())
	f.addRedisFlags(root)

	root.AddCommand(
		newCmdDecode(f, nil),
		newCmdAudit(f),
		newCmdEncode(f, nil),
		newCmdKeygen(f, nil),
		newCmdVersion(f, nil),
		newCmdCompletion(f, nil),
		newCmdServe(f),
		newCmdRedis(f),
	)
	finishTree(root, f)
	return root
}

// finishTree gives every command of the tree what the CLI's conventions
// ask of all of them, so that no command can forget it:
//
//   - a command group (a command with subcommands) refuses an unknown
//     subcommand with a usage error that suggests the nearest one;
//   - a command whose arguments are not files completes nothing for them
//     (none of wsess's commands takes a file argument; --key-file and the
//     like complete files as flags);
//   - a Redis failure of a wsess redis command is explained
//     (explainRedisError) whatever subcommand met it (wsess serve checks
//     its Redis at start and says so itself).
func finishTree(root *cobra.Command, f *factory) {
	var walk func(c *cobra.Command, underRedis bool)
	walk = func(c *cobra.Command, underRedis bool) {
		underRedis = underRedis || c.Parent() == root && c.Name() == "redis"
		if c.HasSubCommands() {
			c.Args = unknownCommand
			if c.SuggestionsMinimumDistance <= 0 {
				c.SuggestionsMinimumDistance = 2
			}
		} else if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		if run := c.RunE; run != nil && underRedis {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				return explainRedisError(run(cmd, args), f.redisDB())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub, underRedis)
		}
	}
	walk(root, false)
}

// newCmdHelp replaces cobra's help command, which prints the root's help
// and exits 0 for a topic it does not know: here an unknown topic is a
// usage error (exit 2) that suggests the nearest command.
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help shows the help of any command: wsess help redis ls.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil || cmd == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err == nil && cmd != nil && len(rest) == 0 {
				cmd.InitDefaultHelpFlag()
				cmd.InitDefaultVersionFlag()
				return cmd.Help()
			}
			// Find stops at the deepest command it knows; the first word
			// after it is the unknown one.
			parent, unknown := c.Root(), args[len(args)-1]
			if cmd != nil {
				parent = cmd
				if len(rest) > 0 {
					unknown = rest[0]
				}
			}
			hint := fmt.Sprintf("run '%s --help' for the commands", parent.CommandPath())
			if parent.SuggestionsMinimumDistance <= 0 {
				parent.SuggestionsMinimumDistance = 2
			}
			if s := parent.SuggestionsFor(unknown); len(s) > 0 {
				hint = fmt.Sprintf("did you mean 'wsess help %s'?", strings.TrimPrefix(parent.CommandPath()+" "+s[0], "wsess "))
			}
			return newUsageError(hint, "no help topic %q", strings.Join(args, " "))
		},
	}
}

// flagError turns cobra/pflag flag parsing errors into usage errors. An
// unknown or argument-less shorthand is named alone: pflag would echo its
// whole group ("unknown shorthand flag: 'k' in -kS3cret"), and what follows
// a mistyped shorthand may be a secret.
func flagError(cmd *cobra.Command, err error) error {
	var unknown *pflag.NotExistError
	var needs *pflag.ValueRequiredError
	switch {
	case errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() != "":
		err = fmt.Errorf("unknown shorthand flag: -%c", unknown.GetSpecifiedName()[0])
	case errors.As(err, &needs) && needs.GetSpecifiedShortnames() != "":
		err = fmt.Errorf("flag needs an argument: -%c", needs.GetSpecifiedName()[0])
	}
	return &usageError{err: err, hint: fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())}
}

// usageArgs wraps a positional-argument validator so that its errors are
// usage errors (exit 2) with a hint.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &usageError{err: err, hint: fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())}
		}
		return nil
	}
}

// noArgs refuses positional arguments to a command that takes none. (cobra's
// NoArgs calls the first one an "unknown command" of a command that has no
// subcommands.)
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return newUsageError(fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath()),
		"%s takes no arguments, got %q", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), args[0])
}

// unknownCommand refuses arguments to a command group, suggesting the
// nearest subcommand.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := fmt.Sprintf("run '%s --help' for the commands", cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf("did you mean '%s %s'?", cmd.CommandPath(), s[0])
	}
	return newUsageError(hint, "unknown command %q for %q", args[0], cmd.CommandPath())
}
