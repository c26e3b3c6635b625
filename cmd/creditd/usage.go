package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"creditd/auth"
	"creditd/internal/store"
	"creditd/internal/usage"
)

// errChainDamaged makes `creditd usage verify` exit non-zero after printing its report.
var errChainDamaged = errors.New("the usage log failed verification")

// usageCmd: creditd usage verify [--jwks FILE]
func usageCmd(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"usage: only `usage verify [--jwks FILE]` is supported"}
	}
	fs := flag.NewFlagSet("usage verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	jwksPath := fs.String("jwks", "", "published keys to check checkpoints with (default: the keys in CREDITD_KEY_DIR)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"usage verify: " + err.Error()}
	}
	var keys usage.Verifier
	if *jwksPath != "" {
		raw, err := os.ReadFile(*jwksPath)
		if err != nil {
			return fmt.Errorf("usage verify: %w", err)
		}
		pub, err := auth.ParseJWKS(raw)
		if err != nil {
			return fmt.Errorf("usage verify: %s: %w", *jwksPath, err)
		}
		keys = pub
	} else {
		ks, err := auth.LoadKeys(cfg.KeyDir, false)
		if err != nil {
			return fmt.Errorf("usage verify: %w", err)
		}
		keys = ks.Public()
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := usage.VerifyChain(ctx, pool, keys)
	if err != nil {
		return fmt.Errorf("usage verify: %w", err)
	}
	if _, err := fmt.Fprintln(stdout, rep.String()); err != nil {
		return err
	}
	if !rep.OK() {
		return errChainDamaged
	}
	return nil
}
