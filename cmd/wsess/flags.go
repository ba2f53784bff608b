package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// This file holds the flag helpers the commands share.

// stringEnumFlag defines a string flag that takes one of options, in one
// call: the value is checked when the flag is parsed (any other value is a
// usage error, exit 2), the help text ends with "{a|b|c}", and the shells
// complete the options. *p starts as defaultValue.
func stringEnumFlag(cmd *cobra.Command, p *string, name, shorthand, defaultValue string, options []string, usage string) *pflag.Flag {
	*p = defaultValue
	v := &enumValue{p: p, options: options}
	f := cmd.Flags().VarPF(v, name, shorthand, fmt.Sprintf("%s: {%s}", usage, strings.Join(options, "|")))
	f.DefValue = defaultValue
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(options, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// enumValue is a pflag.Value restricted to a list of strings.
type enumValue struct {
	p       *string
	options []string
}

func (e *enumValue) Set(v string) error {
	if !slices.Contains(e.options, v) {
		return fmt.Errorf("valid values are {%s}", strings.Join(e.options, "|"))
	}
	*e.p = v
	return nil
}

func (e *enumValue) String() string { return *e.p }

// Type is what the help shows after the flag name.
func (e *enumValue) Type() string { return "string" }

// nonNegative checks an integer flag.
func nonNegative(name string, v int) error {
	if v < 0 {
		return newUsageError("give 0 or more", "--%s %d is negative", name, v)
	}
	return nil
}

// keyFlags are --key and --key-file, shared by every command that needs a
// secret. Secrets are never printed, never part of an error message.
type keyFlags struct {
	keys    []string
	keyFile string
}

func addKeyFlags(cmd *cobra.Command, k *keyFlags) {
	cmd.Flags().StringArrayVar(&k.keys, "key", nil,
		"secret `key`; repeat for rotation, first seals (prefer "+envKey+" or --key-file: arguments show in process lists)")
	cmd.Flags().StringVar(&k.keyFile, "key-file", "",
		"read secrets from `file`, one a line, first seals; blank lines and # comments ignored (env "+envKeyFile+")")
}
