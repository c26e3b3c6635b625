// Package resolvers translates between GraphQL and the domain services. Resolvers stay thin:
// they find the viewer, call a service and convert the answer; they never decide access.
package resolvers

import (
	"context"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/credit"
	"creditd/internal/feedback"
	"creditd/internal/grants"
	"creditd/internal/ingest"
	"creditd/internal/objections"
	"creditd/internal/repair"
	"creditd/internal/selfreport"
	"creditd/internal/verification"
)

// Submitter loads records pushed by a provider.
type Submitter interface {
	Submit(ctx context.Context, provider, item string, rows []ingest.Row) (ingest.Result, error)
}

// Resolver holds the services the API is built on.
type Resolver struct {
	Cat    *catalog.Catalog // the catalog of credit information
	Credit *credit.Service
	Ingest Submitter
	// GrantSvc gives, revokes and lists authorizations.
	GrantSvc *grants.Service
	// Verifier answers verifications.
	Verifier *verification.Service
	// Feedback reads the access log and usage feedback.
	Feedback *feedback.Service
	// Objections runs the objection workflow (异议).
	ObjectionSvc *objections.Service
	// Repair handles credit-repair applications.
	Repair *repair.Service
	// SelfReports takes the enterprise's self-reported information.
	SelfReports *selfreport.Service
	// Clock tells grant statuses.
	Clock func() time.Time
}
