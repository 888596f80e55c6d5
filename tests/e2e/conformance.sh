#!/usr/bin/env bash
# conformance.sh DB PROGRAM - the paging conformance suite (PROGRAM, built
# from tests/conformance/paging.c) against one database: sqlite, pg or
# mysql. Loads the same tables into each, then runs the same checks
# through the core's scan calls.
set -euo pipefail
db=$1 prog=$2
here=$(cd "$(dirname "$0")" && pwd)
fixtures() { bash "$here/../conformance/fixtures.sh" "$db"; }
tmp=${SLUICE_TMP:-$(mktemp -d)}
mkdir -p "$tmp"
case $db in
sqlite)
    rm -f "$tmp/conf.db"
    fixtures | sqlite3 "$tmp/conf.db"
    exec "$prog" "sqlite:$tmp/conf.db"
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: SLUICE_TEST_PG_ENV not set"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    fixtures | "${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql" -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_URL" >/dev/null
    exec "$prog" "$SLUICE_TEST_PG_URL"
    ;;
mysql)
    [ -n "${SLUICE_TEST_MYSQL_ENV:-}" ] || { echo "SKIP: SLUICE_TEST_MYSQL_ENV not set"; exit 77; }
    . "$SLUICE_TEST_MYSQL_ENV"
    client=$(command -v mariadb || command -v mysql)
    fixtures | MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD "$client" --no-defaults \
        -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" \
        -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB"
    exec "$prog" "$SLUICE_TEST_MYSQL_URL"
    ;;
*) echo "usage: $0 sqlite|pg|mysql PROGRAM" >&2; exit 2 ;;
esac
