#!/usr/bin/env bash
# closed_pipe.sh - `sluice ... | head`: when stdout's reader goes away,
# sluice stops quietly (nothing on stderr) with exit 141, plain or
# compressed, the run history says so, and the next run to stdout writes
# the whole table. The table is far larger than a pipe holds (64 KiB), so
# every run meets the closed pipe, however fast the machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
DB=$T/src.db
sqlite3 -bail "$DB" <<'SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200000)
INSERT INTO t SELECT i, hex(randomblob(24)) FROM s;
SQL
sqlite3 "$DB" "SELECT json_object('id', id, 'v', v) FROM t ORDER BY id" >"$T/expected.ndjson"

# piped NAME READER SLUICE-ARGS...: sluice ARGS | READER (a shell command
# line); sluice's exit code in $RC, its stderr in $T/err, the reader's
# output in $T/read.
piped() {
    local name=$1 reader=$2
    shift 2
    { "$SLUICE" "$@" 2>"$T/err"; echo $? >"$T/rc"; } | bash -c "$reader" >"$T/read" 2>/dev/null || true
    RC=$(cat "$T/rc")
    if [ "$RC" -eq 141 ] && [ ! -s "$T/err" ]; then
        ok "$name: exit 141, nothing on stderr"
    else
        not_ok "$name: exit 141, nothing on stderr" "exit $RC" "stderr: $(cat "$T/err")"
    fi
}

# ---- plain stdout --------------------------------------------------------------
piped "extract | head -n 10" "head -n 10" extract "$DB" t --state "$T/st.db"
if cmp -s "$T/read" <(head -n 10 "$T/expected.ndjson"); then
    ok "head read the first 10 rows"
else
    not_ok "head read the first 10 rows" "$(head -c 300 "$T/read")"
fi
check "the next run to stdout" "$SLUICE" extract "$DB" t --state "$T/st.db"
if cmp -s "$E2E_OUT" "$T/expected.ndjson" && [ ! -s "$E2E_ERR" ]; then
    ok "writes the whole table, without a warning"
else
    not_ok "writes the whole table, without a warning" "$(wc -l <"$E2E_OUT") rows" "$(cat "$E2E_ERR")"
fi

# ---- compressed stdout -------------------------------------------------------
piped "extract --compress zstd | head -c 1000" "head -c 1000" \
    extract "$DB" t --state "$T/st.db" --compress zstd
piped "extract --compress gzip | gzip -dc | head -n 5" "gzip -dc | head -n 5" \
    extract "$DB" t --state "$T/st.db" --compress gzip --threads 2
if cmp -s "$T/read" <(head -n 5 "$T/expected.ndjson"); then
    ok "the reader decompressed the first 5 rows"
else
    not_ok "the reader decompressed the first 5 rows" "$(head -c 300 "$T/read")"
fi
"$SLUICE" extract "$DB" t --state "$T/st.db" --compress zstd >"$T/again.zst" 2>"$T/err" || true
if zstd -q -dc "$T/again.zst" | cmp -s - "$T/expected.ndjson" && [ ! -s "$T/err" ]; then
    ok "the next compressed run to stdout holds the whole table"
else
    not_ok "the next compressed run to stdout holds the whole table" "$(cat "$T/err")"
fi

# ---- a named stream: the same quiet stop; its next run resumes ------------------
piped "extract --stream NAME | head -n 10" "head -n 10" \
    extract "$DB" t --state "$T/st.db" --stream nightly --checkpoint-every 1000

# ---- the run history ---------------------------------------------------------
runs=$(sqlite3 "$T/st.db" "SELECT status || ': ' || coalesce(last_error, '') FROM runs ORDER BY id")
expected_runs="interrupted: stdout was closed by its reader (broken pipe)
done: 
interrupted: stdout was closed by its reader (broken pipe)
interrupted: stdout was closed by its reader (broken pipe)
done: 
interrupted: stdout was closed by its reader (broken pipe)"
if [ "$runs" = "$expected_runs" ]; then
    ok "the run history records each closed pipe as an interrupted run, saying why"
else
    not_ok "the run history records each closed pipe as an interrupted run, saying why" "$runs"
fi

# ---- discover ---------------------------------------------------------------------
# Enough columns that the JSON outgrows the pipe.
{
    echo "BEGIN;"
    for i in $(seq 1 200); do
        printf 'CREATE TABLE table_%d (id INTEGER PRIMARY KEY' "$i"
        for c in $(seq 1 40); do printf ', a_column_named_%d TEXT' "$c"; done
        echo ");"
    done
    echo "COMMIT;"
} | sqlite3 -bail "$T/many.db"
piped "discover | head -c 100" "head -c 100" discover "$T/many.db"
finish
