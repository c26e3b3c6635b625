// Package feedback tells the people information is about, and the providers it came from, how
// it was used: the enterprise's access log (R19) and the provider's usage feedback (R6). It
// asks the policy who may read what and reads the usage log.
package feedback

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/policy"
	"creditd/internal/usage"
)

// Service reads the usage log for its subjects and providers.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns a feedback service.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, now: now}
}

func (s *Service) check(v policy.Viewer, a policy.Action) error {
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: a, Now: s.now()}); !res.Allowed {
		return apperr.New(res.Code, "%s", res.Reason)
	}
	return nil
}

// AccessLog lists the uses of the enterprise's own information, newest first.
func (s *Service) AccessLog(ctx context.Context, v policy.Viewer, first int, after string) (usage.EventPage, error) {
	if err := s.check(v, policy.ReadAccessLog); err != nil {
		return usage.EventPage{}, err
	}
	return usage.Events(ctx, s.pool, usage.EventFilter{USCC: v.Org}, first, after)
}

// Feedback is a provider's usage summary for a period and its latest signed checkpoint.
type Feedback struct {
	Summaries  []usage.Summary
	Checkpoint *usage.Checkpoint
}

// Usage counts the uses of the provider's items in [from, to).
func (s *Service) Usage(ctx context.Context, v policy.Viewer, from, to time.Time) (Feedback, error) {
	if err := s.check(v, policy.ReadUsage); err != nil {
		return Feedback{}, err
	}
	sums, err := usage.Summaries(ctx, s.pool, v.Org, from, to)
	if err != nil {
		return Feedback{}, err
	}
	fb := Feedback{Summaries: sums}
	cp, ok, err := usage.LatestCheckpoint(ctx, s.pool, v.Org)
	if err != nil {
		return Feedback{}, err
	}
	if ok {
		fb.Checkpoint = &cp
	}
	return fb, nil
}

// Events lists every use of the provider's items in [from, to), newest first.
func (s *Service) Events(ctx context.Context, v policy.Viewer, from, to time.Time, first int, after string) (usage.EventPage, error) {
	if err := s.check(v, policy.ReadUsage); err != nil {
		return usage.EventPage{}, err
	}
	if !from.Before(to) {
		return usage.EventPage{}, apperr.New(apperr.BadInput, "from must be before to")
	}
	return usage.Events(ctx, s.pool, usage.EventFilter{Provider: v.Org, From: from, To: to}, first, after)
}

// RegisterWebhook registers (or re-registers, rotating the secret) the provider's webhook and
// returns the secret, shown only now.
func (s *Service) RegisterWebhook(ctx context.Context, v policy.Viewer, url string) (string, error) {
	if err := s.check(v, policy.ReadUsage); err != nil {
		return "", err
	}
	return usage.RegisterWebhook(ctx, s.pool, v.Org, url)
}

// DeleteWebhook stops pushing usage batches to the provider.
func (s *Service) DeleteWebhook(ctx context.Context, v policy.Viewer) (bool, error) {
	if err := s.check(v, policy.ReadUsage); err != nil {
		return false, err
	}
	return usage.DeleteWebhook(ctx, s.pool, v.Org)
}

// Webhook returns the provider's webhook, if any.
func (s *Service) Webhook(ctx context.Context, v policy.Viewer) (usage.Webhook, bool, error) {
	if err := s.check(v, policy.ReadUsage); err != nil {
		return usage.Webhook{}, false, err
	}
	return usage.GetWebhook(ctx, s.pool, v.Org)
}
