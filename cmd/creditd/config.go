package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/store"
)

// config is the process configuration, from the environment only.
type config struct {
	DatabaseURL  string
	RedisURL     string
	Addr         string
	Development  bool
	KeyDir       string
	CatalogFile  string
	LogLevel     slog.Level
	RatePerMin   int
	Providers    string // CREDITD_PROVIDERS: CODE=URL,… of providers' interfaces
	VerifyBudget int
	CalendarDir  string // CREDITD_CALENDAR_DIR: YYYY.yaml files replacing the embedded years
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL: or(getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/creditd?sslmode=disable"),
		RedisURL:    or(getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"),
		Addr:        or(getenv("CREDITD_ADDR"), ":8080"),
		KeyDir:      getenv("CREDITD_KEY_DIR"),
		CatalogFile: getenv("CREDITD_CATALOG"),
		RatePerMin:  600,
		Providers:   getenv("CREDITD_PROVIDERS"),
		CalendarDir: getenv("CREDITD_CALENDAR_DIR"),
	}
	switch m := or(getenv("CREDITD_MODE"), "production"); m {
	case "development":
		c.Development = true
		if c.KeyDir == "" {
			c.KeyDir = "var/keys"
		}
	case "production":
	default:
		return c, fmt.Errorf("CREDITD_MODE must be development or production, not %q", m)
	}
	if c.KeyDir == "" {
		return c, fmt.Errorf("CREDITD_KEY_DIR is required in production mode")
	}
	if v := getenv("CREDITD_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("CREDITD_LOG_LEVEL: %w", err)
		}
	}
	if v := getenv("CREDITD_RATE_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("CREDITD_RATE_PER_MINUTE must be a non-negative integer, not %q", v)
		}
		c.RatePerMin = n
	}
	if v := getenv("CREDITD_VERIFY_BUDGET"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("CREDITD_VERIFY_BUDGET must be a positive integer, not %q", v)
		}
		c.VerifyBudget = n
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// openMigrated connects to the database and checks that every migration is applied.
func openMigrated(ctx context.Context, cfg config) (*pgxpool.Pool, error) {
	pool, err := store.Open(ctx, cfg.DatabaseURL, nil)
	if err != nil {
		return nil, err
	}
	if err := store.CheckMigrated(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: run creditd migrate", err)
	}
	return pool, nil
}
