package server

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditd/internal/apperr"
	"creditd/internal/disclosure"
)

// recordDisclosures commits the disclosures an operation made before its response is sent.
// If they cannot be committed, the response is replaced by one that carries no data, only
// USAGE_NOT_RECORDED: no record, no data.
func recordDisclosures(rec UsageRecorder, logger *slog.Logger) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		c := disclosure.From(ctx)
		if c == nil || resp == nil {
			return resp
		}
		events := c.Take()
		if len(events) == 0 {
			return resp
		}
		err := error(apperr.New(apperr.UsageNotRecorded, "no usage recorder"))
		if rec != nil {
			err = rec.Record(ctx, events)
		}
		if err == nil {
			return resp
		}
		logger.ErrorContext(ctx, "usage not recorded; response withheld", "request_id", RequestID(ctx), "events", len(events), "err", err)
		return &graphql.Response{Errors: gqlerror.List{{
			Message:    "the use of this information could not be recorded, so nothing is disclosed; try again",
			Extensions: map[string]any{"code": string(apperr.UsageNotRecorded), "requestId": RequestID(ctx)},
		}}}
	}
}
