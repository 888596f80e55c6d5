# sqlite_resume.sh - kill -9 an extraction again and again, re-run it, and
# require the very same bytes as an uninterrupted run; plus SIGTERM, new jobs
# after success, --restart, changed options and two concurrent runs.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
mkdir -p "$T/db" "$T/run"
DB=$T/db/big.db
ROWS=300000
sqlite3 -bail "$DB" >"$T/fixture.log" 2>&1 <<EOF
CREATE TABLE big (
    bucket INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    name   TEXT,
    amount REAL,
    flag   INTEGER,
    data   BLOB,
    note   TEXT,
    PRIMARY KEY (bucket, seq)
);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS - 1)
INSERT INTO big
SELECT i % 97, i, 'name ' || i || ' ñ😀', i / 7.0,
       CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE CAST(printf('%x', i) AS BLOB) END,
       CASE WHEN i % 11 = 0 THEN 'quote " and \\ ' || i || char(10) END
FROM n;
EOF
DB_SHA=$(sha256_of "$DB")

# The reference: one uninterrupted run with the defaults.
REF=$T/ref.ndjson
check "reference extraction of $ROWS rows" \
    "$SLUICE" extract "$DB" big -o "$REF" --state "$T/ref.state"
if python3 - "$REF" "$ROWS" >"$T/ref.check" 2>&1 <<'EOF'; then
import json, sys
path, rows = sys.argv[1], int(sys.argv[2])
keys = [(o["bucket"], o["seq"]) for o in map(json.loads, open(path, encoding="utf-8"))]
assert len(keys) == rows, "%d lines" % len(keys)
assert all(a < b for a, b in zip(keys, keys[1:])), "keys not strictly increasing"
assert sorted(s for _, s in keys) == list(range(rows)), "rows missing or repeated"
EOF
    ok "reference has every row once, in key order"
else
    not_ok "reference has every row once, in key order" "$(cat "$T/ref.check")"
fi

# same_content NAME FILE: FILE (decompressed by suffix) equals the reference,
# and a compressed FILE passes its own integrity test.
same_content() {
    local name=$1 file=$2
    case "$file" in
    *.gz)
        if gzip -t "$file" 2>"$T/ztest.err"; then ok "$name: gzip -t passes"
        else not_ok "$name: gzip -t passes" "$(cat "$T/ztest.err")"; fi ;;
    *.zst)
        if zstd -q -t "$file" 2>"$T/ztest.err"; then ok "$name: zstd -t passes"
        else not_ok "$name: zstd -t passes" "$(cat "$T/ztest.err")"; fi ;;
    esac
    if decompress "$file" >"$T/plain.tmp" 2>"$T/plain.err"; then
        same_file "$name: same bytes as the uninterrupted run" "$REF" "$T/plain.tmp"
    else
        not_ok "$name: same bytes as the uninterrupted run" "$(cat "$T/plain.err")"
    fi
    rm -f "$T/plain.tmp"
}

# ---- kill -9 at random points, for every paging and output ---------------
for paging in keyset offset cursor; do
    for ext in ndjson ndjson.gz ndjson.zst; do
        out=$T/run/$paging.$ext
        cmd=("$SLUICE" extract "$DB" big -o "$out" --paging "$paging" --page-size 500
             --checkpoint-every 1000 --state "$T/run/$paging.$ext.state" -v)
        name="$paging .${ext#ndjson.}"
        [ "$ext" = ndjson ] && name="$paging plain"
        if kill_resume_loop "$out" 3 "${cmd[@]}"; then
            ok "$name: killed $KRL_KILLS times, a re-run finished ($KRL_RUNS runs)"
        else
            not_ok "$name: killed $KRL_KILLS times, a re-run finished ($KRL_RUNS runs)" "$KRL_ERR"
        fi
        if [ "$KRL_KILLS" -ge 3 ]; then
            ok "$name: at least 3 kills hit a running process"
        else
            not_ok "$name: at least 3 kills hit a running process" "only $KRL_KILLS"
        fi
        if grep -q 'resuming job .* after [1-9][0-9]* rows' "$KRL_LOG"; then
            ok "$name: a re-run resumed after checkpointed rows"
        else
            not_ok "$name: a re-run resumed after checkpointed rows" "$(cat "$KRL_LOG")"
        fi
        if [ "$KRL_EARLY" -eq 0 ] && [ ! -e "$out.partial" ]; then
            ok "$name: the output appeared only at the end, no .partial left"
        else
            not_ok "$name: the output appeared only at the end, no .partial left" \
                "early=$KRL_EARLY partial: $(ls -la "$out.partial" 2>&1)"
        fi
        same_content "$name" "$out"
        rm -f "$out"
    done
done

# Starts CMD in the background into OUT and waits until OUT.partial holds
# more than BYTES; sets BG_PID. Returns 1 if the process ended first.
start_and_wait() {
    local out=$1 bytes=$2
    shift 2
    "$@" >/dev/null 2>"$T/bg.err" &
    BG_PID=$!
    wait_for_growth "$out.partial" "$bytes" "$BG_PID" 60
}

# ---- SIGTERM: exit 130, checkpointed, a re-run completes -----------------
out=$T/run/term.ndjson
cmd=("$SLUICE" extract "$DB" big -o "$out" --page-size 500 --checkpoint-every 1000
     --state "$T/run/term.state")
start_and_wait "$out" 2000000 "${cmd[@]}" || true
kill -TERM "$BG_PID" 2>/dev/null || true
rc=0
wait "$BG_PID" 2>/dev/null || rc=$?
if [ "$rc" -eq 130 ]; then
    ok "SIGTERM mid-run exits 130"
else
    not_ok "SIGTERM mid-run exits 130" "exit $rc: $(cat "$T/bg.err")"
fi
if [ "$(wc -l <"$T/bg.err")" -eq 1 ] && grep -q 'interrupted' "$T/bg.err"; then
    ok "SIGTERM: one line on stderr says it was interrupted"
else
    not_ok "SIGTERM: one line on stderr says it was interrupted" "$(cat "$T/bg.err")"
fi
if [ ! -e "$out" ] && [ -s "$out.partial" ]; then
    ok "SIGTERM: only the .partial exists"
else
    not_ok "SIGTERM: only the .partial exists" "$(ls -la "$T/run")"
fi
check "after SIGTERM a re-run exits 0" "${cmd[@]}" -v
if grep -q 'resuming job .* after [1-9][0-9]* rows' "$E2E_ERR"; then
    ok "after SIGTERM the re-run resumes instead of starting over"
else
    not_ok "after SIGTERM the re-run resumes instead of starting over" "$(cat "$E2E_ERR")"
fi
same_content "after SIGTERM" "$out"

# ---- a re-run after success is a new job --------------------------------
jobs_before=$(sqlite3 "$T/run/term.state" 'SELECT count(DISTINCT job_id) FROM runs' 2>/dev/null || echo 0)
rm -f "$out"
check "a re-run after success exits 0" "${cmd[@]}" -v
if grep -q 'resuming\|interrupted job' "$E2E_ERR"; then
    not_ok "a re-run after success does not resume" "$(cat "$E2E_ERR")"
else
    ok "a re-run after success does not resume"
fi
same_content "a re-run after success (output deleted before)" "$out"
jobs_after=$(sqlite3 "$T/run/term.state" 'SELECT count(DISTINCT job_id) FROM runs' 2>/dev/null || echo 0)
if [ "$jobs_after" -gt "$jobs_before" ]; then
    ok "a re-run after success is recorded as a new job"
else
    not_ok "a re-run after success is recorded as a new job" "jobs $jobs_before -> $jobs_after"
fi

# ---- --restart discards an unfinished job ---------------------------------
out=$T/run/restart.ndjson
cmd=("$SLUICE" extract "$DB" big -o "$out" --page-size 500 --checkpoint-every 1000
     --state "$T/run/restart.state")
start_and_wait "$out" 3000000 "${cmd[@]}" || true
kill -KILL "$BG_PID" 2>/dev/null || true
wait "$BG_PID" 2>/dev/null || true
check "--restart after a kill exits 0" "${cmd[@]}" --restart -v
if grep -q 'discarded' "$E2E_ERR" && ! grep -q 'resuming' "$E2E_ERR"; then
    ok "--restart says it discarded the unfinished job and does not resume"
else
    not_ok "--restart says it discarded the unfinished job and does not resume" "$(cat "$E2E_ERR")"
fi
same_content "--restart" "$out"

# ---- other options for an unfinished job are refused ------------------------
out=$T/run/opts.ndjson
state=$T/run/opts.state
cmd=("$SLUICE" extract "$DB" big -o "$out" --page-size 500 --checkpoint-every 1000
     --state "$state")
start_and_wait "$out" 3000000 "${cmd[@]}" || true
kill -KILL "$BG_PID" 2>/dev/null || true
wait "$BG_PID" 2>/dev/null || true
dump_state() {
    sqlite3 "$state" "SELECT * FROM streams; SELECT * FROM stream_keys; SELECT count(*) FROM runs;" 2>&1
}
state_before=$(dump_state)
partial_before=$(sha256_of "$out.partial")
expect_exit 2 "changing --columns of an unfinished job: exit 2" \
    "${cmd[@]}" --columns bucket,seq,name
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q -- '--restart' "$E2E_ERR"; then
    ok "changing --columns: one line on stderr pointing to --restart"
else
    not_ok "changing --columns: one line on stderr pointing to --restart" "$(cat "$E2E_ERR")"
fi
expect_exit 2 "changing --paging of an unfinished job: exit 2" "${cmd[@]}" --paging offset
if [ "$(dump_state)" = "$state_before" ] && [ -n "$state_before" ]; then
    ok "refused runs leave the state unchanged"
else
    not_ok "refused runs leave the state unchanged" "before: $state_before" "after: $(dump_state)"
fi
if [ "$(sha256_of "$out.partial")" = "$partial_before" ] && [ ! -e "$out" ]; then
    ok "refused runs leave the .partial unchanged and publish nothing"
else
    not_ok "refused runs leave the .partial unchanged and publish nothing"
fi
check "the original command then resumes and exits 0" "${cmd[@]}"
same_content "resumed after refused option changes" "$out"

# ---- two concurrent runs on the same output -------------------------------
out=$T/run/conc.ndjson
cmd=("$SLUICE" extract "$DB" big -o "$out" --page-size 500 --checkpoint-every 1000
     --state "$T/run/conc.state")
if start_and_wait "$out" 0 "${cmd[@]}" && kill -0 "$BG_PID" 2>/dev/null; then
    first=$BG_PID
    # --help: "6 state store error, or another sluice process is writing the
    # same output".
    expect_exit 6 "a second run on the same output while the first runs: exit 6" "${cmd[@]}"
    if grep -q 'another' "$E2E_ERR" && [ "$(wc -l <"$E2E_ERR")" -eq 1 ]; then
        ok "the second run says another process is writing"
    else
        not_ok "the second run says another process is writing" "$(cat "$E2E_ERR")"
    fi
    if kill -0 "$first" 2>/dev/null; then
        ok "the first run was still running during the second"
    else
        not_ok "the first run was still running during the second"
    fi
    rc=0
    wait "$first" || rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "the first run completes with exit 0"
    else
        not_ok "the first run completes with exit 0" "exit $rc: $(cat "$T/bg.err")"
    fi
    same_content "the first of two concurrent runs" "$out"
else
    not_ok "a second run on the same output while the first runs: exit 6" \
        "the first run ended before its output appeared: $(cat "$T/bg.err")"
    wait "$BG_PID" 2>/dev/null || true
fi

if [ "$(sha256_of "$DB")" = "$DB_SHA" ]; then
    ok "source database is byte-identical after every run (sha256)"
else
    not_ok "source database is byte-identical after every run (sha256)"
fi
finish
