# mysql_lib.sh - sourced by tests/e2e/mysql_*.sh: finds sluice and a server.
#
# SLUICE: the sluice binary (default: build/sluice of the source tree).
# The server: $SLUICE_TEST_MYSQL_ENV (an env file of scripts/mariadb-server.sh)
# if set, else a throwaway server started here in a temp dir and stopped on
# exit. Exits 77 (skipped) when no MariaDB server binaries are installed.
# Loads sql/mysql/fixtures.sql as the test user, then sets:
#   URL, PW, PWURL (the password, raw and percent-encoded), WORK (temp dir),
#   my (a client command line as the test user; the password in MYSQL_PWD)

set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SLUICE=${SLUICE:-$ROOT/build/sluice}
[ -x "$SLUICE" ] || { echo "no sluice binary at $SLUICE (set SLUICE)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 needed" >&2; exit 77; }

TMPBASE=${SLUICE_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$TMPBASE"
WORK=$(mktemp -d "$TMPBASE/sluice-mysql-test.XXXXXX")
chmod 755 "$WORK"
OWN_SERVER=
cleanup() {
    if [ -n "$OWN_SERVER" ]; then
        "$ROOT/scripts/mariadb-server.sh" stop "$OWN_SERVER" >/dev/null 2>&1 || true
    fi
    if [ "${KEEP_WORK:-}" = "" ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${SLUICE_TEST_MYSQL_ENV:-}" ]; then
    . "$SLUICE_TEST_MYSQL_ENV"
else
    set +e
    "$ROOT/scripts/mariadb-server.sh" start "$WORK/server" >"$WORK/server.log" 2>&1
    rc=$?
    set -e
    if [ $rc -eq 77 ]; then echo "skipped: no MariaDB server installed" >&2; exit 77; fi
    if [ $rc -ne 0 ]; then cat "$WORK/server.log" >&2; exit 1; fi
    OWN_SERVER=$WORK/server
    . "$WORK/server/env"
fi

URL=$SLUICE_TEST_MYSQL_URL
PW=$SLUICE_TEST_MYSQL_PASSWORD
PWURL=$SLUICE_TEST_MYSQL_PASSWORD_URL
CLIENT=$(command -v mariadb || command -v mysql)
my() {
    MYSQL_PWD=$PW "$CLIENT" --no-defaults --default-character-set=utf8mb4 \
        -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" \
        -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB" "$@"
}
my <"$ROOT/sql/mysql/fixtures.sql" >/dev/null

FAILS=0
ok() { echo "ok   - $*"; }
not_ok() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }

# Fails when the password (raw or percent-encoded) is in any file under $WORK
# except the server's own directory.
check_no_password() {
    if python3 - "$WORK" "$PW" "$PWURL" <<'EOF'
import os, sys
root, secrets = sys.argv[1], [s.encode() for s in sys.argv[2:]]
bad = []
for d, dirs, files in os.walk(root):
    if os.path.join(root, "server") in (d, os.path.dirname(d)) or d.startswith(os.path.join(root, "server")):
        continue
    for f in files:
        p = os.path.join(d, f)
        try:
            data = open(p, "rb").read()
        except OSError:
            continue
        if any(s in data for s in secrets):
            bad.append(os.path.relpath(p, root))
if bad:
    print("password found in: " + ", ".join(sorted(bad)))
    sys.exit(1)
EOF
    then ok "the password is in no output, log or state file"
    else not_ok "the password leaked"
    fi
}
