package main

import (
	"context"
	"errors"
	"fmt"

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
  wsess decode --key-file key.txt 'wsess_session_data=v1.…'
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
