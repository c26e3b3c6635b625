// Package selfreport keeps the information an enterprise reports about itself (自愿填报, R3),
// each report backed by its credit commitment (信用承诺). A self-report is a record of the
// catalog item `self.reported` with provider SELF, disclosed like any record of that item and
// annotated SELF_REPORTED wherever shown. The enterprise may withdraw it: records.withdrawn_at
// is set, institutions no longer see it, and the enterprise still does, annotated WITHDRAWN.
//
// The commitment is stored inside the record's data under the reserved key CommitmentKey, so
// that it is shown, and covered by the content hash, wherever the report is; the enterprise's
// own data may not use that key.
//
// Access is decided by policy.Decide (action SelfReport); this package only loads facts.
package selfreport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/policy"
)

// Item is the catalog item of self-reported information.
const Item = "self.reported"

// CommitmentKey is the reserved key of a self-report's data that holds its credit commitment.
const CommitmentKey = "_commitment"

// SourcePrefix starts the sourceId of every self-report ("self-<record id>").
const SourcePrefix = "self-"

// Limits on what an enterprise sends.
const (
	// MaxDataBytes is the largest payload accepted, in bytes of JSON.
	MaxDataBytes = 64 << 10
	// MinCommitmentChars and MaxCommitmentChars bound the commitment, in characters.
	MinCommitmentChars = 10
	MaxCommitmentChars = 5000
)

// Service files and withdraws self-reports.
type Service struct {
	pool *pgxpool.Pool
	cat  *catalog.Catalog
	now  func() time.Time
}

// NewService returns a self-report service; now defaults to time.Now.
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, cat: cat, now: now}
}

const msgNoRecord = "recordId: no record of yours has this id"

func badInput(format string, args ...any) *apperr.Error {
	return apperr.New(apperr.BadInput, format, args...)
}

// item returns the self-report item, which the catalog must supply from SELF.
func (s *Service) item() (*catalog.Item, error) {
	it, ok := s.cat.Item(Item)
	if !ok || it.Provider != catalog.SelfProvider {
		return nil, &apperr.Error{Code: apperr.Internal,
			Message: "the catalog has no item " + Item + " supplied by " + catalog.SelfProvider + "; self-reports are not available"}
	}
	return it, nil
}

// Submit files a self-report of the enterprise v.Org and returns the new record's id. data
// must be a non-empty JSON object of at most MaxDataBytes without the key CommitmentKey;
// commitment is required. The record has provider SELF, sourceId "self-<record id>",
// occurredOn today (Asia/Shanghai), and data = the object sent plus CommitmentKey.
// FORBIDDEN for anyone but an enterprise, or an enterprise the platform has no registration of.
func (s *Service) Submit(ctx context.Context, v policy.Viewer, data json.RawMessage, commitment string) (string, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: policy.SelfReport, Now: now}); !res.Allowed {
		return "", apperr.New(res.Code, "%s", res.Reason)
	}
	it, err := s.item()
	if err != nil {
		return "", err
	}
	obj, err := decodeObject(data)
	if err != nil {
		return "", err
	}
	text, err := checkCommitment(commitment)
	if err != nil {
		return "", err
	}
	obj[CommitmentKey] = text
	stored, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("self-report: encode data: %w", err)
	}
	today := policy.Today(now)
	hash, err := ingest.ContentHash(today.Format(time.DateOnly), "", stored)
	if err != nil {
		// Values the store cannot hold (NUL characters, too deep, numbers out of range).
		return "", badInput("%s", strings.TrimPrefix(err.Error(), "content hash: "))
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("self-report: record id: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO records (uscc, id, provider, item, source_id, occurred_on, data, content_hash, version, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9
		WHERE EXISTS (SELECT 1 FROM enterprises WHERE uscc = $1)`,
		v.Org, id, it.Provider, it.Code, SourcePrefix+id.String(), pgtype.Date{Time: today, Valid: true}, stored, hash, now)
	if err != nil {
		return "", fmt.Errorf("self-report: save: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", apperr.New(apperr.Forbidden, "the platform holds no registration of your enterprise; self-reports are filed by registered enterprises")
	}
	return id.String(), nil
}

// decodeObject decodes data, which must be a non-empty JSON object without CommitmentKey,
// keeping numbers exact.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badInput("data: required, a JSON object")
	}
	if len(raw) > MaxDataBytes {
		return nil, badInput("data: larger than %d bytes", MaxDataBytes)
	}
	if !utf8.Valid(raw) {
		return nil, badInput("data: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badInput("data: not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badInput("data: not valid JSON: unexpected data after the object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badInput("data: must be a JSON object")
	}
	if len(obj) == 0 {
		return nil, badInput("data: must have at least one field")
	}
	if _, ok := obj[CommitmentKey]; ok {
		return nil, badInput("data.%s: reserved for the commitment; send it as commitment", CommitmentKey)
	}
	return obj, nil
}

func checkCommitment(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", badInput("commitment: not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", badInput("commitment: required, the enterprise's credit commitment")
	case n < MinCommitmentChars:
		return "", badInput("commitment: at least %d characters", MinCommitmentChars)
	case n > MaxCommitmentChars:
		return "", badInput("commitment: at most %d characters", MaxCommitmentChars)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return "", badInput("commitment: must not contain control characters")
	}
	return s, nil
}

// Withdraw takes one of the enterprise's self-reports away from institutions and returns its
// id. An unknown record and another enterprise's record are refused alike (FORBIDDEN);
// BAD_INPUT when the record is not a self-report or was already withdrawn.
func (s *Service) Withdraw(ctx context.Context, v policy.Viewer, recordID string) (string, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: policy.SelfReport, Now: now}); !res.Allowed {
		return "", apperr.New(res.Code, "%s", res.Reason)
	}
	rid, err := uuid.Parse(recordID)
	if err != nil {
		return "", apperr.New(apperr.Forbidden, msgNoRecord)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("withdraw self-report: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	var usccCode, provider, item string
	var withdrawnAt *time.Time
	err = tx.QueryRow(ctx, `SELECT uscc, provider, item, withdrawn_at FROM records WHERE id = $1 FOR UPDATE`, rid).
		Scan(&usccCode, &provider, &item, &withdrawnAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.New(apperr.Forbidden, msgNoRecord)
	}
	if err != nil {
		return "", fmt.Errorf("withdraw self-report: read record: %w", err)
	}
	if res := policy.Decide(policy.Request{Viewer: v, Subject: usccCode, Action: policy.SelfReport, Now: now}); !res.Allowed {
		if res.Code == apperr.Forbidden {
			return "", apperr.New(apperr.Forbidden, msgNoRecord)
		}
		return "", apperr.New(res.Code, "%s", res.Reason)
	}
	if provider != catalog.SelfProvider {
		return "", badInput("recordId: the record is not a self-report (item %s, supplied by %s); only self-reports are withdrawn", item, provider).With("item", item)
	}
	if withdrawnAt != nil {
		return "", badInput("recordId: the self-report was already withdrawn on %s", policy.Today(*withdrawnAt).Format(time.DateOnly)).With("item", item)
	}
	if _, err := tx.Exec(ctx, `UPDATE records SET withdrawn_at = $3 WHERE uscc = $1 AND id = $2`, usccCode, rid, now); err != nil {
		return "", fmt.Errorf("withdraw self-report: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("withdraw self-report: commit: %w", err)
	}
	return rid.String(), nil
}
