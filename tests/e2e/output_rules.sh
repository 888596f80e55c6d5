#!/usr/bin/env bash
# output_rules.sh - what a run does with its output and state before and
# after the rows: a symbolic link is written through; a run to stdout is a
# new job unless --stream names it; usage errors that need the table
# (values, durations, --where) leave no state store and no file behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
DB=$T/src.db
sqlite3 -bail "$DB" <<'SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000)
INSERT INTO t SELECT i, 'row ' || i, i * 10 FROM s;
SQL
sqlite3 "$DB" "SELECT json_object('id', id, 'v', v, 'n', n) FROM t ORDER BY id" >"$T/expected.ndjson"

# ---- -o through a symbolic link ----------------------------------------------
mkdir -p "$T/links/real"
ln -s real/data.ndjson "$T/links/latest.ndjson"
check "-o a symbolic link" "$SLUICE" extract "$DB" t -o "$T/links/latest.ndjson" --state "$T/links.db"
if [ -L "$T/links/latest.ndjson" ] && [ "$(readlink "$T/links/latest.ndjson")" = real/data.ndjson ] &&
    cmp -s "$T/links/real/data.ndjson" "$T/expected.ndjson"; then
    ok "the link stays a link and its target holds the rows"
else
    not_ok "the link stays a link and its target holds the rows" "$(ls -la "$T/links" "$T/links/real")"
fi

# ---- stdout: a new job each run, unless the stream is named -------------------
"$SLUICE" extract "$DB" t --state "$T/pipe.db" --page-size 100 --checkpoint-every 200 |
    head -n 1000 >/dev/null || true
check "a second run to stdout after a closed pipe" "$SLUICE" extract "$DB" t --state "$T/pipe.db"
if cmp -s "$E2E_OUT" "$T/expected.ndjson"; then
    ok "writes the whole table again, not the rest of the first run's job"
else
    not_ok "writes the whole table again, not the rest of the first run's job" "$(wc -l <"$E2E_OUT") lines"
fi
"$SLUICE" extract "$DB" t --state "$T/named.db" --stream nightly --page-size 100 --checkpoint-every 200 |
    head -n 1000 >/dev/null || true
check "a named stream to stdout resumes" "$SLUICE" extract "$DB" t --state "$T/named.db" --stream nightly
lines=$(wc -l <"$E2E_OUT")
if [ "$lines" -lt 3000 ] && [ "$lines" -ge 2000 ] &&
    [ "$(tail -n 1 "$E2E_OUT")" = "$(tail -n 1 "$T/expected.ndjson")" ]; then
    ok "from its last checkpoint (at-least-once): $lines rows"
else
    not_ok "from its last checkpoint (at-least-once)" "$lines rows"
fi

# ---- two runs of one stream to stdout are not run at once ---------------------
# The first is slowed down by a --where that takes a while per row.
SLOW="(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000 + (typeof(id) = 'none')) SELECT count(*) FROM c) > 0"
"$SLUICE" extract "$DB" t --state "$T/lock.db" --where "$SLOW" --page-size 1 >"$T/lock1.out" 2>"$T/lock1.err" &
pid=$!
# It holds the stream once its run is recorded as running.
for _ in $(seq 1 600); do
    [ "$(sqlite3 "$T/lock.db" "SELECT count(*) FROM runs WHERE status = 'running'" 2>/dev/null)" = 1 ] && break
    sleep 0.1
done
expect_exit 6 "a second run of the same stream to stdout is refused" \
    "$SLUICE" extract "$DB" t --state "$T/lock.db" --where "$SLOW" --page-size 1
if grep -q "another sluice process" "$E2E_ERR" && [ ! -s "$E2E_OUT" ]; then
    ok "naming the other process, writing nothing"
else
    not_ok "naming the other process, writing nothing" "$(cat "$E2E_ERR")"
fi
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# ---- usage errors that need the table leave nothing behind --------------------
refused_clean() {
    local name=$1 code=$2 pattern=$3
    shift 3
    rm -f "$T/clean.db" "$T/clean.ndjson" "$T/clean.ndjson.partial"
    expect_exit "$code" "$name: exit $code" "$SLUICE" extract "$DB" t -o "$T/clean.ndjson" \
        --state "$T/clean.db" "$@"
    if grep -q -e "$pattern" "$E2E_ERR" && [ "$(wc -l <"$E2E_ERR")" -eq 1 ] &&
        [ ! -e "$T/clean.db" ] && [ ! -e "$T/clean.ndjson" ] && [ ! -e "$T/clean.ndjson.partial" ]; then
        ok "$name: one line, no state store, no file"
    else
        not_ok "$name: one line, no state store, no file" "$(cat "$E2E_ERR")" "$(ls "$T" | grep clean || true)"
    fi
}
refused_clean "--start not an integer" 2 "--start" --mode incremental --cursor-field n --start abc
refused_clean "--end not an integer" 2 "--end" --mode incremental --cursor-field n --end 1.5
refused_clean "--step PT1H on an integer cursor" 2 "--step" --mode incremental --cursor-field n --step PT1H
refused_clean "--lookback P1D on an integer cursor" 2 "--lookback" --mode incremental --cursor-field n --lookback P1D
refused_clean "--granularity P1M" 2 "fixed length" --mode incremental --cursor-field v --step P1D --granularity P1M
refused_clean "a bad --where" 3 "syntax error" --where "id = = 1"
refused_clean "an unknown column in --where" 3 "no such column" --where "nosuch = 1"
refused_clean "an unknown --key" 3 "no column 'nosuch'" --key nosuch
finish
