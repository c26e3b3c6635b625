// Package orgs keeps the platform's institutions (接入机构) and data providers (数据提供单位).
package orgs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Status of an institution or provider account.
type Status string

const (
	Active    Status = "active"
	Suspended Status = "suspended"
)

// Institution is a financial institution that reads credit information.
type Institution struct {
	Code   string
	Name   string
	Kind   string // bank, guarantor, insurer, credit_agency, other
	Status Status
}

// Provider is a data provider account.
type Provider struct {
	Code   string
	Name   string
	Status Status
}

// ErrNotFound means no such institution or provider.
var ErrNotFound = errors.New("organization not found")

// Store reads and writes organizations in PostgreSQL.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Institution returns the institution with code, or ErrNotFound.
func (s *Store) Institution(ctx context.Context, code string) (Institution, error) {
	var in Institution
	err := s.pool.QueryRow(ctx, `SELECT code, name, kind, status FROM institutions WHERE code = $1`, code).
		Scan(&in.Code, &in.Name, &in.Kind, &in.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Institution{}, ErrNotFound
	}
	if err != nil {
		return Institution{}, fmt.Errorf("read institution: %w", err)
	}
	return in, nil
}

// Provider returns the provider with code, or ErrNotFound.
func (s *Store) Provider(ctx context.Context, code string) (Provider, error) {
	var p Provider
	err := s.pool.QueryRow(ctx, `SELECT code, name, status FROM providers WHERE code = $1`, code).
		Scan(&p.Code, &p.Name, &p.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Provider{}, ErrNotFound
	}
	if err != nil {
		return Provider{}, fmt.Errorf("read provider: %w", err)
	}
	return p, nil
}

// PutInstitution creates or updates an institution.
func (s *Store) PutInstitution(ctx context.Context, in Institution) error {
	if in.Status == "" {
		in.Status = Active
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO institutions (code, name, kind, status) VALUES ($1, $2, $3, $4)
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
			status = EXCLUDED.status, updated_at = now()`, in.Code, in.Name, in.Kind, in.Status)
	if err != nil {
		return fmt.Errorf("save institution %s: %w", in.Code, err)
	}
	return nil
}

// PutProvider creates or updates a provider account.
func (s *Store) PutProvider(ctx context.Context, p Provider) error {
	if p.Status == "" {
		p.Status = Active
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO providers (code, name, status) VALUES ($1, $2, $3)
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status`, p.Code, p.Name, p.Status)
	if err != nil {
		return fmt.Errorf("save provider %s: %w", p.Code, err)
	}
	return nil
}
