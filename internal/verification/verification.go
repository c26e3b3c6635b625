// Package verification answers institutions' claims about an enterprise's data (数据核验)
// without revealing the data: the answer is only MATCH, NO_MATCH or UNAVAILABLE, tested
// against a coarsened threshold, within a budget per (institution, enterprise, item).
package verification

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/claim"
	"creditd/internal/connector"
	"creditd/internal/disclosure"
	"creditd/internal/grants"
	"creditd/internal/policy"
	"creditd/internal/usage"
)

// DefaultBudget is the number of verifications an institution may make about one item of one
// enterprise in any 30 days.
const DefaultBudget = 20

// BudgetWindow is the rolling window of the budget.
const BudgetWindow = 30 * 24 * time.Hour

// Provider reaches the providers of provider_api and provider_verify items.
type Provider interface {
	FetchRecords(ctx context.Context, provider, item, uscc string) ([]connector.Record, error)
	Verify(ctx context.Context, provider, item, uscc string, c connector.Claim) (connector.Outcome, error)
}

// Options configure a Service.
type Options struct {
	Provider Provider // nil: live items answer UNAVAILABLE
	Budget   int      // DefaultBudget when 0
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service answers verifications.
type Service struct {
	pool     *pgxpool.Pool
	cat      *catalog.Catalog
	provider Provider
	budget   int
	now      func() time.Time
	logger   *slog.Logger
}

// NewService returns a verification service.
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, o Options) *Service {
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{pool: pool, cat: cat, provider: o.Provider, budget: o.Budget, now: o.Now, logger: o.Logger}
}

// Answer is a verification's result and the grant it was made under ("" for public items).
type Answer struct {
	claim.Result
	GrantID string
}

// Verify tests an institution's claim about item of the enterprise code.
func (s *Service) Verify(ctx context.Context, v policy.Viewer, code, itemCode string, c claim.Claim, purpose string) (Answer, error) {
	now := s.now()
	if res := policy.Decide(policy.Request{Viewer: v, Subject: code, Action: policy.LookUp, Purpose: purpose, Now: now}); !res.Allowed {
		return Answer{}, apperr.New(res.Code, "%s", res.Reason)
	}
	it, ok := s.cat.Item(itemCode)
	if !ok {
		return Answer{}, apperr.New(apperr.BadInput, "item: %q is not in the catalog", itemCode).With("item", itemCode)
	}
	if !it.IsVerifiable(c.Field) {
		return Answer{}, apperr.New(apperr.BadInput, "claim.field: %q is not verifiable for %s (verifiable: %s)", c.Field, it.Code, strings.Join(it.Verifiable, ", ")).With("item", it.Code)
	}
	nc, err := claim.Normalize(c)
	if err != nil {
		return Answer{}, err
	}
	found, gs, err := s.facts(ctx, code, v.Org)
	if err != nil {
		return Answer{}, err
	}
	if !found {
		return Answer{}, apperr.New(apperr.NotFound, "no enterprise has this unified social credit code")
	}
	base := policy.Request{Viewer: v, Subject: code, Item: it, Action: policy.Verify, Purpose: purpose, Grants: gs, Now: now}
	res := policy.Decide(base)
	if !res.Allowed {
		s.logger.InfoContext(ctx, "security: verification refused", "org", v.Org, "item", it.Code, "decision", res.Decision)
		return Answer{}, apperr.New(res.Code, "%s", res.Reason).With("decision", string(res.Decision)).With("item", it.Code)
	}
	if err := s.spend(ctx, v.Org, code, it.Code, now); err != nil {
		return Answer{}, err
	}
	ans := Answer{GrantID: res.GrantID}
	if ans.Result, err = s.evaluate(ctx, base, nc); err != nil {
		return Answer{}, err
	}
	tested := 0
	if ans.Outcome != claim.Unavailable {
		tested = 1
	}
	if !disclosure.Add(ctx, usage.Event{Institution: v.Org, USCC: code, Item: it.Code, Provider: it.Provider,
		Action: usage.Verify, Purpose: purpose, GrantID: res.GrantID, RecordCount: tested}) {
		return Answer{}, apperr.New(apperr.UsageNotRecorded, "this request cannot record its use of credit information, so nothing is answered")
	}
	return ans, nil
}

// facts reads whether the enterprise exists and its grants to the institution, in one round trip.
func (s *Service) facts(ctx context.Context, code, institution string) (bool, []policy.Grant, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT 1 FROM enterprises WHERE uscc = $1)`, code)
	b.Queue(grants.ForInstitution, code, institution)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var found bool
	if err := br.QueryRow().Scan(&found); err != nil {
		return false, nil, fmt.Errorf("read enterprise: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return false, nil, fmt.Errorf("read grants: %w", err)
	}
	gs, err := grants.ScanAll(rows)
	if err != nil {
		return false, nil, err
	}
	out := make([]policy.Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Policy())
	}
	return found, out, br.Close()
}

// spend takes one verification from the budget of (institution, enterprise, item), kept in
// PostgreSQL; concurrent requests are serialized per key so the budget cannot be overdrawn.
func (s *Service) spend(ctx context.Context, institution, code, item string, now time.Time) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("verification id: %w", err)
	}
	var used int
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "verify:"+code+":"+institution+":"+item); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM verification_uses WHERE uscc = $1 AND institution = $2 AND item = $3 AND at > $4`,
			code, institution, item, now.Add(-BudgetWindow)).Scan(&used); err != nil {
			return err
		}
		if used >= s.budget {
			return errBudget
		}
		_, err := tx.Exec(ctx, `INSERT INTO verification_uses (uscc, id, institution, item, at) VALUES ($1, $2, $3, $4, $5)`, code, id, institution, item, now)
		return err
	})
	if errors.Is(err, errBudget) {
		return apperr.New(apperr.BudgetExhausted, "the verification budget for %s of this enterprise is used up (%d in %d days)", item, s.budget, int(BudgetWindow.Hours()/24)).With("item", item)
	}
	if err != nil {
		return fmt.Errorf("verification budget: %w", err)
	}
	return nil
}

var errBudget = errors.New("budget exhausted")

// evaluate tests the normalized claim against the latest record the institution's rules allow.
func (s *Service) evaluate(ctx context.Context, base policy.Request, c claim.Claim) (claim.Result, error) {
	it := base.Item
	unavailable := claim.Result{Outcome: claim.Unavailable, EffectiveValue: c.Value}
	switch it.Mode {
	case catalog.ProviderVerify:
		if s.provider == nil {
			return unavailable, nil
		}
		out, err := s.provider.Verify(ctx, it.Provider, it.Code, base.Subject, connector.Claim{Field: c.Field, Op: connector.Op(c.Op), Value: c.Value})
		if err != nil {
			s.logger.WarnContext(ctx, "verification unavailable", "item", it.Code, "provider", it.Provider, "err", err)
			return unavailable, nil
		}
		switch out {
		case connector.OutcomeMatch:
			return claim.Result{Outcome: claim.Match, EffectiveValue: c.Value}, nil
		case connector.OutcomeNoMatch:
			return claim.Result{Outcome: claim.NoMatch, EffectiveValue: c.Value}, nil
		}
		return unavailable, nil
	case catalog.ProviderAPI:
		if s.provider == nil {
			return unavailable, nil
		}
		got, err := s.provider.FetchRecords(ctx, it.Provider, it.Code, base.Subject)
		if err != nil {
			s.logger.WarnContext(ctx, "verification unavailable", "item", it.Code, "provider", it.Provider, "err", err)
			return unavailable, nil
		}
		cands := make([]candidate, 0, len(got))
		for _, r := range got {
			cands = append(cands, candidate{occurred: r.OccurredOn, ends: r.EndsOn, data: r.Data})
		}
		return claim.Evaluate(c, latest(base, cands))
	default:
		rows, err := s.pool.Query(ctx, `SELECT occurred_on, ends_on, data, coalesce(data->>'severity', ''),
			repaired_at IS NOT NULL, deleted_at IS NOT NULL, withdrawn_at IS NOT NULL
			FROM records WHERE uscc = $1 AND item = $2`, base.Subject, it.Code)
		if err != nil {
			return claim.Result{}, fmt.Errorf("read records: %w", err)
		}
		cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candidate, error) {
			var c candidate
			err := r.Scan(&c.occurred, &c.ends, &c.data, &c.severity, &c.repaired, &c.deleted, &c.withdrawn)
			return c, err
		})
		if err != nil {
			return claim.Result{}, fmt.Errorf("read records: %w", err)
		}
		return claim.Evaluate(c, latest(base, cands))
	}
}

type candidate struct {
	occurred                     time.Time
	ends                         *time.Time
	data                         []byte
	severity                     string
	repaired, deleted, withdrawn bool
}

// latest returns the payload of the most recent record (by occurredOn) that the policy lets
// the claim be tested against, or nil.
func latest(base policy.Request, cands []candidate) []byte {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].occurred.After(cands[j].occurred) })
	for _, c := range cands {
		req := base
		req.Record = &policy.Record{OccurredOn: c.occurred, EndsOn: c.ends, Severity: c.severity, Repaired: c.repaired, Deleted: c.deleted, Withdrawn: c.withdrawn}
		if policy.Decide(req).Allowed {
			return c.data
		}
	}
	return nil
}
