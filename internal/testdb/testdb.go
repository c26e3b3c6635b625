// Package testdb gives each test package a fresh, migrated PostgreSQL database.
//
// The server is found through CREDITD_TEST_DATABASE_URL (an administrative connection; default
// postgres://postgres@127.0.0.1:5432/postgres). Databases are created from template0 with a
// UTF-8 ctype so that the trigram index can search Chinese names.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/store"
)

// AdminURL is the administrative connection used to create and drop test databases.
func AdminURL() string {
	if u := os.Getenv("CREDITD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis server tests use.
func RedisURL() string {
	if u := os.Getenv("CREDITD_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// New creates a fresh migrated database for tb, dropped when the test ends, and returns its URL.
func New(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		tb.Fatalf("testdb: connect to PostgreSQL (%s): %v", redact(AdminURL()), err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "creditd_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`, name)); err != nil {
		tb.Fatalf("testdb: create database: %v", err)
	}
	u, err := url.Parse(AdminURL())
	if err != nil {
		tb.Fatalf("testdb: parse admin url: %v", err)
	}
	u.Path = "/" + name
	dbURL := u.String()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			tb.Logf("testdb: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Logf("testdb: drop %s: %v", name, err)
		}
	})
	pool, err := store.Open(ctx, dbURL, nil)
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	return dbURL
}

// Pool creates a fresh database (see New) and returns a pool on it, closed at cleanup.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	u := New(tb)
	pool, err := store.Open(context.Background(), u, nil)
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return strings.TrimSpace(u.String())
}
