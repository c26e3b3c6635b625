package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"creditd/internal/apperr"
	"creditd/internal/orgs"
)

// OrgDirectory finds institutions and providers; *orgs.Store satisfies it. Both return
// orgs.ErrNotFound for an unknown code.
type OrgDirectory interface {
	Institution(ctx context.Context, code string) (orgs.Institution, error)
	Provider(ctx context.Context, code string) (orgs.Provider, error)
}

// maxTokenLen bounds the Authorization header value accepted for parsing; real tokens are far
// shorter.
const maxTokenLen = 8192

// Authenticator turns a request's bearer token into a Viewer.
type Authenticator struct {
	verifier *Verifier
	orgs     OrgDirectory
	logger   *slog.Logger
}

// NewAuthenticator returns an authenticator that verifies tokens with verifier and checks
// institutions and providers in orgs. A nil logger discards.
func NewAuthenticator(verifier *Verifier, orgs OrgDirectory, logger *slog.Logger) *Authenticator {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{verifier: verifier, orgs: orgs, logger: logger}
}

// Authenticate verifies the value of an Authorization header ("Bearer <JWT>") and checks the
// caller's organization: one directory query for INSTITUTION and PROVIDER, none otherwise.
// Refusals are *apperr.Error (UNAUTHENTICATED, FORBIDDEN or INSTITUTION_SUSPENDED); any other
// error is a failure of the directory.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (Viewer, error) {
	token, err := bearerToken(authorization)
	if err != nil {
		return Viewer{}, err
	}
	v, err := a.verifier.Verify(token)
	if err != nil {
		return Viewer{}, err
	}
	switch v.Role {
	case RoleInstitution:
		in, err := a.orgs.Institution(ctx, v.Org)
		if errors.Is(err, orgs.ErrNotFound) {
			return Viewer{}, apperr.New(apperr.Forbidden, "institution %s is not registered on the platform", v.Org)
		}
		if err != nil {
			return Viewer{}, fmt.Errorf("look up institution: %w", err)
		}
		if in.Status != orgs.Active {
			return Viewer{}, apperr.New(apperr.InstitutionSuspended, "institution %s is suspended", v.Org)
		}
	case RoleProvider:
		p, err := a.orgs.Provider(ctx, v.Org)
		if errors.Is(err, orgs.ErrNotFound) {
			return Viewer{}, apperr.New(apperr.Forbidden, "provider %s is not registered on the platform", v.Org)
		}
		if err != nil {
			return Viewer{}, fmt.Errorf("look up provider: %w", err)
		}
		if p.Status != orgs.Active {
			return Viewer{}, apperr.New(apperr.Forbidden, "provider %s is suspended", v.Org)
		}
	}
	return v, nil
}

// bearerToken extracts the token of a "Bearer" Authorization value.
func bearerToken(authorization string) (string, error) {
	if authorization == "" {
		return "", apperr.New(apperr.Unauthenticated, "authentication required: send Authorization: Bearer <token>")
	}
	scheme, token, _ := strings.Cut(authorization, " ")
	switch {
	case strings.EqualFold(scheme, "DPoP"):
		return "", apperr.New(apperr.Unauthenticated, "DPoP sender-constrained tokens are not supported yet: send Authorization: Bearer <token>")
	case !strings.EqualFold(scheme, "Bearer"):
		return "", apperr.New(apperr.Unauthenticated, "unsupported authorization scheme: send Authorization: Bearer <token>")
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen {
		return "", unauthenticated(errors.New("empty or oversized bearer token"))
	}
	return token, nil
}

// Middleware authenticates every request from its Authorization header only (never a query
// parameter or cookie) and passes it on with the Viewer in its context. A refused request gets
// a JSON error body: 401 UNAUTHENTICATED, 403 FORBIDDEN or INSTITUTION_SUSPENDED, or 500 INTERNAL.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Authorization")
		var (
			v   Viewer
			err error
		)
		if len(values) > 1 {
			err = apperr.New(apperr.Unauthenticated, "send exactly one Authorization header")
		} else {
			v, err = a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		}
		if err != nil {
			a.refuse(w, r, err, len(values) > 0)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), v)))
	})
}

func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, err error, tokenSent bool) {
	var ae *apperr.Error
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &ae) && ae.Code == apperr.Unauthenticated:
		status = http.StatusUnauthorized
		challenge := `Bearer realm="creditd"`
		if tokenSent {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		if ae.Err != nil {
			a.logger.DebugContext(r.Context(), "auth: token refused", "reason", ae.Err.Error())
		}
	case errors.As(err, &ae) && (ae.Code == apperr.Forbidden || ae.Code == apperr.InstitutionSuspended):
		status = http.StatusForbidden
	default:
		a.logger.ErrorContext(r.Context(), "auth: organization lookup failed", "error", err.Error())
		ae = apperr.New(apperr.Internal, "internal error")
	}
	type extensions struct {
		Code apperr.Code `json:"code"`
	}
	type gqlError struct {
		Message    string     `json:"message"`
		Extensions extensions `json:"extensions"`
	}
	body, _ := json.Marshal(struct {
		Errors []gqlError `json:"errors"`
	}{[]gqlError{{Message: ae.Message, Extensions: extensions{Code: ae.Code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
