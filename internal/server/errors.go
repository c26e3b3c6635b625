package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditd/internal/apperr"
	"creditd/internal/uscc"
)

// presenter maps domain errors to the API's error codes. Errors that are not meant for the
// caller are logged once here, with the request id, and answered as INTERNAL.
func presenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		var ue *uscc.Error
		switch {
		case errors.As(err, &ae):
			gqlErr.Message = ae.Message
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
			for k, v := range ae.Extensions {
				gqlErr.Extensions[k] = v
			}
			if ae.Code == apperr.Internal || ae.Code == apperr.UsageNotRecorded {
				logger.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx), "path", gqlErr.Path.String(), "code", ae.Code, "err", ae.Err)
			}
		case errors.As(err, &ue):
			gqlErr.Message = ue.Error()
			gqlErr.Extensions = map[string]any{"code": string(apperr.BadUSCC)}
		case hasCode(gqlErr):
			// Parse, validation and complexity errors from gqlgen keep their own codes.
		default:
			logger.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx), "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message = "internal error"
			gqlErr.Extensions = map[string]any{"code": string(apperr.Internal), "requestId": RequestID(ctx)}
		}
		return gqlErr
	}
}

func hasCode(e *gqlerror.Error) bool {
	if e.Extensions == nil {
		return false
	}
	_, ok := e.Extensions["code"]
	return ok
}

// recoverer turns a panic into an INTERNAL error; the panic is logged, never sent.
func recoverer(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", p)
		return apperr.New(apperr.Internal, "internal error")
	}
}
