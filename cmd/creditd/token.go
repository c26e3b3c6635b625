package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"creditd/auth"
)

func tokenCmd(cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", "", "INSTITUTION, ENTERPRISE, PROVIDER or OPERATOR")
	org := fs.String("org", "", "institution code, the enterprise's USCC, provider code, or operator organization")
	sub := fs.String("sub", "", "user name (default: the org)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return usageError{"token: " + err.Error()}
	}
	if *role == "" || *org == "" {
		return usageError{"token: --role and --org are required"}
	}
	keys, err := auth.LoadKeys(cfg.KeyDir, cfg.Development)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(keys, auth.MintParams{Role: auth.Role(*role), Org: *org, Subject: *sub, TTL: *ttl})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
