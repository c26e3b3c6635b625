package resolvers

import (
	"creditd/graph/model"
	"creditd/internal/feedback"
	"creditd/internal/usage"
)

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func pageInfo(p usage.EventPage) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext}
	if p.EndCursor != "" {
		c := p.EndCursor
		pi.EndCursor = &c
	}
	return pi
}

func purposePtr(s string) *model.Purpose {
	if s == "" {
		return nil
	}
	p := model.Purpose(s)
	return &p
}

func idPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func accessEvent(e usage.Event) *model.AccessEvent {
	return &model.AccessEvent{At: e.At, Institution: e.Institution, Item: e.Item, Action: model.UsageAction(e.Action),
		Purpose: purposePtr(e.Purpose), Grant: idPtr(e.GrantID), RecordCount: e.RecordCount}
}

func usageEvent(e usage.Event) *model.UsageEvent {
	return &model.UsageEvent{ID: e.ID, At: e.At, Institution: e.Institution, Item: e.Item, Action: model.UsageAction(e.Action),
		Purpose: purposePtr(e.Purpose), Grant: idPtr(e.GrantID), RecordCount: e.RecordCount}
}

func usageFeedback(fb feedback.Feedback) *model.UsageFeedback {
	out := &model.UsageFeedback{Summaries: make([]*model.UsageSummary, 0, len(fb.Summaries))}
	for _, s := range fb.Summaries {
		var p *model.Purpose
		if s.Purpose != nil {
			p = purposePtr(*s.Purpose)
		}
		out.Summaries = append(out.Summaries, &model.UsageSummary{Day: s.Day, Institution: s.Institution, Item: s.Item,
			Action: model.UsageAction(s.Action), Purpose: p, Count: s.Count})
	}
	if cp := fb.Checkpoint; cp != nil {
		out.Checkpoint = &model.Checkpoint{Size: int(cp.Size), Head: cp.Head, At: cp.At, Signature: cp.Signature}
	}
	return out
}
