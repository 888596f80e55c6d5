#!/bin/sh
# mysql_bounds.sh - incremental mode's driver calls (prefix bounds on every
# strategy, cursor_range, oldest_transaction with and without PROCESS) on
# sql/mysql/bounds.sql, through tests/e2e/mysql_bounds.c (the program named
# by $SLUICE_MYSQL_BOUNDS). The PROCESS case needs root on the server over
# its socket (scripts/mariadb-server.sh gives it); without it that check is
# skipped.
. "$(dirname "$0")/mysql_lib.sh"

BOUNDS=${SLUICE_MYSQL_BOUNDS:-$ROOT/build/tests/mysql_bounds}
[ -x "$BOUNDS" ] || { echo "no mysql_bounds program at $BOUNDS (set SLUICE_MYSQL_BOUNDS)" >&2; exit 2; }
my <"$ROOT/sql/mysql/bounds.sql" >/dev/null
export SLUICE_TEST_MYSQL_URL SLUICE_TEST_MYSQL_HOST SLUICE_TEST_MYSQL_PORT SLUICE_TEST_MYSQL_USER \
    SLUICE_TEST_MYSQL_PASSWORD SLUICE_TEST_MYSQL_DB SLUICE_TEST_MYSQL_SOCKET
"$BOUNDS" >"$WORK/bounds.out" 2>&1 && rc=0 || rc=$?
cat "$WORK/bounds.out"
[ $rc -eq 0 ] || FAILS=$((FAILS + 1))
check_no_password
[ $FAILS -eq 0 ]
