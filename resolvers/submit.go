package resolvers

import (
	"context"

	"creditd/graph/model"
	"creditd/internal/apperr"
	"creditd/internal/ingest"
	"creditd/internal/policy"
)

// submit asks the policy whether the provider may load records of item, then loads them.
func (r *Resolver) submit(ctx context.Context, v policy.Viewer, item string, in []*model.RecordInput) (*model.SubmitResult, error) {
	it, ok := r.Cat.Item(item)
	if !ok {
		return nil, apperr.New(apperr.BadInput, "item %q is not in the catalog", item).With("item", item)
	}
	if res := policy.Decide(policy.Request{Viewer: v, Item: it, Action: policy.Submit}); !res.Allowed {
		return nil, apperr.New(res.Code, "%s", res.Reason).With("item", item)
	}
	if len(in) > ingest.MaxSubmitRows {
		return nil, apperr.New(apperr.BadInput, "records: at most %d rows per call, got %d; load larger sets as a file", ingest.MaxSubmitRows, len(in))
	}
	rows := make([]ingest.Row, len(in))
	for i, rec := range in {
		rows[i] = ingest.Row{Line: i + 1, SourceID: rec.SourceID, USCC: rec.Uscc, OccurredOn: rec.OccurredOn, EndsOn: str(rec.EndsOn), Data: rec.Data}
	}
	res, err := r.Ingest.Submit(ctx, v.Org, item, rows)
	if err != nil {
		return nil, err
	}
	out := &model.SubmitResult{Accepted: res.Accepted, Updated: res.Updated, Duplicates: res.Duplicates, Rejected: make([]*model.RejectedRecord, 0, len(res.Rejected))}
	for _, rj := range res.Rejected {
		line := rj.Line
		out.Rejected = append(out.Rejected, &model.RejectedRecord{SourceID: rj.SourceID, Reason: rj.Reason, Row: &line})
	}
	return out, nil
}
