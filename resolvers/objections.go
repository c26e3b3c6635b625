package resolvers

import (
	"creditd/graph/model"
	"creditd/internal/objections"
)

func objection(o objections.Objection) *model.Objection {
	out := &model.Objection{
		ID: o.ID, RecordID: o.RecordID, Status: model.ObjectionStatus(o.Status), Paused: o.Paused,
		DueBy: o.DueBy, Provisional: o.Provisional, Item: o.Item, Reason: o.Reason, CreatedAt: o.CreatedAt,
	}
	if o.Outcome != "" {
		oc := model.ObjectionOutcome(o.Outcome)
		out.Outcome = &oc
	}
	if o.Evidence != "" {
		ev := o.Evidence
		out.Evidence = &ev
	}
	return out
}

func objectionOf(o objections.Objection, err error) (*model.Objection, error) {
	if err != nil {
		return nil, err
	}
	return objection(o), nil
}

func objectionStep(st objections.Step) *model.ObjectionStep {
	out := &model.ObjectionStep{At: st.At, Action: st.Action, ActorRole: string(st.ActorRole), Status: model.ObjectionStatus(st.Status), DueBy: st.DueBy}
	if st.Outcome != "" {
		oc := model.ObjectionOutcome(st.Outcome)
		out.Outcome = &oc
	}
	if st.Note != "" {
		n := st.Note
		out.Note = &n
	}
	return out
}
