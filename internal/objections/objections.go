// Package objections runs the objection workflow (异议, R20): an enterprise contests one of its
// records; the record is annotated UNDER_OBJECTION at once; the platform checks it within 3
// working days; its own error is corrected and the applicant told within 2 working days;
// otherwise the provider of the item answers within 5 working days (corrected, upheld, or
// deleted as unverifiable with the reason recorded) and the applicant is told within 2 working
// days of the answer; an applicant who still disagrees has it transferred to the competent
// department. Operators may pause a step (inspection, testing, expert review): paused time does
// not count.
//
// Deadlines are counted in working days by a calendar (package workday): the day a step starts
// is not counted and a step is due at 23:59:59 Asia/Shanghai of its last working day. Who may
// take each step is decided by policy.Decide; every step is checked against the current status,
// runs in one transaction holding the objection's row lock, and is appended to the history.
package objections

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/policy"
)

// Status is the step an objection is in (API ObjectionStatus).
type Status string

const (
	PlatformReview Status = "PLATFORM_REVIEW"
	WithProvider   Status = "WITH_PROVIDER"
	Notifying      Status = "NOTIFYING"
	Closed         Status = "CLOSED"
	Transferred    Status = "TRANSFERRED"
)

// Active reports whether s is a step with a deadline (the objection is open).
func (s Status) Active() bool { return s == PlatformReview || s == WithProvider || s == Notifying }

// Outcome is how an objection was decided (API ObjectionOutcome).
type Outcome string

const (
	Corrected           Outcome = "CORRECTED"
	Upheld              Outcome = "UPHELD"
	DeletedUnverifiable Outcome = "DELETED_UNVERIFIABLE"
)

// Working days allowed for each step (R20).
const (
	ReviewDays   = 3 // PLATFORM_REVIEW: the platform checks the record
	ProviderDays = 5 // WITH_PROVIDER: the provider answers
	NoticeDays   = 2 // NOTIFYING: the applicant is told the outcome
)

// MaxTextLength is the longest reason, note or evidence accepted, in characters.
const MaxTextLength = 4000

// Objection is one objection as the API shows it.
type Objection struct {
	ID        string
	RecordID  string
	USCC      string // the subject, whose record it is
	Applicant string // USCC of the enterprise that filed it (the subject itself)
	Item      string
	Provider  string // the item's provider, who answers
	Reason    string
	Evidence  string // "" when none was given
	Status    Status
	Outcome   Outcome // "" until decided
	Paused    bool
	// DueBy is the current step's deadline (23:59:59 Asia/Shanghai of its last working day);
	// nil while paused and once CLOSED or TRANSFERRED.
	DueBy *time.Time
	// Provisional says DueBy was counted over a provisional calendar year (false when DueBy is nil).
	Provisional bool
	// StepStartedAt is when the current step started, or resumed after a pause.
	StepStartedAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Step is one entry of an objection's history.
type Step struct {
	Seq       int
	At        time.Time
	Action    string // FILED, REVIEWED, ANSWERED, NOTIFIED, DISPUTED, PAUSED, RESUMED
	ActorRole policy.Role
	Actor     string // the actor's organization (USCC, provider code, operator org)
	Status    Status // after the step
	Outcome   Outcome
	DueBy     *time.Time // after the step
	Note      string
}

// History actions.
const (
	actFiled    = "FILED"
	actReviewed = "REVIEWED"
	actAnswered = "ANSWERED"
	actNotified = "NOTIFIED"
	actDisputed = "DISPUTED"
	actPaused   = "PAUSED"
	actResumed  = "RESUMED"
)

// Calendar counts working days (satisfied by *workday.Calendar).
type Calendar interface {
	// Deadline is 23:59:59 Asia/Shanghai of the n-th working day after start's date.
	Deadline(start time.Time, n int) (time.Time, bool, error)
	// WorkingDaysBetween counts the working days in (from's date, to's date].
	WorkingDaysBetween(from, to time.Time) (int, bool, error)
}

// Service files objections and takes them through their steps.
type Service struct {
	pool *pgxpool.Pool
	cat  *catalog.Catalog
	cal  Calendar
	now  func() time.Time
}

// NewService returns an objection service; now is the clock (nil: time.Now).
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, cal Calendar, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, cat: cat, cal: cal, now: now}
}

// shanghai is the zone deadlines are shown in.
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// row is an objection as stored, with the pause bookkeeping.
type row struct {
	Objection
	pausedAt          *time.Time
	pausedDueBy       *time.Time
	pausedProvisional *bool
	remaining         *int
}

const objectionCols = `uscc, id, record_id, applicant, item, provider, reason, coalesce(evidence, ''), status,
coalesce(outcome, ''), paused, step_started_at, due_by, provisional, paused_at, paused_due_by, paused_provisional,
remaining_days, created_at, updated_at`

func scanRow(s pgx.Row) (row, error) {
	var r row
	var id, rec uuid.UUID
	var status, outcome string
	err := s.Scan(&r.USCC, &id, &rec, &r.Applicant, &r.Item, &r.Provider, &r.Reason, &r.Evidence, &status,
		&outcome, &r.Paused, &r.StepStartedAt, &r.DueBy, &r.Provisional, &r.pausedAt, &r.pausedDueBy,
		&r.pausedProvisional, &r.remaining, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return row{}, err
	}
	r.ID, r.RecordID = id.String(), rec.String()
	r.Status, r.Outcome = Status(status), Outcome(outcome)
	return r, nil
}

// public returns the objection as callers see it.
func (r row) public() Objection {
	o := r.Objection
	if o.DueBy != nil {
		d := o.DueBy.In(shanghai)
		o.DueBy = &d
	}
	o.StepStartedAt = o.StepStartedAt.UTC()
	o.CreatedAt = o.CreatedAt.UTC()
	o.UpdatedAt = o.UpdatedAt.UTC()
	return o
}

func badInput(format string, args ...any) *apperr.Error {
	return apperr.New(apperr.BadInput, format, args...)
}

// text checks a required free-text argument.
func text(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", badInput("%s: required, a non-empty text", field)
	case !utf8.ValidString(s):
		return "", badInput("%s: not valid UTF-8", field)
	case utf8.RuneCountInString(s) > MaxTextLength:
		return "", badInput("%s: longer than %d characters", field, MaxTextLength)
	}
	return s, nil
}

func parseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return uuid.UUID{}, badInput("%s: %q is not an id", field, clip(s, 60))
	}
	return id, nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// item is the catalog item an objection's record belongs to, for the access policy. An item
// the catalog no longer lists is represented by its code and the record's provider.
func (s *Service) item(code, provider string) *catalog.Item {
	if it, ok := s.cat.Item(code); ok {
		return it
	}
	return &catalog.Item{Code: code, Provider: provider}
}

func (s *Service) decide(v policy.Viewer, act policy.Action, o *row, now time.Time) policy.Result {
	return policy.Decide(policy.Request{Viewer: v, Subject: o.USCC, Item: s.item(o.Item, o.Provider), Action: act, Now: now})
}

func refused(res policy.Result) error {
	code := res.Code
	if code == "" {
		code = apperr.Forbidden
	}
	return apperr.New(code, "%s", res.Reason)
}

// hidden is the answer for an objection that does not exist or that v may not see: the same
// either way, so that its existence does not leak. Viewers who may see every objection
// (operators) are told it does not exist.
func (s *Service) hidden(v policy.Viewer, id string, now time.Time) error {
	if policy.Decide(policy.Request{Viewer: v, Action: policy.ReadObjection, Now: now}).Allowed {
		return apperr.New(apperr.NotFound, "objection %s not found", clip(id, 60))
	}
	return apperr.New(apperr.Forbidden, "objection %s: not found among the objections you may see", clip(id, 60))
}

func (s *Service) calendarError(err error) error {
	return &apperr.Error{Code: apperr.Internal, Message: "the working-day calendar cannot count this deadline: " + err.Error(), Err: err}
}

// File files an objection on one of the viewer's records (ENTERPRISE) with no evidence.
func (s *Service) File(ctx context.Context, v policy.Viewer, recordID, reason string) (Objection, error) {
	return s.FileWithEvidence(ctx, v, recordID, reason, "")
}

// FileWithEvidence files an objection on one of the viewer's records (ENTERPRISE); evidence is
// optional (""). The record is annotated UNDER_OBJECTION in the same transaction and the
// objection starts in PLATFORM_REVIEW, due ReviewDays working days after filing. An unknown
// record and another enterprise's record are refused alike (FORBIDDEN); a record that already
// has an open objection, a deleted record and a self-reported one are BAD_INPUT.
func (s *Service) FileWithEvidence(ctx context.Context, v policy.Viewer, recordID, reason, evidence string) (Objection, error) {
	rid, err := parseID("recordId", recordID)
	if err != nil {
		return Objection{}, err
	}
	if reason, err = text("reason", reason); err != nil {
		return Objection{}, err
	}
	if evidence = strings.TrimSpace(evidence); evidence != "" {
		if evidence, err = text("evidence", evidence); err != nil {
			return Objection{}, err
		}
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Objection{}, fmt.Errorf("file objection: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	var subject, itemCode, provider string
	var deleted bool
	err = tx.QueryRow(ctx, `SELECT uscc, item, provider, deleted_at IS NOT NULL FROM records WHERE id = $1 FOR UPDATE`, rid).
		Scan(&subject, &itemCode, &provider, &deleted)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Objection{}, fmt.Errorf("file objection: find record: %w", err)
	}
	req := policy.Request{Viewer: v, Subject: subject, Action: policy.FileObjection, Now: now}
	if found {
		req.Item = s.item(itemCode, provider)
	}
	res := policy.Decide(req)
	if !res.Allowed || !found {
		if v.Role == policy.Enterprise {
			return Objection{}, apperr.New(apperr.Forbidden, "recordId: %s is not a record of yours; an enterprise files objections only on its own records", rid)
		}
		if res.Allowed {
			res = policy.Result{Code: apperr.Forbidden, Reason: "no such record"}
		}
		return Objection{}, refused(res)
	}
	if provider == catalog.SelfProvider {
		return Objection{}, badInput("recordId: %s is self-reported information; withdraw it and report again instead of objecting", rid)
	}
	if deleted {
		return Objection{}, badInput("recordId: %s has been deleted as unverifiable", rid)
	}
	var open uuid.UUID
	err = tx.QueryRow(ctx, `SELECT id FROM objections WHERE uscc = $1 AND record_id = $2
		AND status IN ('PLATFORM_REVIEW', 'WITH_PROVIDER', 'NOTIFYING') LIMIT 1`, subject, rid).Scan(&open)
	switch {
	case err == nil:
		return Objection{}, badInput("recordId: %s already has an open objection (%s)", rid, open).With("objection", open.String())
	case !errors.Is(err, pgx.ErrNoRows):
		return Objection{}, fmt.Errorf("file objection: check open objections: %w", err)
	}
	due, prov, err := s.cal.Deadline(now, ReviewDays)
	if err != nil {
		return Objection{}, s.calendarError(err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Objection{}, fmt.Errorf("file objection: id: %w", err)
	}
	o := row{Objection: Objection{ID: id.String(), RecordID: rid.String(), USCC: subject, Applicant: v.Org,
		Item: itemCode, Provider: provider, Reason: reason, Evidence: evidence, Status: PlatformReview,
		DueBy: &due, Provisional: prov, StepStartedAt: now, CreatedAt: now, UpdatedAt: now}}
	_, err = tx.Exec(ctx, `INSERT INTO objections (uscc, id, record_id, applicant, item, provider, reason, evidence,
		status, step_started_at, due_by, provisional, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), $9, $10, $11, $12, $10, $10)`,
		subject, id, rid, v.Org, itemCode, provider, reason, evidence, string(PlatformReview), now, due, prov)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return Objection{}, badInput("recordId: %s already has an open objection", rid)
		}
		return Objection{}, fmt.Errorf("file objection: insert: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE records SET under_objection = true WHERE uscc = $1 AND id = $2`, subject, rid); err != nil {
		return Objection{}, fmt.Errorf("file objection: annotate record: %w", err)
	}
	if err := appendStep(ctx, tx, &o, v, actFiled, now, reason); err != nil {
		return Objection{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Objection{}, fmt.Errorf("file objection: commit: %w", err)
	}
	return o.public(), nil
}

// appendStep adds a step to o's history.
func appendStep(ctx context.Context, tx pgx.Tx, o *row, v policy.Viewer, action string, at time.Time, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO objection_steps (uscc, objection_id, seq, at, action, actor_role, actor, status, outcome, due_by, note)
		SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, nullif($8, ''), $9, nullif($10, '')
		FROM objection_steps WHERE uscc = $1 AND objection_id = $2`,
		o.USCC, o.ID, at, action, string(v.Role), v.Org, string(o.Status), string(o.Outcome), o.DueBy, note)
	if err != nil {
		return fmt.Errorf("objection %s: history: %w", o.ID, err)
	}
	return nil
}

// transition is one workflow step.
type transition struct {
	name   string        // for messages: the API mutation
	action policy.Action // who may take it
	from   []Status      // the statuses it is taken in
	// apply changes o (and the record) and returns the history action and note.
	apply func(ctx context.Context, tx pgx.Tx, o *row, now time.Time) (history string, note string, err error)
}

// run takes a step: it locks the objection, checks who may take it and the current status,
// applies it, stores the result and appends it to the history, in one transaction.
func (s *Service) run(ctx context.Context, v policy.Viewer, id string, t transition) (Objection, error) {
	oid, err := parseID("id", id)
	if err != nil {
		return Objection{}, err
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Objection{}, fmt.Errorf("%s: begin: %w", t.name, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	o, err := scanRow(tx.QueryRow(ctx, `SELECT `+objectionCols+` FROM objections WHERE id = $1 FOR UPDATE`, oid))
	if errors.Is(err, pgx.ErrNoRows) {
		return Objection{}, s.hidden(v, id, now)
	}
	if err != nil {
		return Objection{}, fmt.Errorf("%s: load objection: %w", t.name, err)
	}
	if !s.decide(v, policy.ReadObjection, &o, now).Allowed {
		return Objection{}, s.hidden(v, id, now)
	}
	if res := s.decide(v, t.action, &o, now); !res.Allowed {
		return Objection{}, refused(res)
	}
	allowed := false
	for _, st := range t.from {
		allowed = allowed || o.Status == st
	}
	if !allowed {
		names := make([]string, len(t.from))
		for i, st := range t.from {
			names[i] = string(st)
		}
		return Objection{}, badInput("status: objection %s is %s; %s applies only to an objection in %s",
			o.ID, o.Status, t.name, strings.Join(names, " or ")).With("status", string(o.Status))
	}
	action, note, err := t.apply(ctx, tx, &o, now)
	if err != nil {
		return Objection{}, err
	}
	o.UpdatedAt = now
	_, err = tx.Exec(ctx, `UPDATE objections SET status = $3, outcome = nullif($4, ''), paused = $5, step_started_at = $6,
		due_by = $7, provisional = $8, paused_at = $9, paused_due_by = $10, paused_provisional = $11, remaining_days = $12,
		updated_at = $13 WHERE uscc = $1 AND id = $2`,
		o.USCC, oid, string(o.Status), string(o.Outcome), o.Paused, o.StepStartedAt, o.DueBy, o.Provisional,
		o.pausedAt, o.pausedDueBy, o.pausedProvisional, o.remaining, now)
	if err != nil {
		return Objection{}, fmt.Errorf("%s: update objection: %w", t.name, err)
	}
	if err := appendStep(ctx, tx, &o, v, action, now, note); err != nil {
		return Objection{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Objection{}, fmt.Errorf("%s: commit: %w", t.name, err)
	}
	return o.public(), nil
}

// startStep moves o into status with a deadline of n working days from now; a pause of the
// previous step ends with it.
func (s *Service) startStep(o *row, status Status, n int, now time.Time) error {
	due, prov, err := s.cal.Deadline(now, n)
	if err != nil {
		return s.calendarError(err)
	}
	o.Status, o.StepStartedAt, o.DueBy, o.Provisional = status, now, &due, prov
	o.clearPause()
	return nil
}

// finish moves o into a status without deadline.
func (o *row) finish(status Status, now time.Time) {
	o.Status, o.StepStartedAt, o.DueBy, o.Provisional = status, now, nil, false
	o.clearPause()
}

func (o *row) clearPause() {
	o.Paused, o.pausedAt, o.pausedDueBy, o.pausedProvisional, o.remaining = false, nil, nil, nil, nil
}

// Review is the platform's check (OPERATOR, from PLATFORM_REVIEW). With platformError the
// platform's own error is corrected at once: the record's data is replaced by correctedData
// (required; the previous version is kept), the outcome is CORRECTED and the applicant is to be
// told within NoticeDays working days (NOTIFYING). Otherwise the objection goes to the provider
// of the item, who answers within ProviderDays working days (WITH_PROVIDER); correctedData
// must then be absent.
func (s *Service) Review(ctx context.Context, v policy.Viewer, id string, platformError bool, note string, correctedData json.RawMessage) (Objection, error) {
	note, err := text("note", note)
	if err != nil {
		return Objection{}, err
	}
	hasData := present(correctedData)
	switch {
	case platformError && !hasData:
		return Objection{}, badInput("correctedData: required when platformError is true: the corrected record data, a JSON object")
	case !platformError && hasData:
		return Objection{}, badInput("correctedData: only with platformError true; the provider corrects its own records")
	}
	return s.run(ctx, v, id, transition{name: "reviewObjection", action: policy.ReviewObjection, from: []Status{PlatformReview},
		apply: func(ctx context.Context, tx pgx.Tx, o *row, now time.Time) (string, string, error) {
			if !platformError {
				return actReviewed, "forwarded to the provider: " + note, s.startStep(o, WithProvider, ProviderDays, now)
			}
			if err := s.correct(ctx, tx, o, correctedData, now); err != nil {
				return "", "", err
			}
			o.Outcome = Corrected
			return actReviewed, "platform error corrected: " + note, s.startStep(o, Notifying, NoticeDays, now)
		}})
}

// Answer is the provider's answer (PROVIDER of the item, from WITH_PROVIDER): CORRECTED replaces
// the record's data by correctedData (required; the previous version is kept), UPHELD leaves it,
// DELETED_UNVERIFIABLE deletes it with note as the reason (the record then stays visible only to
// the subject, the provider and operators, annotated DELETED). The applicant is then to be told
// within NoticeDays working days (NOTIFYING).
func (s *Service) Answer(ctx context.Context, v policy.Viewer, id string, outcome Outcome, note string, correctedData json.RawMessage) (Objection, error) {
	note, err := text("note", note)
	if err != nil {
		return Objection{}, err
	}
	hasData := present(correctedData)
	switch outcome {
	case Corrected:
		if !hasData {
			return Objection{}, badInput("correctedData: required when the outcome is CORRECTED: the corrected record data, a JSON object")
		}
	case Upheld, DeletedUnverifiable:
		if hasData {
			return Objection{}, badInput("correctedData: only with the outcome CORRECTED")
		}
	default:
		return Objection{}, badInput("outcome: %q is not CORRECTED, UPHELD or DELETED_UNVERIFIABLE", clip(string(outcome), 40))
	}
	return s.run(ctx, v, id, transition{name: "answerObjection", action: policy.AnswerObjection, from: []Status{WithProvider},
		apply: func(ctx context.Context, tx pgx.Tx, o *row, now time.Time) (string, string, error) {
			switch outcome {
			case Corrected:
				if err := s.correct(ctx, tx, o, correctedData, now); err != nil {
					return "", "", err
				}
			case DeletedUnverifiable:
				tag, err := tx.Exec(ctx, `UPDATE records SET deleted_at = $3, deletion_reason = $4 WHERE uscc = $1 AND id = $2`,
					o.USCC, o.RecordID, now, note)
				if err != nil {
					return "", "", fmt.Errorf("answerObjection: delete record: %w", err)
				}
				if tag.RowsAffected() == 0 {
					return "", "", badInput("record %s no longer exists", o.RecordID)
				}
			}
			o.Outcome = outcome
			return actAnswered, string(outcome) + ": " + note, s.startStep(o, Notifying, NoticeDays, now)
		}})
}

// Notify records that the applicant was told the outcome (OPERATOR, from NOTIFYING): the
// objection is CLOSED and the record's UNDER_OBJECTION annotation is cleared unless another
// objection on it is open.
func (s *Service) Notify(ctx context.Context, v policy.Viewer, id string) (Objection, error) {
	return s.run(ctx, v, id, transition{name: "notifyObjection", action: policy.NotifyObjection, from: []Status{Notifying},
		apply: func(ctx context.Context, tx pgx.Tx, o *row, now time.Time) (string, string, error) {
			_, err := tx.Exec(ctx, `UPDATE records SET under_objection = false WHERE uscc = $1 AND id = $2
				AND NOT EXISTS (SELECT 1 FROM objections WHERE uscc = $1 AND record_id = $2 AND id <> $3
					AND status IN ('PLATFORM_REVIEW', 'WITH_PROVIDER', 'NOTIFYING'))`, o.USCC, o.RecordID, o.ID)
			if err != nil {
				return "", "", fmt.Errorf("notifyObjection: clear annotation: %w", err)
			}
			o.finish(Closed, now)
			return actNotified, "applicant told the outcome " + string(o.Outcome), nil
		}})
}

// Dispute transfers a CLOSED objection whose applicant still disagrees to the competent
// department (the applicant ENTERPRISE): TRANSFERRED is final.
func (s *Service) Dispute(ctx context.Context, v policy.Viewer, id, reason string) (Objection, error) {
	reason, err := text("reason", reason)
	if err != nil {
		return Objection{}, err
	}
	return s.run(ctx, v, id, transition{name: "disputeObjection", action: policy.DisputeObjection, from: []Status{Closed},
		apply: func(_ context.Context, _ pgx.Tx, o *row, now time.Time) (string, string, error) {
			o.finish(Transferred, now)
			return actDisputed, reason, nil
		}})
}

var activeStatuses = []Status{PlatformReview, WithProvider, Notifying}

// Pause stops the clock of the current step (OPERATOR; inspection, testing, expert review):
// DueBy becomes nil and the working days left, those in (pause date, due date], are kept.
// Pausing a paused objection is BAD_INPUT.
func (s *Service) Pause(ctx context.Context, v policy.Viewer, id, reason string) (Objection, error) {
	reason, err := text("reason", reason)
	if err != nil {
		return Objection{}, err
	}
	return s.run(ctx, v, id, transition{name: "pauseObjection", action: policy.PauseObjection, from: activeStatuses,
		apply: func(_ context.Context, _ pgx.Tx, o *row, now time.Time) (string, string, error) {
			if o.Paused {
				return "", "", badInput("objection %s is already paused", o.ID)
			}
			due := *o.DueBy
			left := 0
			if !now.After(due) {
				n, _, err := s.cal.WorkingDaysBetween(now, due)
				if err != nil {
					return "", "", s.calendarError(err)
				}
				left = n
			}
			prov := o.Provisional
			o.Paused, o.pausedAt, o.pausedDueBy, o.pausedProvisional, o.remaining = true, &now, &due, &prov, &left
			o.DueBy, o.Provisional = nil, false
			return actPaused, fmt.Sprintf("%s (%d working days left)", reason, left), nil
		}})
}

// Resume restarts the clock of a paused step (OPERATOR): the working days left count again
// from the next working day, so DueBy is the end of the left-th working day after the resume
// date (the end of the resume day itself when none were left). A step that was already overdue
// when it was paused keeps its passed deadline. Resuming a running objection is BAD_INPUT.
func (s *Service) Resume(ctx context.Context, v policy.Viewer, id string) (Objection, error) {
	return s.run(ctx, v, id, transition{name: "resumeObjection", action: policy.PauseObjection, from: activeStatuses,
		apply: func(_ context.Context, _ pgx.Tx, o *row, now time.Time) (string, string, error) {
			if !o.Paused {
				return "", "", badInput("objection %s is not paused", o.ID)
			}
			var due time.Time
			var prov bool
			if o.pausedAt.After(*o.pausedDueBy) {
				due, prov = *o.pausedDueBy, *o.pausedProvisional
			} else {
				var err error
				if due, prov, err = s.cal.Deadline(now, *o.remaining); err != nil {
					return "", "", s.calendarError(err)
				}
			}
			left := *o.remaining
			o.clearPause()
			o.StepStartedAt, o.DueBy, o.Provisional = now, &due, prov
			return actResumed, fmt.Sprintf("%d working days left", left), nil
		}})
}

// present reports whether a JSON argument was given (not absent, not null).
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// correct replaces the data of o's record by data, keeping the previous version in
// record_versions (R19: the subject sees the reason for each change in its report).
func (s *Service) correct(ctx context.Context, tx pgx.Tx, o *row, data json.RawMessage, now time.Time) error {
	obj, err := decodeData(data)
	if err != nil {
		return err
	}
	if err := payloadRule(o.Item, obj); err != nil {
		return err
	}
	var occurred time.Time
	var ends *time.Time
	var deleted bool
	err = tx.QueryRow(ctx, `SELECT occurred_on, ends_on, deleted_at IS NOT NULL FROM records WHERE uscc = $1 AND id = $2 FOR UPDATE`,
		o.USCC, o.RecordID).Scan(&occurred, &ends, &deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return badInput("record %s no longer exists", o.RecordID)
	}
	if err != nil {
		return fmt.Errorf("correct record %s: %w", o.RecordID, err)
	}
	if deleted {
		return badInput("record %s has been deleted; it cannot be corrected", o.RecordID)
	}
	endsText := ""
	if ends != nil {
		endsText = ends.Format(time.DateOnly)
	}
	hash, err := ingest.ContentHash(occurred.Format(time.DateOnly), endsText, data)
	if err != nil {
		return badInput("correctedData: %v", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO record_versions (uscc, record_id, version, occurred_on, ends_on, data, superseded_at)
		SELECT uscc, id, version, occurred_on, ends_on, data, $3 FROM records WHERE uscc = $1 AND id = $2`, o.USCC, o.RecordID, now)
	if err != nil {
		return fmt.Errorf("correct record %s: keep version: %w", o.RecordID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE records SET data = $3, content_hash = $4, version = version + 1, updated_at = $5
		WHERE uscc = $1 AND id = $2`, o.USCC, o.RecordID, []byte(data), hash, now)
	if err != nil {
		return fmt.Errorf("correct record %s: %w", o.RecordID, err)
	}
	if o.Item == ingest.Registration {
		if _, err := tx.Exec(ctx, enterpriseSQL, o.USCC, ingest.Registration, now); err != nil {
			return fmt.Errorf("correct record %s: refresh enterprise: %w", o.RecordID, err)
		}
	}
	return nil
}

// enterpriseSQL refreshes an enterprise from its latest registration record, as the loader does.
const enterpriseSQL = `UPDATE enterprises e
SET name = r.data->>'name', region_code = r.data->>'region_code', industry_code = r.data->>'industry_code',
    size = r.data->>'size', subject_type = r.data->>'subject_type', updated_at = $3
FROM (
	SELECT data FROM records WHERE uscc = $1 AND item = $2
	ORDER BY occurred_on DESC, updated_at DESC, id DESC LIMIT 1
) r
WHERE e.uscc = $1`

// decodeData decodes corrected record data: one JSON object, numbers kept exact.
func decodeData(raw json.RawMessage) (map[string]any, error) {
	if len(raw) > ingest.MaxDataBytes {
		return nil, badInput("correctedData: larger than %d bytes", ingest.MaxDataBytes)
	}
	if !utf8.Valid(raw) {
		return nil, badInput("correctedData: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badInput("correctedData: not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badInput("correctedData: not valid JSON: unexpected data after the object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badInput("correctedData: must be a JSON object")
	}
	return obj, nil
}

// payloadRule applies the payload fields the platform relies on (API.md, "Record payloads"):
// a correction must keep a record usable the way a load would.
func payloadRule(item string, d map[string]any) error {
	switch item {
	case ingest.Registration:
		if name, ok := d["name"].(string); !ok || strings.TrimSpace(name) == "" {
			return badInput("correctedData.name: required, a non-empty string")
		}
	case "admin.penalty":
		switch d["severity"] {
		case "minor", "ordinary", "serious":
		default:
			return badInput("correctedData.severity: required, one of minor, ordinary, serious")
		}
	}
	return nil
}

// Get returns one objection to the applicant, the item's provider or an operator. Anyone else,
// like anyone asking for an unknown id, is refused the same way (FORBIDDEN; NOT_FOUND for
// operators, who see every objection).
func (s *Service) Get(ctx context.Context, v policy.Viewer, id string) (Objection, error) {
	o, err := s.load(ctx, v, id)
	if err != nil {
		return Objection{}, err
	}
	return o.public(), nil
}

func (s *Service) load(ctx context.Context, v policy.Viewer, id string) (row, error) {
	oid, err := parseID("id", id)
	if err != nil {
		return row{}, err
	}
	now := s.now()
	o, err := scanRow(s.pool.QueryRow(ctx, `SELECT `+objectionCols+` FROM objections WHERE id = $1`, oid))
	if errors.Is(err, pgx.ErrNoRows) {
		return row{}, s.hidden(v, id, now)
	}
	if err != nil {
		return row{}, fmt.Errorf("objection %s: %w", oid, err)
	}
	if !s.decide(v, policy.ReadObjection, &o, now).Allowed {
		return row{}, s.hidden(v, id, now)
	}
	return o, nil
}

// History returns the steps of one objection, oldest first, to those who may read it (as Get).
func (s *Service) History(ctx context.Context, v policy.Viewer, id string) ([]Step, error) {
	o, err := s.load(ctx, v, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, at, action, actor_role, actor, status, coalesce(outcome, ''), due_by, coalesce(note, '')
		FROM objection_steps WHERE uscc = $1 AND objection_id = $2 ORDER BY seq`, o.USCC, o.ID)
	if err != nil {
		return nil, fmt.Errorf("objection %s: history: %w", o.ID, err)
	}
	steps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Step, error) {
		var st Step
		var role, status, outcome string
		if err := r.Scan(&st.Seq, &st.At, &st.Action, &role, &st.Actor, &status, &outcome, &st.DueBy, &st.Note); err != nil {
			return Step{}, err
		}
		st.At = st.At.UTC()
		st.ActorRole, st.Status, st.Outcome = policy.Role(role), Status(status), Outcome(outcome)
		if st.DueBy != nil {
			d := st.DueBy.In(shanghai)
			st.DueBy = &d
		}
		return st, nil
	})
	if err != nil {
		return nil, fmt.Errorf("objection %s: history: %w", o.ID, err)
	}
	return steps, nil
}

// DefaultPageSize is the page size of List when first is 0.
const DefaultPageSize = 20

// MaxPageSize is the largest page List returns.
const MaxPageSize = 100

// Page is one page of objections, newest first.
type Page struct {
	Objections []Objection
	HasNext    bool
	EndCursor  string // "" on an empty page
}

// Cursor is the opaque cursor of an objection in a listing.
func Cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// List returns objections newest first: an ENTERPRISE's own, those on a PROVIDER's items, all
// of them for OPERATORs; others are FORBIDDEN. first is 1..MaxPageSize (0: DefaultPageSize);
// after is the EndCursor of the previous page.
func (s *Service) List(ctx context.Context, v policy.Viewer, first int, after string) (Page, error) {
	if first == 0 {
		first = DefaultPageSize
	}
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
			return Page{}, badInput("after: not a cursor returned by objections")
		}
	}
	now := s.now()
	var where string
	var args []any
	switch v.Role {
	case policy.Enterprise:
		where, args = `uscc = $1 AND id < $2`, []any{v.Org, cursor}
	case policy.Provider:
		where, args = `provider = $1 AND id < $2`, []any{v.Org, cursor}
	default:
		if res := policy.Decide(policy.Request{Viewer: v, Action: policy.ReadObjection, Now: now}); !res.Allowed {
			return Page{}, refused(res)
		}
		where, args = `id < $1`, []any{cursor}
	}
	args = append(args, first+1)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM objections WHERE %s ORDER BY id DESC LIMIT $%d`,
		objectionCols, where, len(args)), args...)
	if err != nil {
		return Page{}, fmt.Errorf("list objections: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) { return scanRow(r) })
	if err != nil {
		return Page{}, fmt.Errorf("list objections: %w", err)
	}
	p := Page{HasNext: len(list) > first, Objections: []Objection{}}
	if p.HasNext {
		list = list[:first]
	}
	for i := range list {
		// The scope above is the policy's; each row is still checked against it.
		if !s.decide(v, policy.ReadObjection, &list[i], now).Allowed {
			continue
		}
		p.Objections = append(p.Objections, list[i].public())
	}
	if len(list) > 0 {
		p.EndCursor = Cursor(list[len(list)-1].ID)
	}
	return p, nil
}

// Overdue returns the objections whose running step is past its deadline (OPERATOR): open,
// not paused, DueBy before now; the most overdue first.
func (s *Service) Overdue(ctx context.Context, v policy.Viewer) ([]Objection, error) {
	now := s.now()
	if res := policy.Decide(policy.Request{Viewer: v, Action: policy.ReadObjection, Now: now}); !res.Allowed {
		return nil, refused(res)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+objectionCols+` FROM objections
		WHERE due_by IS NOT NULL AND due_by < $1 AND NOT paused AND status IN ('PLATFORM_REVIEW', 'WITH_PROVIDER', 'NOTIFYING')
		ORDER BY due_by, id`, now)
	if err != nil {
		return nil, fmt.Errorf("overdue objections: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) { return scanRow(r) })
	if err != nil {
		return nil, fmt.Errorf("overdue objections: %w", err)
	}
	out := make([]Objection, len(list))
	for i := range list {
		out[i] = list[i].public()
	}
	return out, nil
}
