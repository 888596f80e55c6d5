# incremental.sh DRIVER - incremental mode end to end on sqlite, pg or mysql:
# 50k rows sharing 5 cursor values read 100 at a time exactly once; a second
# run emits exactly the 1500 rows updated or inserted since; an unchanged
# table gives an empty file; kill -9 mid-job and re-run gives exactly the
# changed rows; lookback re-emits on purpose; --step windows give the very
# bytes of one window; --start; NULL cursors refused; integer cursors; and
# (pg) the upper bound held back before an open transaction.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
DRIVER=${1:?usage: incremental.sh sqlite|pg|mysql}
T=$SLUICE_TMP
N=50000

# ---- the driver's dialect: q runs SQL from stdin; ts D H is a literal
# ---- cursor value (day D of 2026-01, hour H, UTC); CAST types one in SQL
CAST=""
case $DRIVER in
sqlite)
    URL=$T/incr.db
    q() { sqlite3 -bail "$URL"; }
    ts() { printf "'2026-01-%02dT%02d:00:00Z'" "$1" "$2"; }
    TSTYPE=TEXT
    NUMS="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000) SELECT i FROM s"
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_PG_ENV"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    URL=$SLUICE_TEST_PG_URL
    q() { "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$URL" >/dev/null; }
    ts() { printf "'2026-01-%02d %02d:00:00+00'" "$1" "$2"; }
    TSTYPE=timestamptz
    CAST=::timestamptz
    NUMS="SELECT i FROM generate_series(1, 100000) AS g(i)"
    ;;
mysql)
    [ -n "${SLUICE_TEST_MYSQL_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_MYSQL_ENV"; exit 77; }
    . "$SLUICE_TEST_MYSQL_ENV"
    URL=$SLUICE_TEST_MYSQL_URL
    CLIENT=$(command -v mariadb || command -v mysql)
    q() {
        MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD "$CLIENT" --no-defaults -h "$SLUICE_TEST_MYSQL_HOST" \
            -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB"
    }
    ts() { printf "'2026-01-%02d %02d:00:00'" "$1" "$2"; }
    TSTYPE="DATETIME(6)"
    NUMS="SELECT a.x + 10 * b.x + 100 * c.x + 1000 * d.x + 10000 * e.x + 1 AS i FROM incr_digits a, incr_digits b, incr_digits c, incr_digits d, incr_digits e"
    ;;
*) echo "unknown driver $DRIVER" >&2; exit 2 ;;
esac

q <<EOF
DROP TABLE IF EXISTS incr_orders;
DROP TABLE IF EXISTS incr_nullable;
DROP TABLE IF EXISTS incr_two;
DROP TABLE IF EXISTS incr_versions;
DROP TABLE IF EXISTS incr_nums;
DROP TABLE IF EXISTS incr_digits;
CREATE TABLE incr_digits (x INTEGER NOT NULL);
INSERT INTO incr_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
CREATE TABLE incr_nums (i INTEGER NOT NULL PRIMARY KEY);
INSERT INTO incr_nums $NUMS;
CREATE TABLE incr_orders (
    id BIGINT NOT NULL PRIMARY KEY,
    updated_at $TSTYPE NOT NULL,
    note VARCHAR(40) NOT NULL
);
CREATE INDEX incr_orders_cursor ON incr_orders (updated_at, id);
INSERT INTO incr_orders SELECT i, CASE i % 5 WHEN 0 THEN $(ts 1 0)$CAST WHEN 1 THEN $(ts 2 0)$CAST
    WHEN 2 THEN $(ts 3 0)$CAST WHEN 3 THEN $(ts 4 0)$CAST ELSE $(ts 5 0)$CAST END, 'first'
    FROM incr_nums WHERE i <= $N;
CREATE TABLE incr_nullable (id INTEGER NOT NULL PRIMARY KEY, changed_at $TSTYPE NULL);
INSERT INTO incr_nullable SELECT i, CASE WHEN i % 100 = 0 THEN NULL ELSE $(ts 1 0)$CAST END
    FROM incr_nums WHERE i <= 1000;
CREATE TABLE incr_two (id INTEGER NOT NULL PRIMARY KEY, a $TSTYPE NOT NULL, b INTEGER NULL);
INSERT INTO incr_two SELECT i, $(ts 1 0)$CAST, CASE WHEN i % 250 = 0 THEN NULL ELSE i END
    FROM incr_nums WHERE i <= 1000;
CREATE TABLE incr_versions (id INTEGER NOT NULL PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO incr_versions SELECT i, i * 3 FROM incr_nums WHERE i <= 2000;
EOF

ST=$T/state.db
inc() { "$SLUICE" extract "$URL" "$@" --state "$ST" --mode incremental; }

# ids FILE EXPECT: the file holds each expected id exactly once, in
# (updated_at, id) order. EXPECT is a python expression over i giving the
# set of expected ids.
ids() {
    python3 - "$1" "$2" <<'PY'
import json, sys
path, expect = sys.argv[1], eval(sys.argv[2])
rows = [json.loads(l) for l in open(path, encoding="utf-8")]
got = [r["id"] for r in rows]
order = [(r["updated_at"], r["id"]) for r in rows]
errs = []
if len(got) != len(set(got)):
    errs.append("%d duplicated ids" % (len(got) - len(set(got))))
if set(got) != set(expect):
    errs.append("missing %d, unexpected %d" % (len(set(expect) - set(got)), len(set(got) - set(expect))))
if order != sorted(order):
    errs.append("not in (updated_at, id) order")
if errs:
    print("; ".join(errs), "(%d rows)" % len(got))
    sys.exit(1)
PY
}

rows_ok() { # NAME FILE EXPECT
    local out
    if out=$(ids "$2" "$3" 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi
}

# 1. 50k rows, 5 cursor values, pages of 100: every row exactly once.
check "first run" inc incr_orders --cursor-field updated_at --page-size 100 -o "$T/run1.ndjson"
rows_ok "first run: all $N rows exactly once" "$T/run1.ndjson" "range(1, $N + 1)"

# 2. Update 1000, insert 500: exactly those 1500, into a new file.
q <<EOF
UPDATE incr_orders SET updated_at = $(ts 6 0), note = 'updated' WHERE id % 50 = 0;
INSERT INTO incr_orders SELECT i, $(ts 6 0), 'inserted' FROM incr_nums WHERE i > $N AND i <= $N + 500;
EOF
check "second run" inc incr_orders --cursor-field updated_at --page-size 100 -o "$T/run2.ndjson"
rows_ok "second run: exactly the 1000 updated and 500 inserted rows" "$T/run2.ndjson" \
    "[i for i in range(1, $N + 1) if i % 50 == 0] + list(range($N + 1, $N + 501))"

# A completed command run again does nothing (its file is the last job's);
# an existing file of an earlier job is never overwritten.
cp "$T/run2.ndjson" "$T/run2.copy"
check "re-running the completed command" inc incr_orders --cursor-field updated_at --page-size 100 -o "$T/run2.ndjson"
same_file "re-run leaves the job's file as it was" "$T/run2.copy" "$T/run2.ndjson"
expect_exit 5 "an earlier job's file is not overwritten" inc incr_orders --cursor-field updated_at -o "$T/run1.ndjson"
rows_ok "the earlier file is intact" "$T/run1.ndjson" "range(1, $N + 1)"

# 3. Nothing changed: an empty file, exit 0.
check "unchanged table" inc incr_orders --cursor-field updated_at -o "$T/run3.ndjson"
if [ -f "$T/run3.ndjson" ] && [ ! -s "$T/run3.ndjson" ]; then
    ok "unchanged table: an empty output file"
else
    not_ok "unchanged table: an empty output file" "$(ls -l "$T"/run3* 2>&1)"
fi

# 4. kill -9 in the middle of an incremental job, then re-run: exactly once.
q <<EOF
UPDATE incr_orders SET updated_at = $(ts 7 0) WHERE id % 5 = 1;
EOF
KCMD=("$SLUICE" extract "$URL" incr_orders --state "$ST" --mode incremental
      --cursor-field updated_at --page-size 100 --checkpoint-every 300 -o "$T/run4.ndjson.zst")
if kill_resume_loop "$T/run4.ndjson.zst" 4 "${KCMD[@]}"; then
    ok "killed run completes on re-run ($KRL_KILLS kills)"
else
    not_ok "killed run completes on re-run" "$KRL_ERR"
fi
zstd -q -dc "$T/run4.ndjson.zst" >"$T/run4.ndjson"
rows_ok "killed and re-run: each changed row exactly once" "$T/run4.ndjson" \
    "[i for i in range(1, $N + 501) if i % 5 == 1]"

# 5. Lookback: a row committed late with a cursor equal to the high-water
# mark is skipped without lookback and re-read with it. The lookback's
# lower bound is inclusive: rows exactly at high-water minus the lookback
# (day 7, 23:00) are re-emitted too.
q <<EOF
UPDATE incr_orders SET updated_at = $(ts 8 0) WHERE id % 5000 = 2;
UPDATE incr_orders SET updated_at = $(ts 7 23) WHERE id % 5000 = 4;
EOF
check "run before the late rows" inc incr_orders --cursor-field updated_at -o "$T/run5.ndjson"
rows_ok "ten rows moved to day 8, ten to day 7 23:00" "$T/run5.ndjson" \
    "[i for i in range(1, $N + 501) if i % 5000 in (2, 4)]"
q <<EOF
UPDATE incr_orders SET updated_at = $(ts 8 0) WHERE id % 5000 = 3;
EOF
check "no lookback" inc incr_orders --cursor-field updated_at -o "$T/run6.ndjson"
rows_ok "without lookback the late rows at the high-water mark are not read" "$T/run6.ndjson" "[]"
check "lookback PT1H" inc incr_orders --cursor-field updated_at --lookback PT1H -o "$T/run7.ndjson"
rows_ok "lookback re-emits the last hour, its lower bound included: the late rows and the rows read before" \
    "$T/run7.ndjson" "[i for i in range(1, $N + 501) if i % 5000 in (2, 3, 4)]"

# 6. Windows: --step gives the very bytes of one window, also when killed.
check "one window" inc incr_orders --cursor-field updated_at --stream w0 -o "$T/w0.ndjson"
check "windows of a day" inc incr_orders --cursor-field updated_at --stream w1 \
    --step P1D --page-size 100 -v -o "$T/w1.ndjson"
same_file "--step P1D: same bytes as one window" "$T/w0.ndjson" "$T/w1.ndjson"
windows=$(grep -c "window up to" "$E2E_ERR" || true)
if [ "$windows" -ge 5 ]; then ok "--step P1D read $windows windows"; else not_ok "--step P1D windows" "$windows windows"; fi
check "windows aligned to days" inc incr_orders --cursor-field updated_at --stream w2 \
    --step PT30H --granularity P1D -o "$T/w2.ndjson"
same_file "--step with --granularity: same bytes" "$T/w0.ndjson" "$T/w2.ndjson"
WCMD=("$SLUICE" extract "$URL" incr_orders --state "$ST" --mode incremental --stream w3
      --cursor-field updated_at --step PT12H --page-size 50 --checkpoint-every 200 -o "$T/w3.ndjson")
if kill_resume_loop "$T/w3.ndjson" 4 "${WCMD[@]}"; then ok "windows killed and re-run"; else not_ok "windows killed and re-run" "$KRL_ERR"; fi
same_file "windows killed and re-run: same bytes" "$T/w0.ndjson" "$T/w3.ndjson"

# 7. --start bounds the first job only; a changed -o continues the stream.
check "--start" inc incr_orders --cursor-field updated_at --stream s1 --start "$(ts 6 0 | tr -d "'")" -o "$T/s1.ndjson"
rows_ok "--start: only rows at or after it" "$T/s1.ndjson" \
    "[i for i in range(1, $N + 501) if i % 5 == 1 or i % 5000 in (2, 3, 4) or (i % 50 == 0 and i <= $N) or i > $N]"
check "--start next job" inc incr_orders --cursor-field updated_at --stream s1 --start "$(ts 1 0 | tr -d "'")" -o "$T/s2.ndjson"
rows_ok "--start is ignored once the stream has a high-water mark" "$T/s2.ndjson" "[]"

# 8. NULL cursors never vanish silently: refused, or excluded knowingly.
expect_exit 3 "NULL cursor values refused" inc incr_nullable --cursor-field changed_at -o "$T/n1.ndjson"
if grep -q "10 rows .* NULL" "$E2E_ERR" && [ ! -e "$T/n1.ndjson" ] && [ ! -e "$T/n1.ndjson.partial" ]; then
    ok "NULL refusal names the count, writes nothing"
else
    not_ok "NULL refusal names the count, writes nothing" "$(cat "$E2E_ERR")"
fi
# Every cursor column is checked, not only the first: here only b has NULLs.
expect_exit 3 "a NULL in the second cursor column refused" inc incr_two --cursor-field a,b -o "$T/n3.ndjson"
if grep -q "4 rows of incr_two have a NULL in cursor columns a, b" "$E2E_ERR" &&
    [ ! -e "$T/n3.ndjson" ] && [ ! -e "$T/n3.ndjson.partial" ]; then
    ok "the refusal names the count and both cursor columns, writes nothing"
else
    not_ok "the refusal names the count and both cursor columns, writes nothing" "$(cat "$E2E_ERR")"
fi
check "NULLs excluded with --where" inc incr_nullable --cursor-field changed_at \
    --where "changed_at IS NOT NULL" -o "$T/n2.ndjson"
n2=$(wc -l <"$T/n2.ndjson")
if [ "$n2" -eq 990 ]; then ok "--where: the 990 non-NULL rows"; else not_ok "--where: the 990 non-NULL rows" "$n2 rows"; fi

# 9. Integer cursors: windows of a count, lookback of a count.
check "integer cursor" inc incr_versions --cursor-field version --stream v0 -o "$T/v0.ndjson"
check "integer cursor, --step 700" inc incr_versions --cursor-field version --stream v1 --step 700 -o "$T/v1.ndjson"
same_file "integer windows: same bytes" "$T/v0.ndjson" "$T/v1.ndjson"
q <<EOF
UPDATE incr_versions SET version = 6003 WHERE id = 5;
EOF
check "integer lookback" inc incr_versions --cursor-field version --stream v0 --lookback 4 -o "$T/v2.ndjson"
got=$(python3 -c 'import json,sys; print(sorted(json.loads(l)["id"] for l in open(sys.argv[1])))' "$T/v2.ndjson")
if [ "$got" = "[5, 1999, 2000]" ]; then ok "integer lookback of 4 re-reads versions 5996..6000"; else not_ok "integer lookback" "$got"; fi

# 10. Bad incremental input: clear errors, nothing written.
expect_exit 2 "offset paging refused in incremental mode" inc incr_orders --cursor-field updated_at --paging offset -o "$T/bad1.ndjson"
expect_exit 3 "unknown cursor column" inc incr_orders --cursor-field nosuch -o "$T/bad2.ndjson"
expect_exit 2 "--step on a text cursor" inc incr_orders --cursor-field note --stream bad3 --step PT1H -o "$T/bad3.ndjson"
if ls "$T"/bad* >/dev/null 2>&1; then not_ok "bad input leaves no file" "$(ls "$T"/bad*)"; else ok "bad input leaves no file"; fi

# 11. PostgreSQL: the upper bound waits for a transaction that is still open.
if [ "$DRIVER" = pg ]; then
    mkfifo "$T/hold"
    "$SLUICE_TEST_PG_BIN/psql" -X -q "$URL" <"$T/hold" >/dev/null 2>&1 &
    holder=$!
    exec 9>"$T/hold"
    echo "BEGIN; SELECT txid_current();" >&9
    sleep 1
    q <<EOF
INSERT INTO incr_orders VALUES (90001, now(), 'after the open transaction began');
EOF
    check "run while a transaction is open" inc incr_orders --cursor-field updated_at -v -o "$T/h1.ndjson"
    if grep -q "held back" "$E2E_ERR"; then ok "upper bound held back (said with -v)"; else not_ok "upper bound held back" "$(cat "$E2E_ERR")"; fi
    rows_ok "rows after the open transaction's start wait" "$T/h1.ndjson" "[]"
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$holder" || true
    check "run after it ended" inc incr_orders --cursor-field updated_at -o "$T/h2.ndjson"
    rows_ok "then they are read" "$T/h2.ndjson" "[90001]"
fi

finish
