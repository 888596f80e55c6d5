# pg_env.sh - sourced by the pg_*.sh tests: finds sluice and a server.
#
# $SLUICE: the sluice binary (default: build/sluice of the repository).
# A server: $SLUICE_TEST_PG_ENV names an env file written by
# scripts/pg-server.sh; else $SLUICE_TEST_PG_URL (with $SLUICE_TEST_PG_BIN)
# is used as is; else a throwaway server is started in a temp dir and
# stopped on exit. Fixtures (sql/pg/fixtures.sql) are (re)loaded.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SLUICE=${SLUICE:-$repo/build/sluice}
[ -x "$SLUICE" ] || { echo "SKIP: no sluice binary at $SLUICE"; exit 77; }
work=$(mktemp -d /tmp/sluice-pgtest.XXXXXX)
chmod 755 "$work"
started=""
cleanup() {
    [ -n "$started" ] && "$repo/scripts/pg-server.sh" stop "$work/srv" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${SLUICE_TEST_PG_ENV:-}" ]; then
    . "$SLUICE_TEST_PG_ENV"
elif [ -z "${SLUICE_TEST_PG_URL:-}" ]; then
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || command -v pg_ctl >/dev/null ||
        { echo "SKIP: no PostgreSQL server installed"; exit 77; }
    "$repo/scripts/pg-server.sh" start "$work/srv" >/dev/null
    started=1
    . "$work/srv/env"
fi
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
psql_do() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_URL" "$@"; }
psql_do -f "$repo/sql/pg/fixtures.sql"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
