package credit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Record is one stored credit record.
type Record struct {
	ID         string
	USCC       string
	Provider   string
	Item       string
	SourceID   string
	OccurredOn time.Time
	EndsOn     *time.Time
	Data       json.RawMessage
	Version    int
	Severity   string
}

// EnterpriseRow is an enterprise as registered.
type EnterpriseRow struct {
	USCC         string
	Name         string
	RegionCode   *string
	IndustryCode *string
	Size         *string
	SubjectType  *string
}

// store runs the read queries of this package.
type store struct{ pool *pgxpool.Pool }

const enterpriseCols = `uscc, name, region_code, industry_code, size, subject_type`

func scanEnterprise(row pgx.Row) (EnterpriseRow, error) {
	var e EnterpriseRow
	err := row.Scan(&e.USCC, &e.Name, &e.RegionCode, &e.IndustryCode, &e.Size, &e.SubjectType)
	return e, err
}

const recordCols = `id::text, uscc, provider, item, source_id, occurred_on, ends_on, data, version, coalesce(data->>'severity', '')`

func scanRecords(rows pgx.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var occ pgtype.Date
		var ends pgtype.Date
		if err := rows.Scan(&r.ID, &r.USCC, &r.Provider, &r.Item, &r.SourceID, &occ, &ends, &r.Data, &r.Version, &r.Severity); err != nil {
			return nil, fmt.Errorf("scan record: %w", err)
		}
		r.OccurredOn = occ.Time
		if ends.Valid {
			t := ends.Time
			r.EndsOn = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}

// enterpriseAndRecords reads an enterprise and the records of the given items (all items when
// items is nil) in one round trip. found is false when no enterprise has the code.
func (s *store) enterpriseAndRecords(ctx context.Context, code string, items []string) (e EnterpriseRow, recs []Record, found bool, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+enterpriseCols+` FROM enterprises WHERE uscc = $1`, code)
	b.Queue(`SELECT `+recordCols+` FROM records WHERE uscc = $1 AND ($2::text[] IS NULL OR item = ANY($2)) ORDER BY item, occurred_on DESC, source_id`, code, items)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	e, err = scanEnterprise(br.QueryRow())
	switch {
	case err == pgx.ErrNoRows:
		found = false
	case err != nil:
		return e, nil, false, fmt.Errorf("read enterprise: %w", err)
	default:
		found = true
	}
	rows, err := br.Query()
	if err != nil {
		return e, nil, false, fmt.Errorf("read records: %w", err)
	}
	recs, err = scanRecords(rows)
	if err != nil {
		return e, nil, false, err
	}
	if err := br.Close(); err != nil {
		return e, nil, false, fmt.Errorf("read enterprise: %w", err)
	}
	return e, recs, found, nil
}

func (s *store) enterprise(ctx context.Context, code string) (EnterpriseRow, bool, error) {
	e, err := scanEnterprise(s.pool.QueryRow(ctx, `SELECT `+enterpriseCols+` FROM enterprises WHERE uscc = $1`, code))
	if err == pgx.ErrNoRows {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("read enterprise: %w", err)
	}
	return e, true, nil
}

// recordsOf reads the records of several enterprises at once (for batched section loading).
func (s *store) recordsOf(ctx context.Context, codes []string) (map[string][]Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordCols+` FROM records WHERE uscc = ANY($1) ORDER BY uscc, item, occurred_on DESC, source_id`, codes)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Record, len(codes))
	for _, c := range codes {
		out[c] = nil // present even when the enterprise has no records
	}
	for _, r := range recs {
		out[r.USCC] = append(out[r.USCC], r)
	}
	return out, nil
}

// Filter selects enterprises in a search.
type Filter struct {
	Name     string // substring of the name
	Region   string // region code prefix (e.g. 2101 for Shenyang)
	Industry string // industry code prefix (e.g. C34)
}

func (s *store) search(ctx context.Context, f Filter, after string, limit int) ([]EnterpriseRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+enterpriseCols+` FROM enterprises
		WHERE ($1 = '' OR name LIKE '%' || $1 || '%')
		  AND ($2 = '' OR region_code LIKE $2 || '%')
		  AND ($3 = '' OR industry_code LIKE $3 || '%')
		  AND uscc > $4
		ORDER BY uscc
		LIMIT $5`, escapeLike(f.Name), escapeLike(f.Region), escapeLike(f.Industry), after, limit)
	if err != nil {
		return nil, fmt.Errorf("search enterprises: %w", err)
	}
	defer rows.Close()
	var out []EnterpriseRow
	for rows.Next() {
		e, err := scanEnterprise(rows)
		if err != nil {
			return nil, fmt.Errorf("scan enterprise: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search enterprises: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}
