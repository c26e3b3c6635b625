// Package credit reads enterprises, their sections of credit information and the standardized
// credit report (标准化信用信息报告). It loads the facts and asks policy.Decide about each
// section and record; it never decides access itself.
package credit

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vikstrous/dataloadgen"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/policy"
)

// Section is one catalog item's section as the viewer may see it.
type Section struct {
	Item     *catalog.Item
	Decision policy.Decision
	Reason   string
	// Records is nil unless Decision is VISIBLE.
	Records []ShownRecord
}

// ShownRecord is a record with the annotations this viewer sees.
type ShownRecord struct {
	Record
	Annotations []string
}

// Report is a standardized credit report.
type Report struct {
	ID          string
	Enterprise  EnterpriseRow
	GeneratedAt time.Time
	Purpose     string
	Sections    []Section
}

// Page is one page of a search.
type Page struct {
	Enterprises []EnterpriseRow
	HasNext     bool
	EndCursor   string
}

// Service answers credit-information reads.
type Service struct {
	st  store
	cat *catalog.Catalog
	now func() time.Time
}

// NewService returns a service reading from pool; now is the clock (time.Now when nil).
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: store{pool: pool}, cat: cat, now: now}
}

func refused(res policy.Result) error {
	return apperr.New(res.Code, "%s", res.Reason)
}

// Enterprise looks up one enterprise; nil (and no error) when no enterprise has the code.
func (s *Service) Enterprise(ctx context.Context, v policy.Viewer, code, purpose string) (*EnterpriseRow, error) {
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: s.now()}); !res.Allowed {
		return nil, refused(res)
	}
	e, found, err := s.st.enterprise(ctx, code)
	if err != nil || !found {
		return nil, err
	}
	return &e, nil
}

// MaxPage is the largest page a search returns.
const MaxPage = 100

// Search lists enterprises matching f, ordered by code, after the cursor.
func (s *Service) Search(ctx context.Context, v policy.Viewer, f Filter, purpose string, first int, after string) (Page, error) {
	if res := policy.Decide(policy.Request{Viewer: v, Action: policy.Search, Purpose: purpose, Now: s.now()}); !res.Allowed {
		return Page{}, refused(res)
	}
	if first < 1 || first > MaxPage {
		return Page{}, apperr.New(apperr.BadInput, "first must be between 1 and %d", MaxPage)
	}
	start := ""
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil || len(b) == 0 {
			return Page{}, apperr.New(apperr.BadInput, "after is not a cursor returned by this query")
		}
		start = string(b)
	}
	rows, err := s.st.search(ctx, f, start, first+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{HasNext: len(rows) > first}
	if p.HasNext {
		rows = rows[:first]
	}
	p.Enterprises = rows
	if len(rows) > 0 {
		p.EndCursor = Cursor(rows[len(rows)-1].USCC)
	}
	return p, nil
}

// Cursor is the opaque cursor of an enterprise in a search.
func Cursor(code string) string { return base64.RawURLEncoding.EncodeToString([]byte(code)) }

// items resolves item codes (all items when codes is nil); an unknown code is BAD_INPUT.
func (s *Service) items(codes []string) ([]*catalog.Item, error) {
	if codes == nil {
		return s.cat.Items(), nil
	}
	out := make([]*catalog.Item, 0, len(codes))
	for _, c := range codes {
		it, ok := s.cat.Item(c)
		if !ok {
			return nil, apperr.New(apperr.BadInput, "item %q is not in the catalog", c).With("item", c)
		}
		out = append(out, it)
	}
	return out, nil
}

// Sections returns the sections of the given items (every item when items is nil) about the
// enterprise code. The enterprise must exist (the caller looked it up).
func (s *Service) Sections(ctx context.Context, v policy.Viewer, code, purpose string, items []string) ([]Section, error) {
	its, err := s.items(items)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: now}); !res.Allowed {
		return nil, refused(res)
	}
	var recs []Record
	if anyVisible(v, code, purpose, its, now) {
		if l, ok := ctx.Value(loaderKey{}).(*dataloadgen.Loader[string, []Record]); ok {
			recs, err = l.Load(ctx, code)
		} else {
			var m map[string][]Record
			m, err = s.st.recordsOf(ctx, []string{code})
			recs = m[code]
		}
		if err != nil {
			return nil, err
		}
	}
	return s.assemble(v, code, purpose, its, recs, now), nil
}

func anyVisible(v policy.Viewer, code, purpose string, its []*catalog.Item, now time.Time) bool {
	for _, it := range its {
		if policy.Decide(policy.Request{Viewer: v, Subject: code, Item: it, Action: policy.ViewSection, Purpose: purpose, Now: now}).Decision == policy.Visible {
			return true
		}
	}
	return false
}

// assemble builds the sections from the enterprise's records, asking the policy about each
// section and each record.
func (s *Service) assemble(v policy.Viewer, code, purpose string, its []*catalog.Item, recs []Record, now time.Time) []Section {
	byItem := map[string][]Record{}
	for _, r := range recs {
		byItem[r.Item] = append(byItem[r.Item], r)
	}
	out := make([]Section, 0, len(its))
	for _, it := range its {
		base := policy.Request{Viewer: v, Subject: code, Item: it, Purpose: purpose, Now: now}
		req := base
		req.Action = policy.ViewSection
		res := policy.Decide(req)
		sec := Section{Item: it, Decision: res.Decision, Reason: res.Reason}
		if res.Decision == policy.Visible {
			sec.Records = []ShownRecord{}
			for _, r := range byItem[it.Code] {
				rr := base
				rr.Action = policy.ViewRecord
				rr.Record = &policy.Record{OccurredOn: r.OccurredOn, EndsOn: r.EndsOn, Severity: r.Severity}
				if d := policy.Decide(rr); d.Allowed {
					sec.Records = append(sec.Records, ShownRecord{Record: r, Annotations: d.Annotations})
				}
			}
		}
		out = append(out, sec)
	}
	return out
}

// Report produces the standardized credit report of an enterprise: every catalog item with the
// viewer's decision and the records it may see, read in one database round trip.
func (s *Service) Report(ctx context.Context, v policy.Viewer, code, purpose string) (Report, error) {
	now := s.now()
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: now}); !res.Allowed {
		return Report{}, refused(res)
	}
	e, recs, found, err := s.st.enterpriseAndRecords(ctx, code, nil)
	if err != nil {
		return Report{}, err
	}
	if !found {
		return Report{}, apperr.New(apperr.NotFound, "no enterprise has this unified social credit code")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Report{}, fmt.Errorf("report id: %w", err)
	}
	return Report{
		ID:          id.String(),
		Enterprise:  e,
		GeneratedAt: now.UTC().Truncate(time.Second),
		Purpose:     purpose,
		Sections:    s.assemble(v, code, purpose, s.cat.Items(), recs, now),
	}, nil
}

type loaderKey struct{}

// WithLoader returns a context whose section reads of several enterprises are batched into
// one query (for example the sections of every enterprise in a search page).
func (s *Service) WithLoader(ctx context.Context) context.Context {
	l := dataloadgen.NewMappedLoader(func(ctx context.Context, codes []string) (map[string][]Record, error) {
		return s.st.recordsOf(ctx, codes)
	}, dataloadgen.WithWait(time.Millisecond))
	return context.WithValue(ctx, loaderKey{}, l)
}
