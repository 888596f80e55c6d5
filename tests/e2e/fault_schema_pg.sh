# fault_schema_pg.sh - the PostgreSQL table changes under sluice.
#
# Mid-run (sluice stopped with SIGSTOP after a checkpoint, the table altered
# in psql, SIGCONT): the table dropped, a column dropped, renamed or given
# another type. Each must end with exit 3 and one line naming the table (and
# the column), with a .partial of whole rows whose checkpointed bytes are
# those of an uninterrupted run; once the table is back, the same command
# resumes and writes the very bytes of an uninterrupted run.
#
# Between runs (kill -9 after a checkpoint, then the key column renamed,
# dropped or given another type): the re-run must refuse the checkpoint
# with exit 3 and one line naming the key column, changing neither the state
# nor the .partial.
#
# Server: $SLUICE_TEST_PG_ENV (an env file of scripts/pg-server.sh), else
# $SLUICE_TEST_PG_URL, else a throwaway server started here.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
STARTED=""
STOPPED_PID=""
cleanup() {
    if [ -n "$STOPPED_PID" ]; then
        kill -CONT "$STOPPED_PID" 2>/dev/null || true
        kill -KILL "$STOPPED_PID" 2>/dev/null || true
    fi
    if [ -n "$STARTED" ]; then
        sh "$SLUICE_SRC/scripts/pg-server.sh" stop "$T/pg-server" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
if [ -n "${SLUICE_TEST_PG_ENV:-}" ]; then
    . "$SLUICE_TEST_PG_ENV"
elif [ -z "${SLUICE_TEST_PG_URL:-}" ]; then
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || command -v pg_ctl >/dev/null ||
        { echo "SKIP: no PostgreSQL server installed"; exit 77; }
    sh "$SLUICE_SRC/scripts/pg-server.sh" start "$T/pg-server" >/dev/null
    STARTED=1
    . "$T/pg-server/env"
fi
URL=$SLUICE_TEST_PG_URL
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
# lock_timeout: a DDL statement never waits forever on a stopped sluice.
psql_do() {
    PGOPTIONS='-c lock_timeout=10s' "$PSQL" -X -q -v ON_ERROR_STOP=1 "$URL" "$@"
}
load_table() {
    psql_do -f "$SLUICE_SRC/sql/fault_schema_pg.sql" >"$T/psql.log" 2>&1
}

OPTS=(--page-size 100 --checkpoint-every 1000)
load_table
REF=$T/ref.ndjson
check "reference extraction" "$SLUICE" extract "$URL" fault_schema -o "$REF" \
    --state "$T/ref.state" "${OPTS[@]}"
ROWS=$(psql_do -At -c "SELECT count(*) FROM fault_schema")
if [ "$(wc -l <"$REF")" -eq "$ROWS" ]; then
    ok "the reference holds the table's $ROWS rows"
else
    not_ok "the reference holds the table's $ROWS rows" "$(wc -l <"$REF")"
fi

# start_until_checkpoint STATE CMD...: starts CMD in the background and
# waits until STATE records a checkpoint; sets BG_PID. Returns 1 if CMD
# ended first or no checkpoint came within 20 s.
start_until_checkpoint() {
    local state=$1 i rows=""
    shift
    "$@" >/dev/null 2>"$T/bg.err" &
    BG_PID=$!
    for ((i = 0; i < 2000; i++)); do
        rows=$(sqlite3 "$state" 'SELECT "rows" FROM streams' 2>/dev/null || true)
        [ -n "$rows" ] && [ "$rows" -gt 0 ] && return 0
        kill -0 "$BG_PID" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# error_names NAME WORD...: the last stderr (E2E_ERR) is one line holding
# every WORD.
error_names() {
    local name=$1 w missing=""
    shift
    for w in "$@"; do
        grep -qF -- "$w" "$E2E_ERR" || missing="$missing $w"
    done
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && [ -z "$missing" ]; then
        ok "$name: one line on stderr naming $*"
    else
        not_ok "$name: one line on stderr naming $*" "$(cat "$E2E_ERR")"
    fi
}

# whole_rows NAME OUT STATE: OUT.partial is whole JSON rows; the checkpoint
# is within it and its bytes are the start of the uninterrupted run.
whole_rows() {
    local name=$1 out=$2 state=$3 rows bytes
    read -r rows bytes < <(sqlite3 -separator ' ' "$state" 'SELECT "rows", bytes FROM streams' 2>&1) || true
    if python3 - "$out.partial" >"$T/rows.check" 2>&1 <<'EOF'; then
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "the last row is cut"
for n, line in enumerate(data.split(b"\n")[:-1]):
    json.loads(line)
EOF
        ok "$name: the .partial holds whole JSON rows only"
    else
        not_ok "$name: the .partial holds whole JSON rows only" "$(tail -n 2 "$T/rows.check")"
    fi
    if [ "${bytes:-0}" -gt 0 ] 2>/dev/null && [ "$bytes" -le "$(file_size "$out.partial")" ] &&
        cmp -s <(head -c "$bytes" -- "$out.partial") <(head -c "$bytes" -- "$REF") &&
        [ "$(head -c "$bytes" -- "$out.partial" | wc -l)" -eq "$rows" ]; then
        ok "$name: the checkpoint ($rows rows, $bytes bytes) matches the uninterrupted run"
    else
        not_ok "$name: the checkpoint ($rows rows, $bytes bytes) matches the uninterrupted run" \
            ".partial: $(file_size "$out.partial") bytes"
    fi
}

# ---- the table changes mid-run ---------------------------------------------
# mid_run NAME SQL WORD...: SQL runs while sluice is stopped after a
# checkpoint; the error must name every WORD.
mid_run() {
    local name=$1 sql=$2 out state rc
    shift 2
    out=$T/mid.$(echo "$name" | tr -c 'a-z0-9\n' '_').ndjson
    state=$out.state
    local cmd=("$SLUICE" extract "$URL" fault_schema -o "$out" --state "$state" "${OPTS[@]}")
    load_table
    if ! start_until_checkpoint "$state" "${cmd[@]}"; then
        not_ok "$name: sluice checkpointed before the change" "$(cat "$T/bg.err")"
        wait "$BG_PID" 2>/dev/null || true
        return
    fi
    kill -STOP "$BG_PID"
    STOPPED_PID=$BG_PID
    if psql_do -c "$sql" >"$T/psql.log" 2>&1; then
        ok "$name: changed the table while sluice was stopped"
    else
        not_ok "$name: changed the table while sluice was stopped" "$(cat "$T/psql.log")"
    fi
    kill -CONT "$BG_PID"
    STOPPED_PID=""
    rc=0
    wait "$BG_PID" || rc=$?
    cp "$T/bg.err" "$E2E_ERR"
    if [ "$rc" -eq 3 ]; then
        ok "$name: sluice exits 3"
    else
        not_ok "$name: sluice exits 3" "exit $rc: $(cat "$T/bg.err")"
    fi
    error_names "$name" "$@"
    if [ ! -e "$out" ]; then
        ok "$name: nothing published"
    else
        not_ok "$name: nothing published"
    fi
    whole_rows "$name" "$out" "$state"
    load_table
    check "$name: with the table back, the same command exits 0" "${cmd[@]}" -v
    if grep -q 'resuming job .* after [1-9][0-9]* rows' "$E2E_ERR"; then
        ok "$name: the re-run resumes after the checkpoint"
    else
        not_ok "$name: the re-run resumes after the checkpoint" "$(cat "$E2E_ERR")"
    fi
    same_file "$name: the output is byte-identical to an uninterrupted run" "$REF" "$out"
}

mid_run "table dropped mid-run" "DROP TABLE fault_schema" fault_schema
mid_run "column dropped mid-run" "ALTER TABLE fault_schema DROP COLUMN b" fault_schema '"b"'
mid_run "column renamed mid-run" "ALTER TABLE fault_schema RENAME COLUMN c TO c_renamed" \
    fault_schema '"c"'
mid_run "column type changed mid-run" "ALTER TABLE fault_schema ALTER COLUMN a TYPE text" \
    fault_schema

# ---- the checkpoint's key column is gone -----------------------------------
# key_gone NAME SQL [OPTION...]: sluice is killed after a checkpoint, SQL
# changes the key column, and the re-run must refuse with exit 3 naming it.
key_gone() {
    local name=$1 sql=$2 out state s_before p_before
    shift 2
    out=$T/key.$(echo "$name" | tr -c 'a-z0-9\n' '_').ndjson
    state=$out.state
    local cmd=("$SLUICE" extract "$URL" fault_schema -o "$out" --state "$state" "${OPTS[@]}" "$@")
    load_table
    if ! start_until_checkpoint "$state" "${cmd[@]}"; then
        not_ok "$name: sluice checkpointed before the kill" "$(cat "$T/bg.err")"
        wait "$BG_PID" 2>/dev/null || true
        return
    fi
    kill -KILL "$BG_PID"
    wait "$BG_PID" 2>/dev/null || true
    if psql_do -c "$sql" >"$T/psql.log" 2>&1; then
        ok "$name: changed the key column after the kill"
    else
        not_ok "$name: changed the key column after the kill" "$(cat "$T/psql.log")"
    fi
    s_before=$(sqlite3 "$state" 'SELECT * FROM streams; SELECT * FROM stream_keys' 2>&1)
    p_before=$(sha256_of "$out.partial")
    expect_exit 3 "$name: the re-run exits 3" "${cmd[@]}"
    error_names "$name" "id"
    if [ "$(sqlite3 "$state" 'SELECT * FROM streams; SELECT * FROM stream_keys' 2>&1)" = "$s_before" ] &&
        [ "$(sha256_of "$out.partial")" = "$p_before" ] && [ ! -e "$out" ]; then
        ok "$name: the state and the .partial are unchanged, nothing published"
    else
        not_ok "$name: the state and the .partial are unchanged, nothing published" \
            "$(ls -la "$out"* 2>&1)"
    fi
}

key_gone "key column renamed" "ALTER TABLE fault_schema RENAME COLUMN id TO ident"
key_gone "key column renamed (--key id)" "ALTER TABLE fault_schema RENAME COLUMN id TO ident" --key id
key_gone "key column dropped" "ALTER TABLE fault_schema DROP COLUMN id"
key_gone "key column type changed" "ALTER TABLE fault_schema ALTER COLUMN id TYPE text"

psql_do -c "DROP TABLE IF EXISTS fault_schema" >/dev/null 2>&1 || true
finish
