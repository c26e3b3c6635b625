package usage

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"creditd/internal/apperr"
)

// Summary counts a provider's usage events of one day (Asia/Shanghai), institution, item,
// action and purpose.
type Summary struct {
	Day         string // YYYY-MM-DD in Asia/Shanghai
	Institution string
	Item        string
	Action      Action
	Purpose     *string
	Count       int
}

// MaxSummaryWindow is the longest [from, to) Summaries accepts.
const MaxSummaryWindow = 366 * 24 * time.Hour

// Summaries counts the usage of provider's items in [from, to), ordered by day, institution,
// item, action and purpose (none first). A bad window is BAD_INPUT.
func Summaries(ctx context.Context, db Querier, provider string, from, to time.Time) ([]Summary, error) {
	if provider == "" {
		return nil, errors.New("usage summaries: empty provider")
	}
	if !to.After(from) {
		return nil, apperr.New(apperr.BadInput, "to: must be after from").With("field", "to")
	}
	if to.Sub(from) > MaxSummaryWindow {
		return nil, apperr.New(apperr.BadInput, "to: the window may span at most 366 days").With("field", "to")
	}
	rows, err := db.Query(ctx, `
		SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, institution, item, action, purpose, count(*)
		FROM usage_events
		WHERE provider = $1 AND at >= $2 AND at < $3
		GROUP BY 1, 2, 3, 4, 5
		ORDER BY 1, 2, 3, 4, 5 NULLS FIRST`, provider, from, to)
	if err != nil {
		return nil, fmt.Errorf("usage summaries of %s: %w", provider, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var s Summary
		err := r.Scan(&s.Day, &s.Institution, &s.Item, &s.Action, &s.Purpose, &s.Count)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("usage summaries of %s: %w", provider, err)
	}
	return out, nil
}

// EventFilter selects the events of a listing: exactly one of Provider (the usage of its items)
// and USCC (the usage of data about this subject), optionally within [From, To) (zero: open).
type EventFilter struct {
	Provider string
	USCC     string
	From, To time.Time
}

// EventPage is one page of a listing, newest first.
type EventPage struct {
	Events    []Event
	HasNext   bool
	EndCursor string // cursor of the last event; empty when the page is empty
}

// MaxPageSize is the largest page Events returns.
const MaxPageSize = 100

// Events lists the events f selects, newest first (by time, then id), first at a time, after
// the cursor after (empty: from the newest). A bad cursor or page size is BAD_INPUT.
func Events(ctx context.Context, db Querier, f EventFilter, first int, after string) (EventPage, error) {
	if first < 1 || first > MaxPageSize {
		return EventPage{}, apperr.New(apperr.BadInput, "first: must be between 1 and %d", MaxPageSize).With("field", "first")
	}
	var (
		where []string
		args  []any
	)
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch {
	case (f.Provider == "") == (f.USCC == ""):
		return EventPage{}, errors.New("usage events: the filter needs exactly one of provider and uscc")
	case f.Provider != "":
		where = append(where, "provider = "+param(f.Provider))
	default:
		where = append(where, "uscc = "+param(f.USCC))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+param(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+param(f.To))
	}
	if after != "" {
		at, id, err := parseCursor(after)
		if err != nil {
			return EventPage{}, apperr.New(apperr.BadInput, "after: not a cursor returned by this listing").With("field", "after")
		}
		where = append(where, "(at, id) < ("+param(at)+"::timestamptz, "+param(id)+"::uuid)")
	}
	limit := param(first + 1)
	rows, err := db.Query(ctx, `SELECT `+eventCols+` FROM usage_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY at DESC, id DESC LIMIT `+limit, args...)
	if err != nil {
		return EventPage{}, fmt.Errorf("list usage events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
	if err != nil {
		return EventPage{}, fmt.Errorf("list usage events: %w", err)
	}
	p := EventPage{HasNext: len(events) > first}
	if p.HasNext {
		events = events[:first]
	}
	p.Events = events
	if len(events) > 0 {
		p.EndCursor = EventCursor(events[len(events)-1])
	}
	return p, nil
}

// EventCursor is the opaque cursor of an event in a listing.
func EventCursor(e Event) string {
	return base64.RawURLEncoding.EncodeToString([]byte("u1:" + strconv.FormatInt(e.At.UnixMicro(), 10) + ":" + e.ID))
}

func parseCursor(s string) (time.Time, uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, uuid.UUID{}, err
	}
	rest, ok := strings.CutPrefix(string(b), "u1:")
	micros, id, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return time.Time{}, uuid.UUID{}, errors.New("malformed cursor")
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return time.Time{}, uuid.UUID{}, err
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return time.Time{}, uuid.UUID{}, err
	}
	return time.UnixMicro(us).UTC(), u, nil
}
