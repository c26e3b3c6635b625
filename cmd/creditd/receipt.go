package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"creditd/auth"
	"creditd/internal/grants"
)

// receiptCmd verifies a grant receipt offline against published keys:
//
//	creditd receipt verify --jwks jwks.json RECEIPT   (RECEIPT may be - for standard input)
func receiptCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"receipt: only `receipt verify --jwks FILE RECEIPT` is supported"}
	}
	fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	jwksPath := fs.String("jwks", "", "the platform's published keys (GET /.well-known/jwks.json)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"receipt: " + err.Error()}
	}
	if *jwksPath == "" || fs.NArg() != 1 {
		return usageError{"receipt: --jwks FILE and one RECEIPT are required"}
	}
	raw, err := os.ReadFile(*jwksPath)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	keys, err := auth.ParseJWKS(raw)
	if err != nil {
		return fmt.Errorf("receipt: %s: %w", *jwksPath, err)
	}
	receipt := fs.Arg(0)
	if receipt == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("receipt: %w", err)
		}
		receipt = string(b)
	}
	var c grants.ReceiptClaims
	if err := keys.Verify(auth.TypeGrantReceipt, strings.TrimSpace(receipt), &c); err != nil {
		return fmt.Errorf("receipt is NOT valid: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if _, err := fmt.Fprintln(stdout, "receipt is valid: signed by the platform; its terms:"); err != nil {
		return err
	}
	return enc.Encode(c)
}
