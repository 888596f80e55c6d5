# compress.sh - compressed output as a user checks it: `gzip -dc`, `zcat`
# and `zstd -dc` give exactly the plain output for any --threads, the bytes
# do not depend on the thread count, outputs concatenate, levels apply; a
# run killed (-9) at random moments with several workers, or interrupted
# (SIGTERM/SIGINT), and run again gives the very bytes of an uninterrupted
# run; rows larger than 64 MiB of JSON are written whole.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
mkdir -p "$T/run"
DB=$T/c.db
ROWS=200000
EVERY=20000
sqlite3 -bail "$DB" >"$T/fixture.log" 2>&1 <<EOF
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL, note TEXT, data BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO t
SELECT i, 'row ' || i || ' ñ', i / 7.0,
       CASE WHEN i % 3 = 0 THEN NULL
            ELSE printf('%08x%08x%08x', (i * 2654435761) % 4294967296,
                        (i * 40503) % 65521, (i * 2246822519) % 4294967291) END,
       CAST(printf('%x', i * 7919) AS BLOB)
FROM n;
CREATE TABLE empty (id INTEGER PRIMARY KEY, v TEXT);
EOF

# cmd_for OUT [OPTION...]: CMD becomes the extraction of t into OUT, with
# OUT's own state store.
cmd_for() {
    local out=$1
    shift
    CMD=("$SLUICE" extract "$DB" t -o "$out" --checkpoint-every "$EVERY" --page-size 2000
         --state "$out.state" "$@")
}
run() { # run OUT [OPTION...]: the same, run now
    cmd_for "$@"
    "${CMD[@]}"
}

check "plain reference" run "$T/ref.ndjson"
if [ "$(wc -l <"$T/ref.ndjson")" -eq "$ROWS" ]; then
    ok "the plain reference holds $ROWS rows"
else
    not_ok "the plain reference holds $ROWS rows" "$(wc -l <"$T/ref.ndjson") lines"
fi

# readable NAME FILE: the standard tools test FILE and give the plain bytes.
readable() {
    local name=$1 file=$2
    case $file in
    *.gz)
        if gzip -t "$file" 2>"$T/t.err" && cmp -s "$T/ref.ndjson" <(gzip -dc "$file") &&
            cmp -s "$T/ref.ndjson" <(zcat "$file"); then
            ok "$name: gzip -t passes, gzip -dc and zcat give the plain output"
        else
            not_ok "$name: gzip -t passes, gzip -dc and zcat give the plain output" "$(cat "$T/t.err")"
        fi ;;
    *.zst)
        if zstd -q -t "$file" 2>"$T/t.err" && cmp -s "$T/ref.ndjson" <(zstd -q -dc "$file"); then
            ok "$name: zstd -t passes, zstd -dc gives the plain output"
        else
            not_ok "$name: zstd -t passes, zstd -dc gives the plain output" "$(cat "$T/t.err")"
        fi ;;
    esac
}

# ---- every thread count: readable, and the same bytes ---------------------
for ext in gz zst; do
    for threads in 1 2 4; do
        out=$T/run/t$threads.ndjson.$ext
        check ".$ext --threads $threads exits 0" run "$out" --threads "$threads"
        readable ".$ext --threads $threads" "$out"
    done
    for threads in 2 4; do
        same_file ".$ext: --threads $threads writes the same bytes as --threads 1" \
            "$T/run/t1.ndjson.$ext" "$T/run/t$threads.ndjson.$ext"
    done
    cp "$T/run/t1.ndjson.$ext" "$T/ref.ndjson.$ext"
    # Several blocks: a member/frame per MiB between checkpoints.
    case $ext in
    gz) n=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.count(b"\x1f\x8b\x08\x00\x00\x00\x00\x00"))' "$T/ref.ndjson.gz") ;;
    zst) n=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(b"\x28\xb5\x2f\xfd"))' "$T/ref.ndjson.zst") ;;
    esac
    if [ "$n" -ge $((ROWS / EVERY)) ]; then
        ok ".$ext: the output is cut into blocks ($n, at least one per checkpoint)"
    else
        not_ok ".$ext: the output is cut into blocks ($n, at least one per checkpoint)"
    fi
    # Concatenated outputs are one valid stream.
    cat "$T/ref.ndjson.$ext" "$T/ref.ndjson.$ext" >"$T/twice.ndjson.$ext"
    if cmp -s <(cat "$T/ref.ndjson" "$T/ref.ndjson") <(decompress "$T/twice.ndjson.$ext"); then
        ok ".$ext: two outputs concatenated decompress to both, in order"
    else
        not_ok ".$ext: two outputs concatenated decompress to both, in order"
    fi
    # To stdout, as a pipe.
    mode=gzip
    [ "$ext" = zst ] && mode=zstd
    if "$SLUICE" extract "$DB" t --compress "$mode" --threads 3 --checkpoint-every "$EVERY" \
        --state "$T/stdout.$ext.state" -q >"$T/stdout.ndjson.$ext" 2>"$T/stdout.err"; then
        readable ".$ext to stdout" "$T/stdout.ndjson.$ext"
        same_file ".$ext to stdout: the same bytes as to a file" "$T/ref.ndjson.$ext" \
            "$T/stdout.ndjson.$ext"
    else
        not_ok ".$ext to stdout exits 0" "$(cat "$T/stdout.err")"
    fi
done

# ---- levels -----------------------------------------------------------------
for spec in gzip:1 gzip:9 zstd:1 zstd:19; do
    ext=gz
    [ "${spec%%:*}" = zstd ] && ext=zst
    out=$T/run/level-${spec/:/}.ndjson.$ext
    check "--compress $spec exits 0" run "$out" --compress "$spec"
    readable "--compress $spec" "$out"
done
for pair in gz:gzip zst:zstd; do
    ext=${pair%%:*} mode=${pair#*:}
    fast=$(file_size "$T/run/level-${mode}1.ndjson.$ext")
    case $mode in gzip) slow=$(file_size "$T/run/level-gzip9.ndjson.$ext") ;;
                  zstd) slow=$(file_size "$T/run/level-zstd19.ndjson.$ext") ;; esac
    if [ "$slow" -lt "$fast" ]; then
        ok "$mode: a higher level gives a smaller file ($slow < $fast bytes)"
    else
        not_ok "$mode: a higher level gives a smaller file ($slow < $fast bytes)"
    fi
done

# ---- an empty table: one empty member/frame, a valid stream ------------------
for ext in gz zst; do
    out=$T/run/empty.ndjson.$ext
    check "empty table .$ext exits 0" "$SLUICE" extract "$DB" empty -o "$out" --state "$out.state"
    if [ -s "$out" ] && [ -z "$(decompress "$out")" ] && decompress "$out" >/dev/null; then
        ok "empty table .$ext: a valid stream of nothing"
    else
        not_ok "empty table .$ext: a valid stream of nothing"
    fi
done

# ---- kill -9 at random moments, several workers --------------------------------
for ext in gz zst; do
    out=$T/run/kill.ndjson.$ext
    cmd_for "$out" --threads 3 -v
    if kill_resume_loop "$out" 4 "${CMD[@]}"; then
        ok ".$ext --threads 3: killed $KRL_KILLS times, a re-run finished ($KRL_RUNS runs)"
    else
        not_ok ".$ext --threads 3: killed $KRL_KILLS times, a re-run finished ($KRL_RUNS runs)" \
            "$KRL_ERR"
    fi
    if [ "$KRL_KILLS" -ge 2 ] && grep -q 'resuming job .* after [1-9][0-9]* rows' "$KRL_LOG"; then
        ok ".$ext --threads 3: kills hit running processes, and a re-run resumed after checkpointed rows"
    else
        not_ok ".$ext --threads 3: kills hit running processes, and a re-run resumed after checkpointed rows" \
            "kills: $KRL_KILLS" "$(tail -n 5 "$KRL_LOG")"
    fi
    same_file ".$ext --threads 3 killed and resumed: the bytes of an uninterrupted run" \
        "$T/ref.ndjson.$ext" "$out"
done

# ---- SIGTERM / SIGINT: the re-run gives the uninterrupted bytes --------------
# The interrupt keeps the last regular checkpoint (a multiple of EVERY rows)
# as the resume point, rather than ending a block where no other run would.
ref_size() { file_size "$T/ref.ndjson.$1"; }
i=0
for ext in gz zst gz zst; do
    i=$((i + 1))
    sig=TERM
    [ $((i % 2)) -eq 0 ] && sig=INT
    out=$T/run/sig$i.ndjson.$ext
    # Past a third of the output: some regular checkpoints are behind.
    cmd_for "$out" --threads 2
    "${CMD[@]}" >/dev/null 2>"$T/sig.err" &
    pid=$!
    wait_for_growth "$out.partial" $(($(ref_size "$ext") / 3)) "$pid" 60 || true
    kill -s "$sig" "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    name=".$ext SIG$sig"
    if [ "$rc" -ne 130 ]; then
        not_ok "$name: exits 130" "exit $rc: $(cat "$T/sig.err")"
        continue
    fi
    rows=$(sed -n 's/.*interrupted after \([0-9]*\) rows.*/\1/p' "$T/sig.err")
    if [ "$(wc -l <"$T/sig.err")" -eq 1 ] && [ -n "$rows" ] && [ "$rows" -gt 0 ] &&
        [ $((rows % EVERY)) -eq 0 ]; then
        ok "$name: exits 130, one line, resume point at a regular checkpoint ($rows rows)"
    else
        not_ok "$name: exits 130, one line, resume point at a regular checkpoint" "$(cat "$T/sig.err")"
    fi
    check "$name: the re-run exits 0" run "$out" --threads 1
    same_file "$name: the re-run's file is the bytes of an uninterrupted run" "$T/ref.ndjson.$ext" "$out"
done

# ---- rows of more than 64 MiB of JSON ------------------------------------------
# A 50 MiB blob (67 MiB of base64) and 12 MiB of control characters (72 MiB
# escaped as \u0001...), each one row.
BIG=$T/big.db
sqlite3 -bail "$BIG" >>"$T/fixture.log" 2>&1 <<'EOF'
CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB, t TEXT);
INSERT INTO big VALUES (1, randomblob(50 * 1024 * 1024), NULL);
INSERT INTO big VALUES (2, NULL, replace(hex(zeroblob(6 * 1024 * 1024)), '00', char(1) || char(2)));
INSERT INTO big VALUES (3, x'00', 'small');
EOF
for ext in ndjson ndjson.zst; do
    out=$T/run/big.$ext
    check "rows of 67 and 72 MiB of JSON, .$ext: exit 0" \
        /usr/bin/time -f '%M' -o "$T/big.rss" "$SLUICE" extract "$BIG" big -o "$out" --state "$out.state"
    if decompress "$out" | python3 -c '
import base64, json, sqlite3, sys
rows = [json.loads(l) for l in sys.stdin]
db = sqlite3.connect(sys.argv[1])
want = db.execute("SELECT b, t FROM big ORDER BY id").fetchall()
assert len(rows) == 3, len(rows)
assert base64.b64decode(rows[0]["b"]) == want[0][0], "blob differs"
assert rows[1]["t"] == want[1][1] and len(rows[1]["t"]) == 12 << 20, "text differs"
assert rows[2] == {"id": 3, "b": "AA==", "t": "small"}, rows[2]
' "$BIG" 2>"$T/big.err"; then
        ok "big rows .$ext: every value whole (peak RSS $(($(tail -n 1 "$T/big.rss") / 1024)) MB)"
    else
        not_ok "big rows .$ext: every value whole" "$(tail -n 3 "$T/big.err")"
    fi
done
finish
