// Package seed builds the demo data set behind `creditd seed --demo`: the demo institutions,
// a provider account for every catalog provider, and about a thousand Liaoning enterprises
// with records in every collected catalog item, loaded through the providers' own path
// (ingest) so that the data obeys the same rules as real loads.
//
// Generation (Generate) is pure and deterministic: the same seed and as-of date give the same
// enterprises, records and source ids. Loading (Demo) is idempotent: running it again with the
// same seed on the same day adds nothing. A handful of fixture enterprises with fixed USCCs
// and fixed stories (fixtures.go) are always present, whatever the seed.
package seed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/orgs"
)

// Codes of the demo institutions.
const (
	InstitutionBank      = "DEMO-BANK"
	InstitutionGuarantor = "DEMO-GUARANTOR"
	InstitutionInsurer   = "DEMO-INSURER"
	// InstitutionSuspended is a suspended bank: every request of it is refused with
	// INSTITUTION_SUSPENDED.
	InstitutionSuspended = "DEMO-SUSPENDED"
)

// Institutions are the demo institutions Demo creates.
func Institutions() []orgs.Institution {
	return []orgs.Institution{
		{Code: InstitutionBank, Name: "辽宁示范银行股份有限公司", Kind: "bank", Status: orgs.Active},
		{Code: InstitutionGuarantor, Name: "辽宁示范融资担保有限公司", Kind: "guarantor", Status: orgs.Active},
		{Code: InstitutionInsurer, Name: "示范财产保险股份有限公司辽宁分公司", Kind: "insurer", Status: orgs.Active},
		{Code: InstitutionSuspended, Name: "辽宁示范农村商业银行股份有限公司", Kind: "bank", Status: orgs.Suspended},
	}
}

// OrgWriter saves institutions and provider accounts; *orgs.Store is one.
type OrgWriter interface {
	PutInstitution(ctx context.Context, in orgs.Institution) error
	PutProvider(ctx context.Context, p orgs.Provider) error
}

// Submitter loads the records of one item of one provider, at most ingest.MaxSubmitRows at a
// time; *ingest.Loader is one.
type Submitter interface {
	Submit(ctx context.Context, provider, item string, rows []ingest.Row) (ingest.Result, error)
}

// DemoParams configures Demo.
type DemoParams struct {
	Orgs    OrgWriter
	Loader  Submitter
	Catalog *catalog.Catalog // catalog.Default() when nil
	// Seed, Enterprises and AsOf choose the data set, as in Params. AsOf must not be after the
	// loader's today, or the loader rejects the records.
	Seed        int64
	Enterprises int
	AsOf        time.Time
	Logger      *slog.Logger // slog.Default() when nil
}

// Summary says what Demo did.
type Summary struct {
	AsOf         time.Time
	Institutions int
	Providers    int
	Enterprises  int
	Items        []ItemSummary // registration.basic first, then catalog order
}

// ItemSummary counts the records of one item Demo submitted.
type ItemSummary struct {
	Item, Provider string
	Rows           int // rows submitted
	Accepted       int // new records
	Updated        int // corrections of records of an earlier seed (another as-of date)
	Duplicates     int // records already loaded
}

// Records is the number of rows submitted.
func (s Summary) Records() int {
	n := 0
	for _, it := range s.Items {
		n += it.Rows
	}
	return n
}

// Accepted is the number of new records.
func (s Summary) Accepted() int {
	n := 0
	for _, it := range s.Items {
		n += it.Accepted
	}
	return n
}

// String renders the summary for the command line, one item a line.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "demo data as of %s: %d institutions, %d providers, %d enterprises, %d records (%d new)\n",
		s.AsOf.Format(time.DateOnly), s.Institutions, s.Providers, s.Enterprises, s.Records(), s.Accepted())
	for _, it := range s.Items {
		fmt.Fprintf(&b, "  %-28s %-8s %6d rows: %d new, %d updated, %d unchanged\n",
			it.Item, it.Provider, it.Rows, it.Accepted, it.Updated, it.Duplicates)
	}
	return b.String()
}

// Demo creates the demo institutions and provider accounts, then generates the demo data set
// and loads it, registration.basic first. Any rejected row fails it: demo data must load whole.
func Demo(ctx context.Context, p DemoParams) (Summary, error) {
	if p.Orgs == nil || p.Loader == nil {
		return Summary{}, errors.New("seed: Demo needs an organization store and a loader")
	}
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	cat := p.Catalog
	if cat == nil {
		var err error
		if cat, err = catalog.Default(); err != nil {
			return Summary{}, fmt.Errorf("seed: %w", err)
		}
	}

	var sum Summary
	for _, in := range Institutions() {
		if err := p.Orgs.PutInstitution(ctx, in); err != nil {
			return sum, fmt.Errorf("seed: %w", err)
		}
		sum.Institutions++
	}
	for _, pr := range cat.Providers() {
		if pr.Code == catalog.SelfProvider {
			continue // self-reports come only from the enterprise itself
		}
		if err := p.Orgs.PutProvider(ctx, orgs.Provider{Code: pr.Code, Name: pr.Name, Status: orgs.Active}); err != nil {
			return sum, fmt.Errorf("seed: %w", err)
		}
		sum.Providers++
	}

	d, err := Generate(cat, Params{Seed: p.Seed, Enterprises: p.Enterprises, AsOf: p.AsOf})
	if err != nil {
		return sum, err
	}
	sum.AsOf = d.AsOf
	sum.Enterprises = len(d.Enterprises)
	for _, items := range d.Items {
		is, err := load(ctx, p.Loader, items)
		sum.Items = append(sum.Items, is)
		if err != nil {
			return sum, err
		}
		log.Info("seed: item loaded", "item", is.Item, "provider", is.Provider, "rows", is.Rows,
			"accepted", is.Accepted, "updated", is.Updated, "duplicates", is.Duplicates)
	}
	return sum, nil
}

// load submits the records of one item in batches of ingest.MaxSubmitRows.
func load(ctx context.Context, l Submitter, items ItemRecords) (ItemSummary, error) {
	is := ItemSummary{Item: items.Item, Provider: items.Provider}
	recs := items.Records
	for start := 0; start < len(recs); start += ingest.MaxSubmitRows {
		batch := recs[start:min(start+ingest.MaxSubmitRows, len(recs))]
		rows := make([]ingest.Row, len(batch))
		for i, r := range batch {
			rows[i] = r.Row(i + 1)
		}
		res, err := l.Submit(ctx, items.Provider, items.Item, rows)
		if err != nil {
			return is, fmt.Errorf("seed: load %s: %w", items.Item, err)
		}
		is.Rows += len(rows)
		is.Accepted += res.Accepted
		is.Updated += res.Updated
		is.Duplicates += res.Duplicates
		if len(res.Rejected) > 0 {
			first := res.Rejected[0]
			return is, fmt.Errorf("seed: load %s: %d of %d rows rejected, first %s: %s",
				items.Item, len(res.Rejected), len(rows), first.SourceID, first.Reason)
		}
	}
	return is, nil
}

// Row converts the record to a loader row; line is its position in the batch.
func (r Record) Row(line int) ingest.Row {
	row := ingest.Row{
		Line:       line,
		SourceID:   r.SourceID,
		USCC:       string(r.USCC),
		OccurredOn: date(r.OccurredOn),
		Data:       r.Data,
	}
	if !r.EndsOn.IsZero() {
		row.EndsOn = date(r.EndsOn)
	}
	return row
}
