package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"creditd/auth"
	"creditd/internal/app"
	"creditd/internal/catalog"
	"creditd/internal/connector"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/internal/usage"
	"creditd/internal/workday"
)

func serve(ctx context.Context, cfg config, getenv func(string) string, logger *slog.Logger) error {
	cat, err := catalog.Load(cfg.CatalogFile)
	if err != nil {
		return err
	}
	cal, err := workday.Load(cfg.CalendarDir)
	if err != nil {
		return err
	}
	keys, err := auth.LoadKeys(cfg.KeyDir, cfg.Development)
	if err != nil {
		return err
	}
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("parse REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()

	var providers *connector.Client
	if cfg.Providers != "" {
		eps, err := connector.ParseProviders(cfg.Providers, getenv)
		if err != nil {
			return fmt.Errorf("CREDITD_PROVIDERS: %w", err)
		}
		if !cfg.Development {
			if err := productionEndpoints(eps); err != nil {
				return err
			}
		}
		providers, err = connector.New(connector.Options{Providers: eps, Logger: logger})
		if err != nil {
			return fmt.Errorf("providers: %w", err)
		}
		defer providers.Close()
	}
	// The usage log's workers: the group-commit recorder, the sequencer that seals the
	// per-provider hash chains, and the deliverer of providers' webhooks. serve owns them and
	// stops them after the HTTP server has drained.
	rec := usage.NewRecorder(pool, usage.RecorderOptions{Logger: logger})
	seq := usage.NewSequencer(pool, keys, usage.SequencerOptions{Logger: logger})
	del := usage.NewDeliverer(pool, usage.DelivererOptions{Logger: logger})
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workers, wctx := errgroup.WithContext(wctx)
	workers.Go(func() error { return rec.Run(wctx) })
	workers.Go(func() error { return seq.Run(wctx) })
	workers.Go(func() error { return del.Run(wctx) })
	defer func() {
		stopWorkers()
		rec.Close()
		if err := workers.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("usage workers stopped with an error", "err", err)
		}
	}()
	handler, err := app.Handler(app.Options{
		Pool:          pool,
		Redis:         rdb,
		Catalog:       cat,
		Keys:          keys,
		Development:   cfg.Development,
		Limits:        server.DefaultLimits(),
		RatePerMinute: cfg.RatePerMin,
		Logger:        logger,
		Providers:     providers,
		VerifyBudget:  cfg.VerifyBudget,
		Usage:         rec,
		Calendar:      cal,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		logger.Info("serving", "addr", cfg.Addr, "development", cfg.Development, "catalog_items", len(cat.Items()))
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, cfg config, stdout io.Writer) error {
	pool, err := store.Open(ctx, cfg.DatabaseURL, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "migrations applied")
	return err
}

// productionEndpoints refuses providers' interfaces that would carry enterprises' data in the
// clear or unauthenticated: production needs https and a secret for every provider.
func productionEndpoints(eps map[string]connector.Endpoint) error {
	for code, ep := range eps {
		if !strings.HasPrefix(ep.BaseURL, "https://") {
			return fmt.Errorf("CREDITD_PROVIDERS: provider %s must be reached over https in production", code)
		}
		if ep.Secret == "" {
			return fmt.Errorf("provider %s has no secret: set CREDITD_PROVIDER_SECRET_%s", code, code)
		}
	}
	return nil
}
