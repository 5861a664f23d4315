package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/supplychain"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys of the state dir",
		Long: `Keys are ECDSA P-256 pairs in cosign's formats, kept in <state dir>/keys: the private
half encrypted with a passphrase (0600), the public half beside it. The passphrase comes
from SLIPWAY_KEY_PASSPHRASE or, on a single machine, from <state dir>/keys/passphrase,
which Slipway generates on first use (0600). Key "slipway" signs artifacts (override it
with SLIPWAY_SIGNING_KEY, a PEM); key "provenance" signs provenance and is never given
to steps. Both are generated on first use.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "generate [name]",
		Short: "Generate a key pair (default name: slipway)",
		Args:  cobra.MaximumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runKeysGenerate(cmd.Context(), g, keyName(args)) },
	}, &cobra.Command{
		Use:   "list",
		Short: "List key pairs, including rotated public keys kept for verification",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runKeysList(g) },
	}, &cobra.Command{
		Use:   "rotate [name]",
		Short: "Replace a key pair; the old public key stays for verifying what it signed",
		Args:  cobra.MaximumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runKeysRotate(g, keyName(args)) },
	})
	return cmd
}

func keyName(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return release.SigningKey
}

func (g *globals) keysDirAndPass() (string, []byte, error) {
	dir, err := g.absStateDir()
	if err != nil {
		return "", nil, err
	}
	pass, err := supplychain.Passphrase(dir, g.getenv)
	return filepath.Join(dir, "keys"), pass, err
}

func runKeysGenerate(_ context.Context, g *globals, name string) error {
	dir, pass, err := g.keysDirAndPass()
	if err != nil {
		return err
	}
	k, err := supplychain.GenerateKey(dir, name, pass)
	if err != nil {
		return failedError(err)
	}
	return printKeys(g, []supplychain.KeyInfo{*k})
}

func runKeysList(g *globals) error {
	dir, _, err := g.keysDirAndPass()
	if err != nil {
		return err
	}
	keys, err := supplychain.ListKeys(dir)
	if err != nil {
		return err
	}
	return printKeys(g, keys)
}

func runKeysRotate(g *globals, name string) error {
	dir, pass, err := g.keysDirAndPass()
	if err != nil {
		return err
	}
	old, fresh, err := supplychain.RotateKey(dir, name, pass)
	if err != nil {
		return failedError(err)
	}
	if !g.json() {
		fmt.Fprintf(g.stdout, "rotated %s: %s is now %s (kept for verification)\n", name, old.KeyID, old.PubPath)
	}
	return printKeys(g, []supplychain.KeyInfo{*fresh})
}

func printKeys(g *globals, keys []supplychain.KeyInfo) error {
	if g.json() {
		if keys == nil {
			keys = []supplychain.KeyInfo{}
		}
		return json.NewEncoder(g.stdout).Encode(keys)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKEY ID\tCREATED\tPRIVATE\tPUBLIC")
	for _, k := range keys {
		priv := k.KeyPath
		if priv == "" {
			priv = "(rotated: public only)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.KeyID, k.Created.Format("2006-01-02 15:04"), priv, k.PubPath)
	}
	return tw.Flush()
}
