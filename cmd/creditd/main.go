// Command creditd serves the credit-data API and runs its administrative tasks:
//
//	creditd serve                 serve the GraphQL API
//	creditd migrate               apply database migrations
//	creditd seed --demo           load the demo institutions, providers and enterprises
//	creditd token --role R --org O [--sub NAME] [--ttl 1h]
//	                              print a development access token
//	creditd ingest --provider P --item I [--format csv|ndjson] FILE
//	                              load a provider's records from a file
//	creditd receipt verify --jwks FILE RECEIPT
//	                              verify a grant receipt offline against published keys
//	creditd usage verify [--jwks FILE]
//	                              recompute the usage log's hash chains and check checkpoints
//
// Configuration comes from the environment: DATABASE_URL, REDIS_URL, CREDITD_ADDR,
// CREDITD_MODE (development | production), CREDITD_KEY_DIR, CREDITD_CATALOG, CREDITD_PROVIDERS,
// CREDITD_VERIFY_BUDGET.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "creditd:", err)
			fmt.Fprint(os.Stderr, usageText)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "creditd:", err)
		os.Exit(1)
	}
}

const usageText = `usage:
  creditd serve
  creditd migrate
  creditd seed --demo [--seed N] [--enterprises N]
  creditd token --role INSTITUTION|ENTERPRISE|PROVIDER|OPERATOR --org ORG [--sub NAME] [--ttl 1h]
  creditd ingest --provider P --item I [--format csv|ndjson] FILE
  creditd receipt verify --jwks FILE RECEIPT|-
  creditd usage verify [--jwks FILE]
environment: DATABASE_URL REDIS_URL CREDITD_ADDR CREDITD_MODE CREDITD_KEY_DIR CREDITD_CATALOG
             CREDITD_PROVIDERS CREDITD_VERIFY_BUDGET CREDITD_CALENDAR_DIR CREDITD_RATE_PER_MINUTE
             CREDITD_LOG_LEVEL
`

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command"}
	}
	if args[0] == "receipt" { // offline: needs no configuration
		return receiptCmd(args[1:], stdin, stdout)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, getenv, logger)
	case "migrate":
		return migrate(ctx, cfg, stdout)
	case "seed":
		return seedCmd(ctx, cfg, args[1:], logger, stdout)
	case "token":
		return tokenCmd(cfg, args[1:], stdout)
	case "ingest":
		return ingestCmd(ctx, cfg, args[1:], logger, stdout, stderr)
	case "usage":
		return usageCmd(ctx, cfg, args[1:], stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usageText)
		return err
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
