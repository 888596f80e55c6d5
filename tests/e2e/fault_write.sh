# fault_write.sh - the output cannot be written: a file size limit
# (ulimit -f: sluice ignores SIGXFSZ, so write(2) fails with EFBIG) and, when
# a small tmpfs can be mounted (root), a full filesystem (ENOSPC). For plain,
# .gz and .zst output: one clear line on stderr, exit 5, nothing published,
# a checkpoint that describes only durable whole rows, and a re-run once the
# space is back that writes the very bytes of an uninterrupted run.
# Compressed runs fail with 3 compression threads (blocks in flight when
# the write fails) and are re-run with 1: the bytes never depend on it.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
mkdir -p "$T/run"
DB=$T/fault.db
ROWS=50000
sqlite3 -bail "$DB" >"$T/fixture.log" 2>&1 <<EOF
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO t
SELECT i, 'row ' || i || ' ñ', i / 7.0,
       CASE WHEN i % 3 = 0 THEN NULL
            ELSE printf('%08x%08x%08x', (i * 2654435761) % 4294967296,
                        (i * 40503) % 65521, (i * 2246822519) % 4294967291) END
FROM n;
EOF

# Runs CMD with a file size limit of $1 KiB (a subshell: the limit stays there).
with_fsize_limit() {
    local kib=$1
    shift
    (ulimit -f "$kib" && exec "$@")
}

# checkpoint_ok NAME OUT REF STATE: after a failed run, the stream is still
# running, its checkpoint counts at least one row, its bytes are in OUT.partial
# and equal the start of the uninterrupted run, and those bytes decompress to
# exactly the checkpointed number of whole rows.
checkpoint_ok() {
    local name=$1 out=$2 ref=$3 state=$4 phase rows bytes psize prefix got
    read -r phase rows bytes < <(sqlite3 -separator ' ' "$state" \
        'SELECT phase, "rows", bytes FROM streams' 2>&1) || true
    psize=$(file_size "$out.partial")
    prefix=$T/prefix.${out##*/}
    if [ "$phase" != running ] || ! [ "${rows:-0}" -gt 0 ] 2>/dev/null ||
        ! [ "${bytes:-0}" -gt 0 ]; then
        not_ok "$name: the state holds a running job with a checkpoint" \
            "phase=$phase rows=$rows bytes=$bytes"
        return
    fi
    ok "$name: the state holds a running job with a checkpoint ($rows rows)"
    if [ "$bytes" -le "$psize" ] &&
        cmp -s <(head -c "$bytes" -- "$out.partial") <(head -c "$bytes" -- "$ref"); then
        ok "$name: the checkpoint's $bytes bytes are in the .partial, as in the uninterrupted run"
    else
        not_ok "$name: the checkpoint's $bytes bytes are in the .partial, as in the uninterrupted run" \
            ".partial is $psize bytes"
    fi
    # The failed run's history counts what is durable: the checkpoint's
    # rows and bytes, not rows written after it and lost.
    local hist
    hist=$(sqlite3 -separator ' ' "$state" \
        'SELECT status, "rows", bytes FROM runs ORDER BY id DESC LIMIT 1' 2>&1)
    if [ "$hist" = "failed $rows $bytes" ]; then
        ok "$name: the run history records the failure with the durable rows and bytes"
    else
        not_ok "$name: the run history records the failure with the durable rows and bytes" \
            "history: $hist, checkpoint: $rows $bytes"
    fi
    head -c "$bytes" -- "$out.partial" >"$prefix"
    got=$(decompress "$prefix" 2>&1 | wc -l)
    if decompress "$prefix" >/dev/null 2>&1 &&
        [ "$(decompress "$prefix" | tail -c 1 | od -An -tx1 | tr -d ' \n')" = 0a ] &&
        [ "$got" -eq "$rows" ]; then
        ok "$name: the checkpointed bytes are a complete stream of exactly $rows whole rows"
    else
        not_ok "$name: the checkpointed bytes are a complete stream of exactly $rows whole rows" \
            "$got lines"
    fi
    rm -f "$prefix"
}

# one_line_error NAME WORDS: the last command's stderr is one line holding
# the partial file's name and WORDS.
one_line_error() {
    local name=$1 out=$2 words=$3
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -qF -- "$out.partial" "$E2E_ERR" &&
        grep -qF -- "$words" "$E2E_ERR"; then
        ok "$name: one line on stderr naming the file and '$words'"
    else
        not_ok "$name: one line on stderr naming the file and '$words'" "$(cat "$E2E_ERR")"
    fi
}

# rerun_same NAME OUT REF CMD...: CMD resumes, exits 0 and publishes the
# bytes of the uninterrupted run.
rerun_same() {
    local name=$1 out=$2 ref=$3
    shift 3
    check "$name: the re-run exits 0" "$@" -v
    if grep -q 'resuming job .* after [1-9][0-9]* rows' "$E2E_ERR"; then
        ok "$name: the re-run resumes after the checkpoint"
    else
        not_ok "$name: the re-run resumes after the checkpoint" "$(cat "$E2E_ERR")"
    fi
    same_file "$name: the re-run's output is byte-identical to an uninterrupted run" "$ref" "$out"
    if [ ! -e "$out.partial" ]; then
        ok "$name: no .partial left"
    else
        not_ok "$name: no .partial left"
    fi
}

# thread_opts EXT: FAIL_OPTS for the failing run, RERUN_OPTS for the re-run.
thread_opts() {
    FAIL_OPTS=() RERUN_OPTS=()
    case $1 in *.gz | *.zst) FAIL_OPTS=(--threads 3) RERUN_OPTS=(--threads 1) ;; esac
}

EXTS="ndjson ndjson.gz ndjson.zst"
for ext in $EXTS; do
    check "reference .$ext" "$SLUICE" extract "$DB" t -o "$T/ref.$ext" \
        --checkpoint-every 2000 --state "$T/ref.state"
done
if [ "$(wc -l <"$T/ref.ndjson")" -eq "$ROWS" ] && cmp -s "$T/ref.ndjson" <(decompress "$T/ref.ndjson.gz") &&
    cmp -s "$T/ref.ndjson" <(decompress "$T/ref.ndjson.zst"); then
    ok "the references hold $ROWS rows and agree"
else
    not_ok "the references hold $ROWS rows and agree"
fi

# ---- ulimit -f: EFBIG ------------------------------------------------------
for ext in $EXTS; do
    name="ulimit -f .$ext"
    out=$T/run/fsize.$ext
    state=$T/run/fsize.$ext.state
    cmd=("$SLUICE" extract "$DB" t -o "$out" --checkpoint-every 2000 --state "$state")
    # Half of the output: several checkpoints fit, the whole file does not.
    kib=$(($(file_size "$T/ref.$ext") / 2048))
    thread_opts "$ext"
    expect_exit 5 "$name: the write fails with exit 5" with_fsize_limit "$kib" "${cmd[@]}" \
        "${FAIL_OPTS[@]}"
    one_line_error "$name" "$out" "File too large"
    if [ ! -e "$out" ] && [ -e "$out.partial" ]; then
        ok "$name: nothing published, the .partial kept"
    else
        not_ok "$name: nothing published, the .partial kept" "$(ls -la "$T/run")"
    fi
    checkpoint_ok "$name" "$out" "$T/ref.$ext" "$state"
    rerun_same "$name" "$out" "$T/ref.$ext" "${cmd[@]}" "${RERUN_OPTS[@]}"
done

# ---- a full filesystem: ENOSPC ---------------------------------------------
TINY=$(mktemp -d /tmp/sluice-fault-tiny.XXXXXX)
mounted=0
cleanup() {
    if [ "$mounted" -eq 1 ]; then umount "$TINY" 2>/dev/null || true; fi
    rmdir "$TINY" 2>/dev/null || true
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ] &&
    mount -t tmpfs -o size=8m,mode=0755 sluice-fault "$TINY" 2>"$T/mount.err"; then
    mounted=1
else
    echo "# skip: a full filesystem (cannot mount a tmpfs: $(head -c 200 "$T/mount.err" 2>/dev/null))"
fi
if [ "$mounted" -eq 1 ]; then
    for ext in $EXTS; do
        name="full disk .$ext"
        out=$TINY/full.$ext
        # The state store stays on a disk with room: only the output fails.
        state=$T/run/full.$ext.state
        cmd=("$SLUICE" extract "$DB" t -o "$out" --checkpoint-every 2000 --state "$state")
        # Leave room for about half the output.
        avail=$(($(stat -f -c '%a * %S' "$TINY")))
        fill=$((avail - $(file_size "$T/ref.$ext") / 2))
        head -c "$fill" /dev/zero >"$TINY/filler"
        thread_opts "$ext"
        expect_exit 5 "$name: the write fails with exit 5" "${cmd[@]}" "${FAIL_OPTS[@]}"
        one_line_error "$name" "$out" "No space left on device"
        if [ ! -e "$out" ] && [ -e "$out.partial" ]; then
            ok "$name: nothing published, the .partial kept"
        else
            not_ok "$name: nothing published, the .partial kept" "$(ls -la "$TINY")"
        fi
        checkpoint_ok "$name" "$out" "$T/ref.$ext" "$state"
        rm -f "$TINY/filler"
        rerun_same "$name" "$out" "$T/ref.$ext" "${cmd[@]}" "${RERUN_OPTS[@]}"
        rm -f "$out"
    done
fi
finish
