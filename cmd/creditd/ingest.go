package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"creditd/internal/catalog"
	"creditd/internal/ingest"
)

// maxPrintedRejections bounds the rejections printed one by one; the count is always given.
const maxPrintedRejections = 1000

func ingestCmd(ctx context.Context, cfg config, args []string, logger *slog.Logger, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	provider := fs.String("provider", "", "provider code, e.g. NDRC")
	item := fs.String("item", "", "catalog item code, e.g. admin.penalty")
	format := fs.String("format", "", "csv or ndjson (default: from the file extension)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return usageError{"ingest: " + err.Error()}
	}
	if *provider == "" || *item == "" || fs.NArg() != 1 {
		return usageError{"ingest: --provider, --item and one FILE are required"}
	}
	path := fs.Arg(0)
	if *format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			*format = "csv"
		case ".ndjson", ".jsonl":
			*format = "ndjson"
		default:
			return usageError{"ingest: cannot tell the format from " + filepath.Base(path) + "; pass --format csv or --format ndjson"}
		}
	}
	f, err := ingest.ParseFormat(*format)
	if err != nil {
		return usageError{"ingest: " + err.Error()}
	}
	cat, err := catalog.Load(cfg.CatalogFile)
	if err != nil {
		return err
	}
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer file.Close()
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	loader := ingest.NewLoader(pool, cat, ingest.Options{Logger: logger})

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	printed := 0
	onReject := func(r ingest.Rejection) {
		if printed < maxPrintedRejections {
			fmt.Fprintf(out, "rejected line %d (sourceId %q): %s\n", r.Line, r.SourceID, r.Reason)
		}
		printed++
	}
	onProgress := func(p ingest.Progress) {
		if *quiet {
			return
		}
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Rows) / s
		}
		fmt.Fprintf(stderr, "ingest: %d rows, %.0f rows/s, %d rejected\n", p.Rows, rate, p.Rejected)
	}
	total, err := loader.LoadFile(ctx, *provider, *item, f, file, onReject, onProgress)
	if printed > maxPrintedRejections {
		fmt.Fprintf(out, "… and %d more rejected rows\n", printed-maxPrintedRejections)
	}
	rate := 0.0
	if s := total.Elapsed.Seconds(); s > 0 {
		rate = float64(total.Rows) / s
	}
	fmt.Fprintf(out, "rows %d: accepted %d, updated %d, duplicates %d, rejected %d (%.1fs, %.0f rows/s)\n",
		total.Rows, total.Accepted, total.Updated, total.Duplicates, total.Rejected, total.Elapsed.Seconds(), rate)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}
