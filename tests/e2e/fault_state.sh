# fault_state.sh - a state store that cannot be used, and two processes on
# one stream.
#
# A bad --state (garbage, a truncated or damaged copy of a real store, a
# SQLite database that is not sluice's, a newer schema, a directory, a path
# under a regular file) is refused with exit 6 and one line naming it, and
# nothing on disk changes: not the store, not the unfinished job's .partial,
# no new output. Two concurrent runs on one stream: the second is refused
# with exit 6 whether it names the same output or (same --stream) another
# one, with or without --restart, and the first then completes normally.
# The --stream cases need a per-stream lock (without it: exit 2, or with
# --restart the first run's job is discarded under it).
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
DB=$T/fault.db
ROWS=50000
sqlite3 -bail "$DB" >"$T/fixture.log" 2>&1 <<EOF
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO t
SELECT i, 'row ' || i || ' ñ', i / 7.0,
       CASE WHEN i % 3 = 0 THEN NULL ELSE printf('%08x', (i * 2654435761) % 4294967296) END
FROM n;
EOF
REF=$T/ref.ndjson
check "reference extraction" "$SLUICE" extract "$DB" t -o "$REF" --state "$T/ref.state"

# ---- an unfinished job to damage ------------------------------------------
# A file size limit stops the job after a few checkpoints (exit 5), leaving
# a real store with a running job and its .partial: the pristine copies.
JOB=$T/job
mkdir -p "$JOB"
OUT=$JOB/out.ndjson
cmd=("$SLUICE" extract "$DB" t -o "$OUT" --checkpoint-every 2000 --state "$JOB/state")
expect_exit 5 "an unfinished job is left by a file size limit" \
    bash -c 'ulimit -f 1024 && exec "$@"' sh "${cmd[@]}"
if [ "$(sqlite3 "$JOB/state" "SELECT phase FROM streams" 2>&1)" = running ] &&
    [ -s "$OUT.partial" ]; then
    ok "the unfinished job is running in the store and has a .partial"
else
    not_ok "the unfinished job is running in the store and has a .partial" \
        "$(sqlite3 "$JOB/state" 'SELECT * FROM streams' 2>&1)"
fi
mv "$JOB/state" "$T/pristine.state"
mv "$OUT.partial" "$T/pristine.partial"
rm -f "$JOB"/state-*
touch "$JOB/plainfile"

# Pseudo-random bytes, the same on every run: random_bytes N SEED.
random_bytes() {
    python3 -c 'import random, sys; r = random.Random(int(sys.argv[2]))
sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(int(sys.argv[1]))))' "$1" "$2"
}

# Overwrites the first page of TABLE's b-tree in the store FILE with garbage.
garble_table() {
    local file=$1 table=$2 page size
    page=$(sqlite3 "$file" "SELECT rootpage FROM sqlite_master WHERE name='$table'")
    size=$(sqlite3 "$file" "PRAGMA page_size")
    random_bytes "$size" "$page" |
        dd of="$file" bs="$size" seek=$((page - 1)) conv=notrunc status=none
}

# Every path, type and content under JOB.
snapshot() {
    (cd "$JOB" && find . -printf '%y %m %s %p\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}

# The job directory as the unfinished job left it, without a store: each
# case then puts its bad store at $ST and calls run_bad NAME STATE_PATH.
reset_job() {
    rm -rf "$JOB/state" "$JOB"/state-* "$OUT" "$OUT.partial"
    cp "$T/pristine.partial" "$OUT.partial"
}

run_bad() {
    local name=$1 state=$2 before after
    before=$(snapshot)
    expect_exit 6 "$name: refused with exit 6" \
        "$SLUICE" extract "$DB" t -o "$OUT" --checkpoint-every 2000 --state "$state"
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -qF -- "$state" "$E2E_ERR"; then
        ok "$name: one line on stderr naming the store"
    else
        not_ok "$name: one line on stderr naming the store" "$(cat "$E2E_ERR")"
    fi
    after=$(snapshot)
    if [ "$before" = "$after" ]; then
        ok "$name: the store and the .partial are unchanged, no output written"
    else
        not_ok "$name: the store and the .partial are unchanged, no output written" \
            "$(diff <(echo "$before") <(echo "$after") | grep '^[<>]')"
    fi
}

ST=$JOB/state

reset_job
random_bytes 8192 1 >"$ST"
run_bad "garbage bytes" "$ST"

reset_job
{ printf 'SQLite format 3\000'; random_bytes 8176 2; } >"$ST"
run_bad "a SQLite header followed by garbage" "$ST"

reset_job
head -c $(($(file_size "$T/pristine.state") / 2)) "$T/pristine.state" >"$ST"
run_bad "a truncated copy of the real store (half)" "$ST"

reset_job
head -c 100 "$T/pristine.state" >"$ST"
run_bad "a truncated copy of the real store (its header only)" "$ST"

for table in streams stream_keys runs; do
    reset_job
    cp "$T/pristine.state" "$ST"
    garble_table "$ST" "$table"
    run_bad "the real store with a garbage page in table $table" "$ST"
done

reset_job
sqlite3 "$ST" "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES('mine');"
run_bad "a SQLite database that is not sluice's" "$ST"

reset_job
cp "$DB" "$ST"
run_bad "the source database given as the store" "$ST"

reset_job
cp "$T/pristine.state" "$ST"
sqlite3 "$ST" "PRAGMA user_version=99"
run_bad "a store with a newer schema version" "$ST"
if grep -q 'newer' "$E2E_ERR"; then
    ok "a store with a newer schema version: the message says it is newer"
else
    not_ok "a store with a newer schema version: the message says it is newer" "$(cat "$E2E_ERR")"
fi

reset_job
mkdir "$ST"
run_bad "a directory as the store" "$ST"

reset_job
run_bad "a store path under a regular file" "$JOB/plainfile/state"

# The pristine job still resumes and completes: the refusals harmed nothing.
reset_job
cp "$T/pristine.state" "$ST"
check "the undamaged store then resumes the job, exit 0" "${cmd[@]}" -v
if grep -q 'resuming job .* after [1-9][0-9]* rows' "$E2E_ERR"; then
    ok "the undamaged store resumes after its checkpoint"
else
    not_ok "the undamaged store resumes after its checkpoint" "$(cat "$E2E_ERR")"
fi
same_file "the resumed output equals the uninterrupted run" "$REF" "$OUT"

# ---- two processes on one stream ------------------------------------------
# The first run is stopped (SIGSTOP) after its first checkpoint, so it holds
# its locks for as long as the second run takes.
CONC=$T/conc
mkdir -p "$CONC"
FIRST=""
cleanup() {
    if [ -n "$FIRST" ]; then
        kill -CONT "$FIRST" 2>/dev/null || true
        kill -KILL "$FIRST" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# start_stopped CMD...: starts CMD in the background, waits for its first
# checkpoint in $CSTATE, stops it; sets FIRST. Returns 1 if that failed.
start_stopped() {
    local i rows
    "$@" >/dev/null 2>"$CONC/first.err" &
    FIRST=$!
    for ((i = 0; i < 2000; i++)); do
        rows=$(sqlite3 "$CSTATE" "SELECT \"rows\" FROM streams" 2>/dev/null || true)
        [ -n "$rows" ] && [ "$rows" -gt 0 ] && break
        kill -0 "$FIRST" 2>/dev/null || break
        sleep 0.01
    done
    kill -STOP "$FIRST" 2>/dev/null || return 1
    [ -n "$rows" ] && [ "$rows" -gt 0 ] && [ "$rows" -lt "$ROWS" ]
}

cstate_dump() {
    sqlite3 "$CSTATE" 'SELECT * FROM streams; SELECT * FROM stream_keys; SELECT count(*) FROM runs' 2>&1
}

# finish_first NAME OUT: resumes the stopped run; it must complete alone.
finish_first() {
    local name=$1 out=$2 rc=0
    kill -CONT "$FIRST" 2>/dev/null || true
    wait "$FIRST" || rc=$?
    FIRST=""
    if [ "$rc" -eq 0 ]; then
        ok "$name: the first run then completes with exit 0"
    else
        not_ok "$name: the first run then completes with exit 0" "exit $rc: $(cat "$CONC/first.err")"
    fi
    same_file "$name: the first run's output equals the uninterrupted run" "$REF" "$out"
}

# (a) the same command, so the same output.
CSTATE=$CONC/a.state
out=$CONC/a.ndjson
first=("$SLUICE" extract "$DB" t -o "$out" --page-size 100 --checkpoint-every 500 --state "$CSTATE")
if start_stopped "${first[@]}"; then
    ok "same output: the first run is stopped after a checkpoint"
    s_before=$(cstate_dump)
    p_before=$(sha256_of "$out.partial")
    expect_exit 6 "same output: a second run while the first runs: exit 6" "${first[@]}"
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q 'another' "$E2E_ERR"; then
        ok "same output: one line saying another process is writing"
    else
        not_ok "same output: one line saying another process is writing" "$(cat "$E2E_ERR")"
    fi
    if [ "$(cstate_dump)" = "$s_before" ] && [ "$(sha256_of "$out.partial")" = "$p_before" ]; then
        ok "same output: the second run changed neither the state nor the .partial"
    else
        not_ok "same output: the second run changed neither the state nor the .partial"
    fi
else
    not_ok "same output: the first run is stopped after a checkpoint" \
        "it ended first or never checkpointed: $(cat "$CONC/first.err")"
fi
finish_first "same output" "$out"

# (b) the same --stream, another output. Refusing needs a per-stream lock:
# without one the second run finds the stream running for another output
# and exits 2 (usage), as for a job left by a dead process.
CSTATE=$CONC/b.state
out=$CONC/b1.ndjson
out2=$CONC/b2.ndjson
first=("$SLUICE" extract "$DB" t -o "$out" --stream shared --page-size 100
       --checkpoint-every 500 --state "$CSTATE")
if start_stopped "${first[@]}"; then
    ok "same --stream: the first run is stopped after a checkpoint"
    s_before=$(cstate_dump)
    p_before=$(sha256_of "$out.partial")
    expect_exit 6 "same --stream, another output, while the first runs: exit 6" \
        "$SLUICE" extract "$DB" t -o "$out2" --stream shared --page-size 100 \
        --checkpoint-every 500 --state "$CSTATE"
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q 'another' "$E2E_ERR"; then
        ok "same --stream: one line saying another process is running the stream"
    else
        not_ok "same --stream: one line saying another process is running the stream" "$(cat "$E2E_ERR")"
    fi
    if [ ! -e "$out2" ] && [ ! -e "$out2.partial" ]; then
        ok "same --stream: the second run wrote no output"
    else
        not_ok "same --stream: the second run wrote no output" "$(ls -la "$CONC")"
    fi
    if [ "$(cstate_dump)" = "$s_before" ] && [ "$(sha256_of "$out.partial")" = "$p_before" ]; then
        ok "same --stream: the second run changed neither the state nor the first's .partial"
    else
        not_ok "same --stream: the second run changed neither the state nor the first's .partial"
    fi
else
    not_ok "same --stream: the first run is stopped after a checkpoint" \
        "it ended first or never checkpointed: $(cat "$CONC/first.err")"
fi
finish_first "same --stream" "$out"

# (c) the same --stream with --restart: discarding a job that another
# process is writing would let both processes move one checkpoint.
CSTATE=$CONC/c.state
out=$CONC/c1.ndjson
out2=$CONC/c2.ndjson
first=("$SLUICE" extract "$DB" t -o "$out" --stream shared --page-size 100
       --checkpoint-every 500 --state "$CSTATE")
if start_stopped "${first[@]}"; then
    ok "same --stream --restart: the first run is stopped after a checkpoint"
    s_before=$(cstate_dump)
    expect_exit 6 "same --stream --restart, another output, while the first runs: exit 6" \
        "$SLUICE" extract "$DB" t -o "$out2" --stream shared --restart --page-size 100 \
        --checkpoint-every 500 --state "$CSTATE"
    if [ "$(cstate_dump)" = "$s_before" ] && [ ! -e "$out2" ] && [ ! -e "$out2.partial" ]; then
        ok "same --stream --restart: the first run's job is not discarded, no output written"
    else
        not_ok "same --stream --restart: the first run's job is not discarded, no output written"
    fi
else
    not_ok "same --stream --restart: the first run is stopped after a checkpoint" \
        "it ended first or never checkpointed: $(cat "$CONC/first.err")"
fi
finish_first "same --stream --restart" "$out"
finish
