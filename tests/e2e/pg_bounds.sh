#!/bin/sh
# pg_bounds.sh - runs the pg_bounds test program ($1) against the server
# named by $SLUICE_TEST_PG_ENV (an env file of scripts/pg-server.sh).
set -eu
[ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: SLUICE_TEST_PG_ENV not set"; exit 77; }
. "$SLUICE_TEST_PG_ENV"
exec "$1"
