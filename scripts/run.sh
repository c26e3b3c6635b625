#!/usr/bin/env bash
# Development server: services, database, migrations, demo data, a token per role, then serve.
set -euo pipefail
cd "$(dirname "$0")/.."

export CREDITD_MODE=${CREDITD_MODE:-development}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/creditd?sslmode=disable}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export CREDITD_KEY_DIR=${CREDITD_KEY_DIR:-var/keys}
export CREDITD_ADDR=${CREDITD_ADDR:-:8080}
SIM_ADDR=${PROVIDER_SIM_ADDR:-127.0.0.1:8091}
export CREDITD_PROVIDERS=${CREDITD_PROVIDERS:-TAX=http://$SIM_ADDR/TAX,HF=http://$SIM_ADDR/HF,GRID=http://$SIM_ADDR/GRID,NRA=http://$SIM_ADDR/NRA}

scripts/services.sh
scripts/createdb.sh creditd
mkdir -p bin
go build -o bin/creditd ./cmd/creditd
go build -o bin/provider-sim ./cmd/provider-sim
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
# The provider simulator stands in for the tax, housing-fund, electricity and real-estate
# providers' interfaces (interface call and data verification modes); it stops with the server.
bin/provider-sim --addr "$SIM_ADDR" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null' EXIT INT TERM
bin/creditd serve
