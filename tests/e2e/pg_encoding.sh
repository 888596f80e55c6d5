#!/bin/bash
# pg_encoding.sh - a SQL_ASCII database (bytes in no declared encoding) is
# read in its own encoding: valid UTF-8 comes out as it is, every invalid
# byte sequence becomes U+FFFD, and the values replaced are counted in one
# warning; keys holding such bytes page and bind back exactly (keyset and
# cursor, one row a page). A UTF8 database gives no warning.
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
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
DB=sluice_sql_ascii
URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
    "$SLUICE_TEST_PG_URL" "$DB")
psql_admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_URL" "$@"; }
cleanup() { psql_admin -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
psql_admin -c "CREATE DATABASE $DB ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
# Latin-1 bytes (caf\xe9), a lone continuation byte, a truncated sequence,
# valid UTF-8, plain ASCII, NULL; the key k holds invalid bytes too.
"$PSQL" -X -q -v ON_ERROR_STOP=1 "$URL" <<'EOF'
CREATE TABLE latin (k text PRIMARY KEY, id integer NOT NULL, t text, a text[]);
INSERT INTO latin VALUES
  (E'k1\xe9', 1, E'caf\xe9', ARRAY['ok']),
  (E'k2\x80', 2, E'\x80lone', NULL),
  (E'k3\xe2\x82', 3, E'cut \xe2\x82', NULL),
  ('k4', 4, 'déjà vu ✓', ARRAY['ü']),
  ('k5', 5, 'plain', NULL),
  ('k6', 6, NULL, NULL);
EOF
want='{"k":"k1\ufffd","id":1,"t":"caf\ufffd","a":["ok"]}
{"k":"k2\ufffd","id":2,"t":"\ufffdlone","a":null}
{"k":"k3\ufffd","id":3,"t":"cut \ufffd","a":null}
{"k":"k4","id":4,"t":"déjà vu ✓","a":["ü"]}
{"k":"k5","id":5,"t":"plain","a":null}
{"k":"k6","id":6,"t":null,"a":null}'
# canon FILE: each row re-encoded by Python (so \ufffd and the character
# itself compare equal).
canon() { python3 -c 'import json, sys
for l in sys.stdin: print(json.dumps(json.loads(l), ensure_ascii=True))'; }
for mode in keyset cursor; do
    out=$T/latin-$mode.ndjson
    check "SQL_ASCII database ($mode, one row a page): exit 0" "$SLUICE" extract "$URL" latin \
        --paging "$mode" --page-size 1 -o "$out" --state "$T/state.db"
    if [ "$(canon <"$out")" = "$(printf '%s\n' "$want" | canon)" ]; then
        ok "SQL_ASCII database ($mode): valid UTF-8 kept, invalid bytes replaced by U+FFFD, every row once"
    else
        not_ok "SQL_ASCII database ($mode): valid UTF-8 kept, invalid bytes replaced by U+FFFD" "$(cat "$out")"
    fi
    if grep -q "warning: 6 values held invalid UTF-8" "$E2E_ERR" && [ "$(wc -l <"$E2E_ERR")" -eq 1 ]; then
        ok "SQL_ASCII database ($mode): one warning counts the 6 values replaced"
    else
        not_ok "SQL_ASCII database ($mode): one warning counts the 6 values replaced" "$(cat "$E2E_ERR")"
    fi
done
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/latin-keyset.ndjson" &&
    ok "the output is valid UTF-8" || not_ok "the output is valid UTF-8"

# A UTF8 database: no warning at all.
check "UTF8 database: exit 0" "$SLUICE" extract "$SLUICE_TEST_PG_URL" pg_catalog.pg_am \
    --key oid -o "$T/am.ndjson" --state "$T/state.db"
[ ! -s "$E2E_ERR" ] && ok "UTF8 database: nothing on stderr" || not_ok "UTF8 database: nothing on stderr" "$(cat "$E2E_ERR")"

finish
