#!/usr/bin/env bash
# wide_rows.sh DB - rows of every width on one database (sqlite, pg or
# mysql): 100 KB rows at the default page size stay under 64 MB of memory
# (pages are bounded by bytes as well as rows), and single rows far beyond
# the output buffer (a 50 MiB binary value, 12 MiB of control characters
# that escape to 72 MiB of JSON) are extracted exactly, with memory about
# proportional to the largest row.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
db=$1
T=$SLUICE_TMP

case $db in
sqlite)
    URL="sqlite:$T/wide.db"
    sql() { sqlite3 -bail "$T/wide.db"; }
    REPEAT="substr(hex(zeroblob(50000)), 1, 100000)" # 100,000 characters
    BIG="zeroblob(50 * 1024 * 1024)"
    CTRL="replace(hex(zeroblob(12 * 1024 * 1024)), '00', char(1))"
    SEQ="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1500) SELECT i, '' FROM s"
    BLOB=BLOB
    TEXT=TEXT
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: SLUICE_TEST_PG_ENV not set"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    URL=$SLUICE_TEST_PG_URL
    sql() { "${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql" -X -q -v ON_ERROR_STOP=1 "$URL" >/dev/null; }
    REPEAT="repeat('x', 100000)"
    BIG="convert_to(repeat('y', 50 * 1024 * 1024), 'UTF8')"
    CTRL="repeat(chr(1), 12 * 1024 * 1024)"
    SEQ="SELECT i, '' FROM generate_series(1, 1500) AS i"
    BLOB=BYTEA
    TEXT=TEXT
    ;;
mysql)
    [ -n "${SLUICE_TEST_MYSQL_ENV:-}" ] || { echo "SKIP: SLUICE_TEST_MYSQL_ENV not set"; exit 77; }
    . "$SLUICE_TEST_MYSQL_ENV"
    URL=$SLUICE_TEST_MYSQL_URL
    client=$(command -v mariadb || command -v mysql)
    sql() { MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD "$client" --no-defaults -h "$SLUICE_TEST_MYSQL_HOST" \
        -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB"; }
    REPEAT="REPEAT('x', 100000)"
    BIG="REPEAT('y', 50 * 1024 * 1024)"
    CTRL="REPEAT(CHAR(1), 12 * 1024 * 1024)"
    SEQ="SELECT seq, '' FROM seq_1_to_1500"
    BLOB=LONGBLOB
    TEXT=LONGTEXT # MySQL's TEXT holds 64 KiB
    ;;
*) echo "usage: $0 sqlite|pg|mysql" >&2; exit 2 ;;
esac

sql <<SQL
DROP TABLE IF EXISTS wide_rows;
DROP TABLE IF EXISTS big_rows;
CREATE TABLE wide_rows (id INTEGER NOT NULL PRIMARY KEY, v $TEXT NOT NULL);
INSERT INTO wide_rows (id, v) $SEQ;
UPDATE wide_rows SET v = $REPEAT;
CREATE TABLE big_rows (id INTEGER NOT NULL PRIMARY KEY, b $BLOB, t $TEXT);
INSERT INTO big_rows (id, b, t) VALUES (1, NULL, 'small'), (2, $BIG, NULL), (3, NULL, $CTRL), (4, NULL, 'after');
SQL

# Runs sluice ARGS and sets RSS_KB to its peak resident memory.
measure() {
    RSS_KB=$(python3 - "$@" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
if rc:
    print(f"exit {rc}")
    sys.exit(0)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
}

# AddressSanitizer keeps freed memory in quarantine and shadows the rest:
# its builds say nothing about sluice's own peak memory.
SANITIZED=${ASAN_OPTIONS:+1}
for paging in keyset cursor; do
    measure "$SLUICE" extract "$URL" wide_rows -o "$T/wide-$paging.ndjson" --state "$T/state.db" --paging "$paging"
    case $RSS_KB in
    exit*) not_ok "100 KB rows, $paging paging" "$RSS_KB" ;;
    *)
        if [ -n "$SANITIZED" ]; then ok "100 KB rows, $paging paging (memory not measured under AddressSanitizer)"
        elif [ "$RSS_KB" -lt 65536 ]; then ok "100 KB rows, $paging paging: peak RSS ${RSS_KB} KB < 64 MB"
        else not_ok "100 KB rows, $paging paging: peak RSS ${RSS_KB} KB >= 64 MB"; fi ;;
    esac
    if [ "$(wc -l <"$T/wide-$paging.ndjson")" -eq 1500 ] &&
        python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if [r["id"] for r in rows] == list(range(1, 1501)) and all(r["v"] == "x" * 100000 or len(r["v"]) == 100000 for r in rows) else 1)' "$T/wide-$paging.ndjson"
    then ok "100 KB rows, $paging paging: every row once, whole"; else not_ok "100 KB rows, $paging paging: every row once, whole"; fi
done

measure "$SLUICE" extract "$URL" big_rows -o "$T/big.ndjson" --state "$T/state.db"
case $RSS_KB in
exit*) not_ok "a 50 MiB value and 12 MiB of control characters" "$RSS_KB" ;;
*)
    if [ -n "$SANITIZED" ] || [ "$RSS_KB" -lt $((600 * 1024)) ]; then ok "big rows extracted, peak RSS ${RSS_KB} KB"
    else not_ok "big rows: peak RSS ${RSS_KB} KB, more than about proportional to the largest row"; fi ;;
esac
if [ -s "$T/big.ndjson" ] && python3 -c '
import base64, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = [r["id"] for r in rows] == [1, 2, 3, 4]
b = base64.b64decode(rows[1]["b"]) if ok else b""
ok = ok and len(b) == 50 * 1024 * 1024 and set(b) <= {0, ord("y")}
ok = ok and rows[2]["t"] == "\x01" * (12 * 1024 * 1024) and rows[3]["t"] == "after"
sys.exit(0 if ok else 1)' "$T/big.ndjson"
then ok "big rows: exact values"; else not_ok "big rows: exact values"; fi
finish
