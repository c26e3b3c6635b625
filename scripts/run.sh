#!/usr/bin/env bash
# Development server: services, database, migrations, demo data, a token per role, then serve.
set -euo pipefail
cd "$(dirname "$0")/.."

export CREDITD_MODE=${CREDITD_MODE:-development}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/creditd?sslmode=disable}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export CREDITD_KEY_DIR=${CREDITD_KEY_DIR:-var/keys}
export CREDITD_ADDR=${CREDITD_ADDR:-:8080}

scripts/services.sh
scripts/createdb.sh creditd
mkdir -p bin
go build -o bin/creditd ./cmd/creditd
bin/creditd migrate
bin/creditd seed --demo

company=$(bin/creditd seed --print-fixture company)
{
  echo
  echo "Development tokens (valid 12 hours):"
  echo "  INSTITUTION DEMO-BANK:  $(bin/creditd token --role INSTITUTION --org DEMO-BANK --sub loan-officer --ttl 12h)"
  echo "  ENTERPRISE  $company: $(bin/creditd token --role ENTERPRISE --org "$company" --sub finance-officer --ttl 12h)"
  echo "  PROVIDER    NDRC:       $(bin/creditd token --role PROVIDER --org NDRC --sub data-clerk --ttl 12h)"
  echo "  OPERATOR    PLATFORM:   $(bin/creditd token --role OPERATOR --org PLATFORM --sub auditor --ttl 12h)"
  echo
  echo "GraphiQL: http://localhost${CREDITD_ADDR#*:}/ (add the header Authorization: Bearer <token>)" | sed 's#localhost\([0-9]\)#localhost:\1#'
  echo
} >&2
exec bin/creditd serve
