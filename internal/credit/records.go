package credit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/catalog"
	"creditd/internal/grants"
	"creditd/internal/policy"
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
	// State that disclosure depends on.
	UnderObjection bool
	Repaired       bool
	Deleted        bool
	Withdrawn      bool
	DeletionReason string
}

// SelfReported reports whether the enterprise itself supplied the record.
func (r Record) SelfReported() bool { return r.Provider == catalog.SelfProvider }

// policyRecord is the record's state as the access policy sees it.
func (r Record) policyRecord() *policy.Record {
	return &policy.Record{OccurredOn: r.OccurredOn, EndsOn: r.EndsOn, Severity: r.Severity, Repaired: r.Repaired,
		Deleted: r.Deleted, Withdrawn: r.Withdrawn, UnderObjection: r.UnderObjection, SelfReported: r.SelfReported()}
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

const recordCols = `id::text, uscc, provider, item, source_id, occurred_on, ends_on, data, version, coalesce(data->>'severity', ''),
	under_objection, repaired_at IS NOT NULL, deleted_at IS NOT NULL, withdrawn_at IS NOT NULL, coalesce(deletion_reason, '')`

func scanRecords(rows pgx.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var occ pgtype.Date
		var ends pgtype.Date
		if err := rows.Scan(&r.ID, &r.USCC, &r.Provider, &r.Item, &r.SourceID, &occ, &ends, &r.Data, &r.Version, &r.Severity,
			&r.UnderObjection, &r.Repaired, &r.Deleted, &r.Withdrawn, &r.DeletionReason); err != nil {
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

// facts are what the policy needs to know about one enterprise for one viewer: its records
// and, for an institution, the grants the enterprise gave it.
type facts struct {
	Records []Record
	Grants  []policy.Grant
}

// enterpriseAndFacts reads an enterprise, its records and its grants to institution (none when
// institution is "") in one round trip. found is false when no enterprise has the code.
func (s *store) enterpriseAndFacts(ctx context.Context, code, institution string) (e EnterpriseRow, f facts, found bool, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+enterpriseCols+` FROM enterprises WHERE uscc = $1`, code)
	b.Queue(`SELECT `+recordCols+` FROM records WHERE uscc = $1 ORDER BY item, occurred_on DESC, source_id`, code)
	if institution != "" {
		b.Queue(grants.ForInstitution, code, institution)
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	e, err = scanEnterprise(br.QueryRow())
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		found = false
	case err != nil:
		return e, f, false, fmt.Errorf("read enterprise: %w", err)
	default:
		found = true
	}
	rows, err := br.Query()
	if err != nil {
		return e, f, false, fmt.Errorf("read records: %w", err)
	}
	if f.Records, err = scanRecords(rows); err != nil {
		return e, f, false, err
	}
	if institution != "" {
		rows, err := br.Query()
		if err != nil {
			return e, f, false, fmt.Errorf("read grants: %w", err)
		}
		gs, err := grants.ScanAll(rows)
		if err != nil {
			return e, f, false, err
		}
		f.Grants = policyGrants(gs)
	}
	if err := br.Close(); err != nil {
		return e, f, false, fmt.Errorf("read enterprise: %w", err)
	}
	return e, f, found, nil
}

func policyGrants(gs []grants.Grant) []policy.Grant {
	out := make([]policy.Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Policy())
	}
	return out
}

func (s *store) enterprise(ctx context.Context, code string) (EnterpriseRow, bool, error) {
	e, err := scanEnterprise(s.pool.QueryRow(ctx, `SELECT `+enterpriseCols+` FROM enterprises WHERE uscc = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("read enterprise: %w", err)
	}
	return e, true, nil
}

// factsOf reads the facts of several enterprises for one viewer at once, in one round trip
// (for batched section loading).
func (s *store) factsOf(ctx context.Context, codes []string, institution string) (map[string]facts, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+recordCols+` FROM records WHERE uscc = ANY($1) ORDER BY uscc, item, occurred_on DESC, source_id`, codes)
	if institution != "" {
		b.Queue(`SELECT `+grants.Columns+` FROM grants WHERE uscc = ANY($1) AND institution = $2`, codes, institution)
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]facts, len(codes))
	for _, c := range codes {
		out[c] = facts{} // present even when the enterprise has no records
	}
	for _, r := range recs {
		f := out[r.USCC]
		f.Records = append(f.Records, r)
		out[r.USCC] = f
	}
	if institution != "" {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		gs, err := grants.ScanAll(rows)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			f := out[g.Enterprise]
			f.Grants = append(f.Grants, g.Policy())
			out[g.Enterprise] = f
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
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

// record reads one record by id.
func (s *store) record(ctx context.Context, id string) (Record, bool, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Record{}, false, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+recordCols+` FROM records WHERE id = $1`, id)
	if err != nil {
		return Record{}, false, fmt.Errorf("read record: %w", err)
	}
	recs, err := scanRecords(rows)
	if err != nil || len(recs) == 0 {
		return Record{}, false, err
	}
	return recs[0], true, nil
}
