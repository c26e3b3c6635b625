// Package credit reads enterprises, their sections of credit information and the standardized
// credit report (标准化信用信息报告). It loads the facts and asks policy.Decide about each
// section and record; it never decides access itself.
package credit

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vikstrous/dataloadgen"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/connector"
	"creditd/internal/disclosure"
	"creditd/internal/policy"
	"creditd/internal/usage"
)

// Section is one catalog item's section as the viewer may see it.
type Section struct {
	Item     *catalog.Item
	Decision policy.Decision
	Reason   string
	// Records is nil unless Decision is VISIBLE.
	Records []ShownRecord
	// GrantID is the grant under which an institution sees the section, if any.
	GrantID string
	// Live is true when the records were fetched from the provider for this answer.
	Live bool
}

// LiveSource fetches provider_api records from their provider (interface call, 接口调用).
type LiveSource interface {
	FetchRecords(ctx context.Context, provider, item, uscc string) ([]connector.Record, error)
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
	st      store
	cat     *catalog.Catalog
	liveSrc LiveSource
	now     func() time.Time
	logger  *slog.Logger
}

// Options configure a Service.
type Options struct {
	// Live fetches provider_api items; nil makes them UNAVAILABLE.
	Live   LiveSource
	Now    func() time.Time // time.Now when nil
	Logger *slog.Logger
}

// NewService returns a service reading from pool.
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: store{pool: pool}, cat: cat, liveSrc: o.Live, now: o.Now, logger: o.Logger}
}

// refused turns a policy refusal into the caller's error and logs it as a security event
// (without the subject's code or any data).
func (s *Service) refused(ctx context.Context, v policy.Viewer, res policy.Result) error {
	s.logger.InfoContext(ctx, "security: access refused", "role", v.Role, "org", v.Org, "code", res.Code, "reason", res.Reason)
	return apperr.New(res.Code, "%s", res.Reason)
}

// disclose adds one usage event per section whose records an institution or an operator is
// about to receive; it fails closed when the request cannot record them. The subject's and
// providers' own reads are not uses of the data and are not recorded.
func (s *Service) disclose(ctx context.Context, v policy.Viewer, code, purpose string, action usage.Action, secs []Section) error {
	inst := v.Org
	switch v.Role {
	case policy.Institution:
	case policy.Operator:
		action, inst = usage.OperatorView, usage.Platform
	default:
		return nil
	}
	for _, sec := range secs {
		if len(sec.Records) == 0 {
			continue
		}
		e := usage.Event{Institution: inst, USCC: code, Item: sec.Item.Code, Provider: sec.Item.Provider,
			Action: action, Purpose: purpose, GrantID: sec.GrantID, RecordCount: len(sec.Records)}
		if !disclosure.Add(ctx, e) {
			return apperr.New(apperr.UsageNotRecorded, "this request cannot record its use of credit information, so nothing is disclosed")
		}
	}
	return nil
}

// Enterprise looks up one enterprise; nil (and no error) when no enterprise has the code.
func (s *Service) Enterprise(ctx context.Context, v policy.Viewer, code, purpose string) (*EnterpriseRow, error) {
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: s.now()}); !res.Allowed {
		return nil, s.refused(ctx, v, res)
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
		return Page{}, s.refused(ctx, v, res)
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
		return nil, s.refused(ctx, v, res)
	}
	key := factsKey{USCC: code, Institution: institutionOf(v)}
	var f facts
	if l, ok := ctx.Value(loaderKey{}).(*dataloadgen.Loader[factsKey, facts]); ok {
		f, err = l.Load(ctx, key)
	} else {
		var m map[string]facts
		m, err = s.st.factsOf(ctx, []string{code}, key.Institution)
		f = m[code]
	}
	if err != nil {
		return nil, err
	}
	secs := s.assemble(ctx, v, code, purpose, its, f, now)
	if err := s.disclose(ctx, v, code, purpose, usage.View, secs); err != nil {
		return nil, err
	}
	return secs, nil
}

func institutionOf(v policy.Viewer) string {
	if v.Role == policy.Institution {
		return v.Org
	}
	return ""
}

// assemble builds the sections from the enterprise's facts, asking the policy about each
// section and each record. Visible provider_api sections are fetched live, concurrently.
func (s *Service) assemble(ctx context.Context, v policy.Viewer, code, purpose string, its []*catalog.Item, f facts, now time.Time) []Section {
	byItem := map[string][]Record{}
	for _, r := range f.Records {
		byItem[r.Item] = append(byItem[r.Item], r)
	}
	out := make([]Section, len(its))
	var wg sync.WaitGroup
	for i, it := range its {
		base := policy.Request{Viewer: v, Subject: code, Item: it, Purpose: purpose, Grants: f.Grants, Now: now}
		req := base
		req.Action = policy.ViewSection
		res := policy.Decide(req)
		out[i] = Section{Item: it, Decision: res.Decision, Reason: res.Reason, GrantID: res.GrantID}
		if res.Decision != policy.Visible {
			continue
		}
		if it.Mode == catalog.ProviderAPI {
			wg.Add(1)
			go func(sec *Section) {
				defer wg.Done()
				s.live(ctx, sec, base)
			}(&out[i])
			continue
		}
		out[i].Records = shown(base, byItem[it.Code])
	}
	wg.Wait()
	return out
}

// shown keeps the records the policy lets the viewer see, with their annotations.
func shown(base policy.Request, recs []Record) []ShownRecord {
	out := []ShownRecord{}
	for _, r := range recs {
		rr := base
		rr.Action = policy.ViewRecord
		rr.Record = r.policyRecord()
		if d := policy.Decide(rr); d.Allowed {
			out = append(out, ShownRecord{Record: r, Annotations: d.Annotations})
		}
	}
	return out
}

// live fetches a provider_api section from its provider; nothing fetched is stored. A provider
// that is not configured, down or slow makes the section UNAVAILABLE.
func (s *Service) live(ctx context.Context, sec *Section, base policy.Request) {
	it := sec.Item
	if s.liveSrc == nil {
		sec.Decision, sec.Reason = policy.Unavailable, "the provider's interface is not configured on this platform"
		return
	}
	got, err := s.liveSrc.FetchRecords(ctx, it.Provider, it.Code, base.Subject)
	if err != nil {
		s.logger.WarnContext(ctx, "live section unavailable", "item", it.Code, "provider", it.Provider, "err", err)
		sec.Decision, sec.Reason = policy.Unavailable, "the provider could not be reached; try again later"
		return
	}
	recs := make([]Record, 0, len(got))
	for _, r := range got {
		recs = append(recs, Record{
			ID: "live:" + it.Code + ":" + r.SourceID, USCC: base.Subject, Provider: it.Provider, Item: it.Code,
			SourceID: r.SourceID, OccurredOn: r.OccurredOn, EndsOn: r.EndsOn, Data: r.Data, Version: 1,
		})
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].OccurredOn.After(recs[j].OccurredOn) })
	sec.Records = shown(base, recs)
	sec.Live = true
}

// Report produces the standardized credit report of an enterprise: every catalog item with the
// viewer's decision and the records it may see, read in one database round trip.
func (s *Service) Report(ctx context.Context, v policy.Viewer, code, purpose string) (Report, error) {
	now := s.now()
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: now}); !res.Allowed {
		return Report{}, s.refused(ctx, v, res)
	}
	e, f, found, err := s.st.enterpriseAndFacts(ctx, code, institutionOf(v))
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
	secs := s.assemble(ctx, v, code, purpose, s.cat.Items(), f, now)
	if err := s.disclose(ctx, v, code, purpose, usage.Report, secs); err != nil {
		return Report{}, err
	}
	return Report{
		ID:          id.String(),
		Enterprise:  e,
		GeneratedAt: now.UTC().Truncate(time.Second),
		Purpose:     purpose,
		Sections:    secs,
	}, nil
}

type loaderKey struct{}

type factsKey struct{ USCC, Institution string }

// WithLoader returns a context whose section reads of several enterprises are batched into
// one round trip (for example the sections of every enterprise in a search page).
func (s *Service) WithLoader(ctx context.Context) context.Context {
	l := dataloadgen.NewMappedLoader(func(ctx context.Context, keys []factsKey) (map[factsKey]facts, error) {
		byInst := map[string][]string{}
		for _, k := range keys {
			byInst[k.Institution] = append(byInst[k.Institution], k.USCC)
		}
		out := make(map[factsKey]facts, len(keys))
		for inst, codes := range byInst {
			m, err := s.st.factsOf(ctx, codes, inst)
			if err != nil {
				return nil, err
			}
			for code, f := range m {
				out[factsKey{USCC: code, Institution: inst}] = f
			}
		}
		return out, nil
	}, dataloadgen.WithWait(time.Millisecond))
	return context.WithValue(ctx, loaderKey{}, l)
}

// Record returns one record as the viewer may see it, with its annotations; NOT_FOUND when it
// does not exist or the viewer may not see it (the two are not told apart).
func (s *Service) Record(ctx context.Context, v policy.Viewer, id string) (ShownRecord, error) {
	notFound := apperr.New(apperr.NotFound, "no record with this id is visible to you")
	r, found, err := s.st.record(ctx, id)
	if err != nil {
		return ShownRecord{}, err
	}
	if !found {
		return ShownRecord{}, notFound
	}
	it, ok := s.cat.Item(r.Item)
	if !ok {
		return ShownRecord{}, notFound
	}
	req := policy.Request{Viewer: v, Subject: r.USCC, Item: it, Action: policy.ViewRecord, Record: r.policyRecord(), Now: s.now()}
	if v.Role == policy.Institution {
		// Institutions read records through sections and reports, where their use is recorded.
		return ShownRecord{}, notFound
	}
	d := policy.Decide(req)
	if !d.Allowed {
		return ShownRecord{}, notFound
	}
	if err := s.disclose(ctx, v, r.USCC, "", usage.View, []Section{{Item: it, Records: []ShownRecord{{Record: r}}}}); err != nil {
		return ShownRecord{}, err
	}
	return ShownRecord{Record: r, Annotations: d.Annotations}, nil
}
