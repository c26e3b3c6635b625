package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/orgs"
	"creditd/internal/seed"
)

// fixtures names the demo enterprises that documentation and examples refer to.
var fixtures = map[string]string{
	"company":     seed.FixtureCompany,
	"dishonest":   seed.FixtureDishonest,
	"cooperative": seed.FixtureCooperative,
	"individual":  seed.FixtureIndividual,
	"blacklisted": seed.FixtureBlacklisted,
	"exporter":    seed.FixtureExporter,
}

func seedCmd(ctx context.Context, cfg config, args []string, logger *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	demo := fs.Bool("demo", false, "load the demo data set")
	seedN := fs.Int64("seed", 1, "random seed of the demo data")
	n := fs.Int("enterprises", 1200, "number of demo enterprises")
	fixture := fs.String("print-fixture", "", "print the USCC of a demo fixture (company, dishonest, cooperative, individual, blacklisted, exporter) and exit")
	if err := fs.Parse(args); err != nil {
		return usageError{"seed: " + err.Error()}
	}
	if *fixture != "" {
		code, ok := fixtures[*fixture]
		if !ok {
			return usageError{fmt.Sprintf("seed: unknown fixture %q", *fixture)}
		}
		_, err := fmt.Fprintln(stdout, code)
		return err
	}
	if !*demo {
		return usageError{"seed: only --demo is supported"}
	}
	cat, err := catalog.Load(cfg.CatalogFile)
	if err != nil {
		return err
	}
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	sum, err := seed.Demo(ctx, seed.DemoParams{
		Orgs:        orgs.NewStore(pool),
		Loader:      ingest.NewLoader(pool, cat, ingest.Options{Logger: logger}),
		Catalog:     cat,
		Seed:        *seedN,
		Enterprises: *n,
		Logger:      logger,
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	_, err = fmt.Fprintln(stdout, sum.String())
	return err
}
