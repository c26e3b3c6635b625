package resolvers

import (
	"context"

	"creditd/graph/model"
	"creditd/internal/policy"
	"creditd/internal/repair"
)

// recordByID reads one record as the viewer may see it.
func (r *Resolver) recordByID(ctx context.Context, v policy.Viewer, id string) (*model.Record, error) {
	rec, err := r.Credit.Record(ctx, v, id)
	if err != nil {
		return nil, err
	}
	return record(rec), nil
}

func repairApplication(a repair.Application) *model.RepairApplication {
	return &model.RepairApplication{
		ID: a.ID, RecordID: a.RecordID, Status: model.RepairStatus(a.Status), Reason: a.Reason, Item: a.Item,
		CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt, CommitmentRecordID: a.CommitmentRecordID,
	}
}
