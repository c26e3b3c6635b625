// Package disclosure collects, during one request, every disclosure the request makes (records
// viewed, a report produced, a verification answered) so that they are committed to the usage
// log before the response leaves: no record, no data (DESIGN.md principle 3).
package disclosure

import (
	"context"
	"sync"

	"creditd/internal/usage"
)

// Collector gathers one request's usage events. It is safe for concurrent use by the
// resolvers of one request.
type Collector struct {
	actor     string
	requestID string

	mu     sync.Mutex
	events []usage.Event
}

type key struct{}

// Start returns a context carrying a new collector for a request by actor (the token's sub).
func Start(ctx context.Context, actor, requestID string) (context.Context, *Collector) {
	c := &Collector{actor: actor, requestID: requestID}
	return context.WithValue(ctx, key{}, c), c
}

// From returns the request's collector, or nil outside a request.
func From(ctx context.Context) *Collector {
	c, _ := ctx.Value(key{}).(*Collector)
	return c
}

// Add records a disclosure made while serving the request in ctx; the actor and request id
// are the request's. It reports false when ctx carries no collector, in which case the caller
// must not disclose.
func Add(ctx context.Context, e usage.Event) bool {
	c := From(ctx)
	if c == nil {
		return false
	}
	e.Actor = c.actor
	e.RequestID = c.requestID
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	return true
}

// Take returns the events gathered so far and empties the collector.
func (c *Collector) Take() []usage.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.events
	c.events = nil
	return out
}
