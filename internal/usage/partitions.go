package usage

import (
	"context"
	"fmt"
	"time"
)

// EnsurePartitions creates the monthly partitions of the usage log (months in UTC) from the
// month of now through monthsAhead months later, unless they exist. Call it at start-up and
// periodically; the recorder also creates a missing partition before writing into it.
func EnsurePartitions(ctx context.Context, db Querier, now time.Time, monthsAhead int) error {
	if monthsAhead < 0 {
		return fmt.Errorf("ensure usage partitions: monthsAhead %d < 0", monthsAhead)
	}
	first := monthOf(now)
	for m := 0; m <= monthsAhead; m++ {
		if err := ensurePartition(ctx, db, first.AddDate(0, m, 0)); err != nil {
			return err
		}
	}
	return nil
}

func ensurePartition(ctx context.Context, db Querier, month time.Time) error {
	if _, err := db.Exec(ctx, `SELECT usage_events_ensure_partition($1::date)`, month.Format(time.DateOnly)); err != nil {
		return fmt.Errorf("ensure usage partition %s: %w", month.Format("2006-01"), err)
	}
	return nil
}

// monthOf returns the first instant of t's month in UTC.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
