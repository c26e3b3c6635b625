// Package repair runs credit repair (信用修复, R21): an enterprise applies, with a credit
// commitment letter, to end the disclosure of one of its records in an item the catalog marks
// repairable, once the item's minimum disclosure period has passed since the record's
// occurredOn; the provider of the item decides. An approval sets records.repaired_at (the
// record is no longer disclosed to institutions, while the enterprise still sees it annotated
// REPAIRED) and, in the same transaction, publishes the letter as a public `commitment`
// record of the enterprise. Repair is free of charge: no quota, no usage event.
//
// Access is decided by policy.Decide (ApplyRepair, DecideRepair, ReadObjection); this package
// only loads the facts it needs.
package repair

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/policy"
)

// Status is the state of a repair application.
type Status string

const (
	Pending  Status = "PENDING"
	Approved Status = "APPROVED"
	Rejected Status = "REJECTED"
)

// CommitmentItem is the catalog item under which approved repair commitment letters are
// published.
const CommitmentItem = "commitment"

// LetterType is the type of the published letter, stored in the commitment record's data.
const LetterType = "信用修复型信用承诺书"

// Limits on the texts an applicant or a provider writes, in characters.
const (
	MinCommitmentChars = 10
	MaxCommitmentChars = 20000
	MaxReasonChars     = 2000
)

// MaxPageSize is the largest page List returns.
const MaxPageSize = 100

// Application is one credit repair application.
type Application struct {
	ID         string
	RecordID   string
	USCC       string // the applicant enterprise
	Item       string // the repaired record's catalog item
	Provider   string // the item's provider, who decides
	Commitment string // the credit commitment letter
	Status     Status
	Reason     *string // the provider's reason; always set on rejection
	DecidedBy  *string // provider code, once decided
	// CommitmentRecordID is the public commitment record made on approval.
	CommitmentRecordID *string
	CreatedAt          time.Time
	DecidedAt          *time.Time
}

// Page is one page of applications, newest first.
type Page struct {
	Applications []Application
	HasNext      bool
	EndCursor    string
}

// Service applies for, decides and reads credit repairs.
type Service struct {
	pool *pgxpool.Pool
	cat  *catalog.Catalog
	now  func() time.Time
}

// NewService returns a repair service; now defaults to time.Now.
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, cat: cat, now: now}
}

// Messages that must not tell an unknown id from someone else's.
const (
	msgNoRecord   = "recordId: no record of yours has this id"
	msgNoDecision = "id: no repair application on your items has this id; applications are decided by the provider of the record's item"
	msgNoRead     = "id: no repair application you may read has this id"
)

func badInput(format string, args ...any) *apperr.Error {
	return apperr.New(apperr.BadInput, format, args...)
}

// refusal turns a policy refusal into the caller's error.
func refusal(res policy.Result) error {
	return apperr.New(res.Code, "%s", res.Reason)
}

// EarliestRepair returns the first date (Asia/Shanghai calendar date, as UTC midnight) on
// which a record of item that occurred on occurredOn may be repaired: occurredOn plus the
// item's minimum disclosure period (by the record's severity for severity-based items). ok is
// false when the item is not repairable or has no minimum period for that severity.
func EarliestRepair(it *catalog.Item, occurredOn time.Time, severity string) (earliest time.Time, ok bool) {
	if !it.Repairable {
		return time.Time{}, false
	}
	key := ""
	if it.Disclosure.Kind == catalog.DiscloseBySeverity {
		key = severity
	}
	p, ok := it.MinDisclosure[key]
	if !ok {
		return time.Time{}, false
	}
	return p.AddTo(occurredOn), true
}

// minPeriod names the minimum disclosure period that applies, for messages.
func minPeriod(it *catalog.Item, severity string) string {
	if it.Disclosure.Kind == catalog.DiscloseBySeverity {
		return fmt.Sprintf("%s for %s records", it.MinDisclosure[severity], severity)
	}
	return it.MinDisclosure[""].String()
}

// checkText trims s and checks it is between min and max characters of printable text
// (line breaks and tabs allowed).
func checkText(field, s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", badInput("%s: not valid UTF-8", field)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", badInput("%s: required", field)
	case n < min:
		return "", badInput("%s: at least %d characters", field, min)
	case n > max:
		return "", badInput("%s: at most %d characters", field, max)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return "", badInput("%s: must not contain control characters", field)
	}
	return s, nil
}

// target is the state of a record an application is about.
type target struct {
	uscc       string
	item       string
	occurredOn time.Time
	severity   string
	repairedAt *time.Time
	deleted    bool
}

// Apply files a repair application by the enterprise v.Org for one of its records, with its
// credit commitment letter. An unknown record and another enterprise's record are refused
// alike (FORBIDDEN). BAD_INPUT when the item is not repairable, the record is already
// repaired or was deleted, the minimum disclosure period has not passed (the message and
// extension "earliestDate" give the first allowed date, YYYY-MM-DD), an application for the
// record is already pending, or the commitment is missing or too long.
func (s *Service) Apply(ctx context.Context, v policy.Viewer, recordID, commitment string) (Application, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: policy.ApplyRepair, Now: now}); !res.Allowed {
		return Application{}, refusal(res)
	}
	rid, err := uuid.Parse(recordID)
	if err != nil {
		return Application{}, apperr.New(apperr.Forbidden, msgNoRecord)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Application{}, fmt.Errorf("apply for repair: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	var t target
	var occ pgtype.Date
	err = tx.QueryRow(ctx, `
		SELECT uscc, item, occurred_on, coalesce(data->>'severity', ''), repaired_at, deleted_at IS NOT NULL
		FROM records WHERE id = $1 FOR UPDATE`, rid).
		Scan(&t.uscc, &t.item, &occ, &t.severity, &t.repairedAt, &t.deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return Application{}, apperr.New(apperr.Forbidden, msgNoRecord)
	}
	if err != nil {
		return Application{}, fmt.Errorf("apply for repair: read record: %w", err)
	}
	t.occurredOn = occ.Time
	it, _ := s.cat.Item(t.item) // nil when the item left the catalog
	res := policy.Decide(policy.Request{Viewer: v, Subject: t.uscc, Item: it, Action: policy.ApplyRepair, Now: now})
	if !res.Allowed {
		if res.Code == apperr.Forbidden {
			return Application{}, apperr.New(apperr.Forbidden, msgNoRecord)
		}
		return Application{}, apperr.New(res.Code, "recordId: %s", res.Reason).With("item", t.item)
	}
	if it == nil {
		return Application{}, badInput("recordId: item %s of this record is no longer in the catalog", t.item).With("item", t.item)
	}
	if t.repairedAt != nil {
		return Application{}, badInput("recordId: the record was already repaired on %s", policy.Today(*t.repairedAt).Format(time.DateOnly)).With("item", it.Code)
	}
	if t.deleted {
		return Application{}, badInput("recordId: the record was deleted; it is not disclosed, so there is nothing to repair").With("item", it.Code)
	}
	earliest, ok := EarliestRepair(it, t.occurredOn, t.severity)
	if !ok {
		return Application{}, badInput("recordId: item %s has no minimum disclosure period for severity %q, so the record cannot be repaired", it.Code, t.severity).With("item", it.Code)
	}
	if today := policy.Today(now); today.Before(earliest) {
		day := earliest.Format(time.DateOnly)
		return Application{}, badInput("recordId: a record of %s may be repaired only after its minimum disclosure period (%s) since it occurred on %s; the earliest date to apply is %s",
			it.Code, minPeriod(it, t.severity), t.occurredOn.Format(time.DateOnly), day).
			With("item", it.Code).With("earliestDate", day)
	}
	var pending bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM repair_applications WHERE uscc = $1 AND record_id = $2 AND status = 'PENDING')`,
		t.uscc, rid).Scan(&pending); err != nil {
		return Application{}, fmt.Errorf("apply for repair: read applications: %w", err)
	}
	if pending {
		return Application{}, errPending(it.Code)
	}
	text, err := checkText("commitment", commitment, MinCommitmentChars, MaxCommitmentChars)
	if err != nil {
		return Application{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Application{}, fmt.Errorf("apply for repair: application id: %w", err)
	}
	a, err := scanApplication(tx.QueryRow(ctx, `
		INSERT INTO repair_applications (uscc, id, record_id, item, provider, commitment, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7)
		RETURNING `+appCols, t.uscc, id, rid, it.Code, it.Provider, text, now))
	if err != nil {
		if isUniqueViolation(err) {
			return Application{}, errPending(it.Code)
		}
		return Application{}, fmt.Errorf("apply for repair: save: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		if isUniqueViolation(err) {
			return Application{}, errPending(it.Code)
		}
		return Application{}, fmt.Errorf("apply for repair: commit: %w", err)
	}
	return a, nil
}

func errPending(item string) error {
	return badInput("recordId: a repair application for this record is already pending; wait for the provider's decision").With("item", item)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Decide approves or rejects a pending application; only the provider of the record's item
// may (anyone else, and an unknown id: FORBIDDEN). Rejection needs a reason, which is kept;
// an approval may carry one. Approval marks the record repaired and publishes the commitment
// letter as a `commitment` record of the enterprise (provider: the catalog's provider of that
// item; sourceId "repair-<application id>"; occurredOn today), in one transaction.
// BAD_INPUT when the application is not PENDING.
func (s *Service) Decide(ctx context.Context, v policy.Viewer, id string, approve bool, reason *string) (Application, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	aid, err := uuid.Parse(id)
	if err != nil {
		return Application{}, apperr.New(apperr.Forbidden, msgNoDecision)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Application{}, fmt.Errorf("decide repair: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	a, err := scanApplication(tx.QueryRow(ctx, `SELECT `+appCols+` FROM repair_applications WHERE id = $1 FOR UPDATE`, aid))
	if errors.Is(err, pgx.ErrNoRows) {
		return Application{}, apperr.New(apperr.Forbidden, msgNoDecision)
	}
	if err != nil {
		return Application{}, fmt.Errorf("decide repair: read application: %w", err)
	}
	it, _ := s.cat.Item(a.Item) // nil when the item left the catalog: then nobody may decide
	res := policy.Decide(policy.Request{Viewer: v, Subject: a.USCC, Item: it, Action: policy.DecideRepair, Now: now})
	if !res.Allowed {
		if res.Code == apperr.Forbidden {
			return Application{}, apperr.New(apperr.Forbidden, msgNoDecision)
		}
		return Application{}, apperr.New(res.Code, "id: %s", res.Reason).With("item", a.Item)
	}
	if a.Status != Pending {
		return Application{}, badInput("id: the application was already %s on %s; only PENDING applications are decided",
			a.Status, policy.Today(*a.DecidedAt).Format(time.DateOnly))
	}
	var why *string
	if reason != nil && strings.TrimSpace(*reason) != "" {
		r, err := checkText("reason", *reason, 1, MaxReasonChars)
		if err != nil {
			return Application{}, err
		}
		why = &r
	}
	if !approve {
		if why == nil {
			return Application{}, badInput("reason: required when rejecting a repair application")
		}
		a, err = scanApplication(tx.QueryRow(ctx, `
			UPDATE repair_applications SET status = 'REJECTED', reason = $3, decided_by = $4, decided_at = $5
			WHERE uscc = $1 AND id = $2
			RETURNING `+appCols, a.USCC, aid, *why, v.Org, now))
		if err != nil {
			return Application{}, fmt.Errorf("decide repair: reject: %w", err)
		}
	} else {
		recID, err := s.approve(ctx, tx, a, now)
		if err != nil {
			return Application{}, err
		}
		a, err = scanApplication(tx.QueryRow(ctx, `
			UPDATE repair_applications
			SET status = 'APPROVED', reason = $3, decided_by = $4, decided_at = $5, commitment_record_id = $6
			WHERE uscc = $1 AND id = $2
			RETURNING `+appCols, a.USCC, aid, why, v.Org, now, recID))
		if err != nil {
			return Application{}, fmt.Errorf("decide repair: approve: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Application{}, fmt.Errorf("decide repair: commit: %w", err)
	}
	return a, nil
}

// letter is the payload of a published repair commitment letter.
type letter struct {
	Type           string `json:"type"`
	Text           string `json:"text"`
	RepairedItem   string `json:"repaired_item"`
	RepairedRecord string `json:"repaired_record"`
	Application    string `json:"application"`
}

// approve marks the record repaired and publishes the commitment letter; it returns the id of
// the new commitment record.
func (s *Service) approve(ctx context.Context, tx pgx.Tx, a Application, now time.Time) (uuid.UUID, error) {
	ci, ok := s.cat.Item(CommitmentItem)
	if !ok {
		return uuid.UUID{}, &apperr.Error{Code: apperr.Internal,
			Message: "the catalog has no item " + CommitmentItem + " to publish the repair commitment letter under; ask the platform to fix its catalog"}
	}
	tag, err := tx.Exec(ctx, `UPDATE records SET repaired_at = coalesce(repaired_at, $3) WHERE uscc = $1 AND id = $2`,
		a.USCC, a.RecordID, now)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("decide repair: mark record repaired: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return uuid.UUID{}, badInput("id: the record of this application no longer exists")
	}
	data, err := json.Marshal(letter{Type: LetterType, Text: a.Commitment, RepairedItem: a.Item, RepairedRecord: a.RecordID, Application: a.ID})
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("decide repair: encode letter: %w", err)
	}
	today := policy.Today(now)
	hash, err := ingest.ContentHash(today.Format(time.DateOnly), "", data)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("decide repair: %w", err)
	}
	rid, err := uuid.NewV7()
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("decide repair: record id: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO records (uscc, id, provider, item, source_id, occurred_on, data, content_hash, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)`,
		a.USCC, rid, ci.Provider, ci.Code, SourceID(a.ID), pgtype.Date{Time: today, Valid: true}, data, hash, now); err != nil {
		return uuid.UUID{}, fmt.Errorf("decide repair: publish commitment letter: %w", err)
	}
	return rid, nil
}

// SourceID is the sourceId of the commitment record published when application id is approved.
func SourceID(applicationID string) string { return "repair-" + applicationID }

// Get returns one application to the applicant, the provider of the record's item or an
// operator; for anyone else, as for an unknown id, NOT_FOUND.
func (s *Service) Get(ctx context.Context, v policy.Viewer, id string) (Application, error) {
	aid, err := uuid.Parse(id)
	if err != nil {
		return Application{}, apperr.New(apperr.NotFound, msgNoRead)
	}
	a, err := scanApplication(s.pool.QueryRow(ctx, `SELECT `+appCols+` FROM repair_applications WHERE id = $1`, aid))
	if errors.Is(err, pgx.ErrNoRows) {
		return Application{}, apperr.New(apperr.NotFound, msgNoRead)
	}
	if err != nil {
		return Application{}, fmt.Errorf("read repair application: %w", err)
	}
	if !s.mayRead(v, a) {
		return Application{}, apperr.New(apperr.NotFound, msgNoRead)
	}
	return a, nil
}

func (s *Service) mayRead(v policy.Viewer, a Application) bool {
	it, _ := s.cat.Item(a.Item) // nil when the item left the catalog: then only applicant and operators
	return policy.Decide(policy.Request{Viewer: v, Subject: a.USCC, Item: it, Action: policy.ReadObjection, Now: s.now()}).Allowed
}

// List returns, newest first, the applications of the enterprise v.Org, the applications on
// the items of provider v.Org (pending and decided), or every application for an operator.
// first is 1 to MaxPageSize; after is the EndCursor of the previous page. Institutions are
// refused (FORBIDDEN).
func (s *Service) List(ctx context.Context, v policy.Viewer, first int, after string) (Page, error) {
	if first < 1 || first > MaxPageSize {
		return Page{}, badInput("first: must be between 1 and %d", MaxPageSize)
	}
	cursor := uuid.Max
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err == nil {
			cursor, err = uuid.Parse(string(b))
		}
		if err != nil {
			return Page{}, badInput("after: not a cursor returned by a listing of repair applications")
		}
	}
	// Narrow the query to what the viewer's role can see; the policy still decides each row.
	var rows pgx.Rows
	var err error
	switch v.Role {
	case policy.Enterprise:
		rows, err = s.pool.Query(ctx, `SELECT `+appCols+` FROM repair_applications WHERE uscc = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, v.Org, cursor, first+1)
	case policy.Provider:
		rows, err = s.pool.Query(ctx, `SELECT `+appCols+` FROM repair_applications WHERE provider = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, v.Org, cursor, first+1)
	case policy.Operator:
		rows, err = s.pool.Query(ctx, `SELECT `+appCols+` FROM repair_applications WHERE id < $1 ORDER BY id DESC LIMIT $2`, cursor, first+1)
	default:
		return Page{}, apperr.New(apperr.Forbidden, "repair applications are read by the applicant, the provider of the item and the platform's operators")
	}
	if err != nil {
		return Page{}, fmt.Errorf("list repair applications: %w", err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Application, error) { return scanApplication(r) })
	if err != nil {
		return Page{}, fmt.Errorf("list repair applications: %w", err)
	}
	p := Page{HasNext: len(as) > first, Applications: []Application{}}
	if p.HasNext {
		as = as[:first]
	}
	for _, a := range as {
		if s.mayRead(v, a) {
			p.Applications = append(p.Applications, a)
		}
	}
	if len(as) > 0 {
		p.EndCursor = Cursor(as[len(as)-1].ID)
	}
	return p, nil
}

// Cursor is the opaque cursor of an application in a listing.
func Cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

const appCols = `id::text, record_id::text, uscc, item, provider, commitment, status, reason, decided_by,
	commitment_record_id::text, created_at, decided_at`

func scanApplication(row pgx.Row) (Application, error) {
	var a Application
	var status string
	err := row.Scan(&a.ID, &a.RecordID, &a.USCC, &a.Item, &a.Provider, &a.Commitment, &status, &a.Reason,
		&a.DecidedBy, &a.CommitmentRecordID, &a.CreatedAt, &a.DecidedAt)
	a.Status = Status(status)
	return a, err
}
