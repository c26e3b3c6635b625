package resolvers

import (
	"context"
	"strings"

	"creditd/auth"
	"creditd/graph/model"
	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/claim"
	"creditd/internal/credit"
	"creditd/internal/grants"
	"creditd/internal/policy"
	"creditd/internal/uscc"
)

// viewer returns the authenticated caller; the HTTP middleware has already refused requests
// without a valid token, so a missing viewer is a wiring error reported as UNAUTHENTICATED.
func viewer(ctx context.Context) (policy.Viewer, error) {
	v, ok := auth.ViewerFrom(ctx)
	if !ok {
		return policy.Viewer{}, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return policy.Viewer{Role: policy.Role(v.Role), Org: v.Org}, nil
}

func purposeOf(p *model.Purpose) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func catalogItem(it *catalog.Item) *model.CatalogItem {
	return &model.CatalogItem{
		Code:       it.Code,
		Name:       it.Name,
		Provider:   it.Provider,
		Access:     model.Access(strings.ToUpper(string(it.Access))),
		Mode:       model.Mode(strings.ToUpper(string(it.Mode))),
		Disclosure: it.Disclosure.String(),
		Retention:  it.Retention.String(),
		Verifiable: nonNil(it.Verifiable),
		Repairable: it.Repairable,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func enterprise(e credit.EnterpriseRow, purpose *model.Purpose) *model.Enterprise {
	return &model.Enterprise{
		Uscc:         uscc.Code(e.USCC),
		Name:         e.Name,
		RegionCode:   e.RegionCode,
		IndustryCode: e.IndustryCode,
		Size:         e.Size,
		SubjectType:  e.SubjectType,
		Purpose:      purpose,
	}
}

func section(s credit.Section) *model.Section {
	out := &model.Section{Item: catalogItem(s.Item), Decision: model.Decision(s.Decision)}
	if s.Reason != "" {
		r := s.Reason
		out.Reason = &r
	}
	if s.Records != nil {
		out.Records = make([]*model.Record, 0, len(s.Records))
		for _, r := range s.Records {
			out.Records = append(out.Records, record(r))
		}
	}
	return out
}

func sections(ss []credit.Section) []*model.Section {
	out := make([]*model.Section, 0, len(ss))
	for _, s := range ss {
		out = append(out, section(s))
	}
	return out
}

func record(r credit.ShownRecord) *model.Record {
	out := &model.Record{
		ID:          r.ID,
		Source:      r.Provider,
		SourceID:    r.SourceID,
		OccurredOn:  r.OccurredOn.Format("2006-01-02"),
		Data:        r.Data,
		Annotations: nonNil(r.Annotations),
		Version:     r.Version,
	}
	if r.EndsOn != nil {
		e := r.EndsOn.Format("2006-01-02")
		out.EndsOn = &e
	}
	return out
}

// notImplemented answers operations of later capabilities.
func notImplemented(op string) error {
	return apperr.New(apperr.NotImplemented, "%s is not available yet", op)
}

func grantInput(in model.GrantInput) grants.Input {
	out := grants.Input{
		Institution: in.Institution, Items: in.Items, Purposes: make([]string, 0, len(in.Purposes)),
		Actions: make([]string, 0, len(in.Actions)), ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil,
		Method: string(in.Method), Evidence: in.Evidence, RiskNoticeVersion: in.RiskNoticeVersion,
	}
	for _, p := range in.Purposes {
		out.Purposes = append(out.Purposes, string(p))
	}
	for _, a := range in.Actions {
		out.Actions = append(out.Actions, string(a))
	}
	return out
}

func (r *Resolver) grant(g grants.Grant) *model.Grant {
	out := &model.Grant{
		ID: g.ID, Institution: g.Institution, Enterprise: uscc.Code(g.Enterprise), Items: g.Items,
		ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil, Method: model.GrantMethod(g.Method),
		Status: model.GrantStatus(g.Status(r.Clock())), Receipt: g.Receipt,
	}
	for _, a := range g.Actions {
		out.Actions = append(out.Actions, model.Action(a))
	}
	for _, p := range g.Purposes {
		out.Purposes = append(out.Purposes, model.Purpose(p))
	}
	return out
}

// verify asks the verification service about a claim.
func (r *Resolver) verify(ctx context.Context, code uscc.Code, item string, in model.ClaimInput, purpose model.Purpose) (*model.VerifyResult, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	ans, err := r.Verifier.Verify(ctx, v, string(code), item, claim.Claim{Field: in.Field, Op: claim.Op(in.Op), Value: in.Value}, string(purpose))
	if err != nil {
		return nil, err
	}
	return &model.VerifyResult{Result: model.VerifyOutcome(ans.Outcome), EffectiveValue: ans.EffectiveValue}, nil
}
