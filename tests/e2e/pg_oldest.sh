#!/bin/bash
# pg_oldest.sh - an incremental job's upper bound waits for the oldest
# transaction open on the server that its role can see
# (pg_stat_activity): its own role's transactions hold it back; another
# role's are invisible without pg_read_all_stats and do not; a role that
# may not read pg_stat_activity at all runs without holding back, and
# without an error.
#
# Server: $SLUICE_TEST_PG_ENV (an env file of scripts/pg-server.sh).
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
if [ -z "${SLUICE_TEST_PG_ENV:-}" ] || [ ! -r "$SLUICE_TEST_PG_ENV" ]; then
    echo "skipped: SLUICE_TEST_PG_ENV names no env file of scripts/pg-server.sh"
    exit 77
fi
# shellcheck source=/dev/null
. "$SLUICE_TEST_PG_ENV"
T=$SLUICE_TMP
URL=$SLUICE_TEST_PG_URL
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
psql_do() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }
READER="postgresql://sluice_oldest@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres"
HOLDER=""
cleanup() {
    [ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
    psql_do >/dev/null 2>&1 <<'EOF' || true
GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC;
DROP TABLE IF EXISTS oldest_ev;
DROP ROLE IF EXISTS sluice_oldest;
EOF
}
trap cleanup EXIT
psql_do <<'EOF'
SET client_min_messages = warning;
DROP TABLE IF EXISTS oldest_ev;
DROP ROLE IF EXISTS sluice_oldest;
CREATE ROLE sluice_oldest LOGIN;
CREATE TABLE oldest_ev (id integer PRIMARY KEY, ts timestamptz NOT NULL);
GRANT SELECT ON oldest_ev TO sluice_oldest;
INSERT INTO oldest_ev VALUES (1, '2026-01-01 00:00:00+00');
EOF

# hold URL ROLE: a session of URL (as ROLE) inside an open transaction,
# until release; its start is before every row inserted afterwards.
hold() {
    rm -f "$T/hold"
    mkfifo "$T/hold"
    "$PSQL" -X -q "$1" <"$T/hold" >/dev/null 2>&1 &
    HOLDER=$!
    exec 9>"$T/hold"
    echo "BEGIN; SELECT txid_current();" >&9
    for _ in $(seq 1 100); do
        [ "$(psql_do -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND usename = '$2'")" -gt 0 ] && return 0
        sleep 0.05
    done
}
release() {
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$HOLDER" || true
    HOLDER=""
}
# run NAME: an incremental run as sluice_oldest with -v; prints nothing.
run() {
    check "$1: exit 0" "$SLUICE" extract "$READER" oldest_ev --mode incremental \
        --cursor-field ts -v -o "$T/$1.ndjson" --state "$T/state.db"
}
# add ID: a row with the server's now(), after any transaction held.
add() { psql_do -c "INSERT INTO oldest_ev VALUES ($1, now())"; }
ids() { python3 -c 'import json, sys; print([json.loads(l)["id"] for l in open(sys.argv[1])])' "$1"; }

run first
[ "$(ids "$T/first.ndjson")" = "[1]" ] && ok "first run reads the row" || not_ok "first run reads the row" "$(cat "$T/first.ndjson")"

# Its own role's open transaction holds the bound back.
hold "$READER" sluice_oldest
add 2
run own
if grep -q "held back" "$E2E_ERR" && [ "$(ids "$T/own.ndjson")" = "[]" ]; then
    ok "an open transaction of its own role holds the upper bound back"
else
    not_ok "an open transaction of its own role holds the upper bound back" "$(cat "$E2E_ERR")" "$(ids "$T/own.ndjson")"
fi
release
run own_done
[ "$(ids "$T/own_done.ndjson")" = "[2]" ] && ok "then the row is read" || not_ok "then the row is read" "$(ids "$T/own_done.ndjson")"

# Another role's transaction is invisible to it: no hold-back, no error.
hold "$URL" postgres
add 3
run other
if ! grep -q "held back" "$E2E_ERR" && [ "$(ids "$T/other.ndjson")" = "[3]" ]; then
    ok "another role's open transaction is invisible without pg_read_all_stats"
else
    not_ok "another role's open transaction is invisible without pg_read_all_stats" "$(cat "$E2E_ERR")"
fi
release

# pg_stat_activity not readable at all: the bound is not held back, and the
# run is not an error.
psql_do -c "REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC"
hold "$READER" sluice_oldest
add 4
run noperm
if ! grep -q "held back" "$E2E_ERR" && [ "$(ids "$T/noperm.ndjson")" = "[4]" ]; then
    ok "no permission on pg_stat_activity: not held back, no error"
else
    not_ok "no permission on pg_stat_activity: not held back, no error" "$(cat "$E2E_ERR")"
fi
release
psql_do -c "GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC"

finish
