# creditd — see README.md.
GO ?= go

.PHONY: run test build vet generate bench services

run: ## serve the demo in development mode (starts PostgreSQL and Redis if needed)
	scripts/run.sh

test: services ## vet and run every test (with the race detector) against real PostgreSQL and Redis
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

build:
	$(GO) build -o bin/creditd ./cmd/creditd

vet:
	$(GO) vet ./...

generate: ## regenerate the GraphQL executor and models from graph/schema
	$(GO) tool gqlgen generate

services:
	scripts/services.sh

bench: services ## all benchmarks (see docs/performance.md)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/...
