// Package resolvers translates between GraphQL and the domain services. Resolvers stay thin:
// they find the viewer, call a service and convert the answer; they never decide access.
package resolvers

import (
	"context"

	"creditd/internal/catalog"
	"creditd/internal/credit"
	"creditd/internal/ingest"
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
}
