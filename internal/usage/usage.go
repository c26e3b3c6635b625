// Package usage keeps the usage log: one event per disclosure, committed before the response
// leaves ("no record, no data"), sealed into a tamper-evident hash chain per provider with signed
// checkpoints, and fed back to providers (summaries, detail listing, signed webhooks) and to the
// subject (its access log).
//
// The log is append-only: this package has no update or delete path for events, and the
// database refuses them.
package usage

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Action is what a usage event records.
type Action string

// The actions of the public contract (UsageAction).
const (
	View         Action = "VIEW"
	Report       Action = "REPORT"
	Verify       Action = "VERIFY"
	Score        Action = "SCORE"
	Batch        Action = "BATCH"
	OperatorView Action = "OPERATOR_VIEW"
)

// Valid reports whether a is one of the actions above.
func (a Action) Valid() bool {
	switch a {
	case View, Report, Verify, Score, Batch, OperatorView:
		return true
	}
	return false
}

// Platform is the institution recorded for operators' reads (action OPERATOR_VIEW).
const Platform = "PLATFORM"

// MaxClockSkew bounds how far an event's At may be from the recorder's clock. It keeps every
// event inside the sequencer's lookback, so that no committed event escapes the chain.
const MaxClockSkew = time.Minute

// Event is one disclosure.
type Event struct {
	ID          string    // UUID; Record assigns a UUIDv7 when empty
	At          time.Time // Record assigns the current time when zero
	Institution string    // institution code, or Platform for operators
	Actor       string    // the token's sub
	USCC        string    // the subject
	Item        string    // catalog item code
	Provider    string    // the item's provider
	Action      Action
	Purpose     string // empty: none
	GrantID     string // empty: none; else a UUID
	RecordCount int
	RequestID   string
}

// ErrInvalidEvent is wrapped by the errors Record returns for events it refuses to queue.
var ErrInvalidEvent = errors.New("invalid usage event")

// validate checks an event whose ID and At are set.
func (e Event) validate(now time.Time) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
	}
	if _, err := uuid.Parse(e.ID); err != nil {
		return bad("id %q is not a UUID", e.ID)
	}
	if d := e.At.Sub(now); d > MaxClockSkew || d < -MaxClockSkew {
		return bad("event %s: at %s is more than %s from now", e.ID, e.At.Format(time.RFC3339), MaxClockSkew)
	}
	for _, f := range []struct{ name, v string }{
		{"institution", e.Institution}, {"actor", e.Actor}, {"uscc", e.USCC}, {"item", e.Item},
		{"provider", e.Provider}, {"requestId", e.RequestID},
	} {
		if f.v == "" {
			return bad("event %s: %s is empty", e.ID, f.name)
		}
	}
	for _, s := range []string{e.Institution, e.Actor, e.USCC, e.Item, e.Provider, e.Purpose, e.RequestID} {
		if !cleanText(s) {
			return bad("event %s: a field is not valid UTF-8 text or is longer than %d bytes", e.ID, maxText)
		}
	}
	if !e.Action.Valid() {
		return bad("event %s: unknown action %q", e.ID, e.Action)
	}
	if (e.Action == OperatorView) != (e.Institution == Platform) {
		return bad("event %s: action %s with institution %q (%s is for the platform's operators only)", e.ID, e.Action, e.Institution, OperatorView)
	}
	if e.GrantID != "" {
		if _, err := uuid.Parse(e.GrantID); err != nil {
			return bad("event %s: grant id %q is not a UUID", e.ID, e.GrantID)
		}
	}
	if e.RecordCount < 0 || e.RecordCount > 1<<31-1 {
		return bad("event %s: record count %d out of range", e.ID, e.RecordCount)
	}
	return nil
}

const maxText = 1024

// cleanText reports whether s can be stored as text: valid UTF-8, no NUL byte, bounded.
func cleanText(s string) bool {
	if len(s) > maxText || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

// Querier runs queries: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// eventCols are the stored columns of an event, in scanEvent's order.
const eventCols = `id, at, institution, actor, uscc, item, provider, action, purpose, grant_id, record_count, request_id`

func scanEvent(row pgx.Row) (Event, error) {
	var (
		e              Event
		purpose, grant *string
	)
	if err := row.Scan(&e.ID, &e.At, &e.Institution, &e.Actor, &e.USCC, &e.Item, &e.Provider, &e.Action,
		&purpose, &grant, &e.RecordCount, &e.RequestID); err != nil {
		return Event{}, err
	}
	e.At = e.At.UTC()
	if purpose != nil {
		e.Purpose = *purpose
	}
	if grant != nil {
		e.GrantID = *grant
	}
	return e, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
