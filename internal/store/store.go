// Package store opens the PostgreSQL pool and owns the embedded schema migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects a pool to the database at url and checks that it answers.
// A tracer, when not nil, sees every query (tests count round trips with one).
func Open(ctx context.Context, url string, tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

func provider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("embedded migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, db, nil
}

// Migrate applies every pending migration. It refuses a database whose ctype cannot index
// Chinese text with trigrams.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var ctype, encoding string
	if err := pool.QueryRow(ctx, `SELECT datctype, pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()`).Scan(&ctype, &encoding); err != nil {
		return fmt.Errorf("read database locale: %w", err)
	}
	if encoding != "UTF8" || !isUTF8Ctype(ctype) {
		return fmt.Errorf("database has encoding %s and ctype %q: Chinese name search needs ENCODING 'UTF8' and a UTF-8 ctype such as C.UTF-8 (CREATE DATABASE … TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8')", encoding, ctype)
	}
	p, db, err := provider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

func isUTF8Ctype(ctype string) bool {
	c := strings.ToLower(strings.ReplaceAll(ctype, "-", ""))
	return strings.HasSuffix(c, ".utf8")
}

// ErrNotMigrated means the database lacks migrations this binary needs.
var ErrNotMigrated = errors.New("database migrations are not all applied")

// CheckMigrated reports ErrNotMigrated unless every embedded migration is applied.
func CheckMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	p, db, err := provider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read migration state: %w", err)
	}
	if pending {
		return ErrNotMigrated
	}
	return nil
}
