package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

type keygenOptions struct {
	IO    *IOStreams
	Rand  io.Reader
	Bytes int
}

func newCmdKeygen(f *factory, runF func(*keygenOptions) error) *cobra.Command {
	opts := &keygenOptions{IO: f.IOStreams, Rand: rand.Reader}
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Print a strong random secret key",
		Long: `Print a new secret: 32 random bytes from the operating system's CSPRNG,
base64url-encoded without padding (43 characters), on one line.

Use it as the secret of the cookie manager, in WSESS_KEY or a --key-file.`,
		Example: `  wsess keygen > key.txt
  export WSESS_KEY="$(wsess keygen)"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Bytes < 16 || opts.Bytes > 1024 {
				return newUsageError("use a value from 16 to 1024", "--bytes %d is out of range", opts.Bytes)
			}
			if runF != nil {
				return runF(opts)
			}
			return keygenRun(opts)
		},
	}
	cmd.Flags().IntVar(&opts.Bytes, "bytes", 32, "number of random `bytes` (16 to 1024)")
	return cmd
}

func keygenRun(opts *keygenOptions) error {
	b := make([]byte, opts.Bytes)
	if _, err := io.ReadFull(opts.Rand, b); err != nil {
		return fmt.Errorf("cannot read random bytes: %w", err)
	}
	_, err := fmt.Fprintln(opts.IO.Out, base64.RawURLEncoding.EncodeToString(b))
	return err
}
