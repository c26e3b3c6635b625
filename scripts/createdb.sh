#!/usr/bin/env bash
# Creates the development database if it is missing, with a UTF-8 ctype so that the trigram
# index can search Chinese names.
set -euo pipefail
DB=${1:-creditd}
ADMIN_URL=${CREDITD_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if ! psql "$ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql "$ADMIN_URL" -qc "CREATE DATABASE \"$DB\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
  echo "created database $DB" >&2
fi
