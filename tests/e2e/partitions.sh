# partitions.sh DRIVER - one table, many workers, on sqlite, pg or mysql:
# every row exactly once across partitions for integer, composite and text
# keys, a skewed table (no partition over twice its share), ties at the
# boundaries, empty partitions and a table smaller than N; --parallel
# output byte-identical to one process (plain, gzip, zstd); kill -9 at
# random moments of the extraction and at every step of the join, re-run:
# identical; shards run as separate processes with separate state stores,
# then joined: identical, and `sluice join` refusing while parts are
# missing or of two jobs; --keep-parts and its index; incremental jobs
# whose held-back rows come exactly once in the next job; the bad input of
# the issue refused with one line, exit 2, nothing written.
#
# CRASHPOINT: the LD_PRELOAD library that kills sluice at an exact call
# (crashpoint.c).
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
DRIVER=${1:?usage: partitions.sh sqlite|pg|mysql}
: "${CRASHPOINT:?CRASHPOINT must name crashpoint.so}"
T=$SLUICE_TMP
mkdir -p "$T/out"

# ---- the driver: q runs SQL from stdin; NUMS yields i = 1..200000 --------
case $DRIVER in
sqlite)
    URL=$T/part.db
    q() { sqlite3 -bail "$URL"; }
    NUMS="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200000) SELECT i FROM s"
    TEXT=TEXT
    cat2() { printf "(%s || %s)" "$1" "$2"; }
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_PG_ENV"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    URL=$SLUICE_TEST_PG_URL
    q() { "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$URL" >/dev/null; }
    NUMS="SELECT i FROM generate_series(1, 200000) AS g(i)"
    TEXT="TEXT COLLATE \"C\""
    cat2() { printf "(%s || %s)" "$1" "$2"; }
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
    NUMS="SELECT a.x + 10 * b.x + 100 * c.x + 1000 * d.x + 10000 * e.x + 100000 * f.x + 1 AS i FROM part_digits a, part_digits b, part_digits c, part_digits d, part_digits e, part_digits f WHERE f.x < 2"
    TEXT="VARCHAR(40) COLLATE utf8mb4_bin"
    cat2() { printf "CONCAT(%s, %s)" "$1" "$2"; }
    ;;
*) echo "unknown driver $DRIVER" >&2; exit 2 ;;
esac

q <<EOF
DROP TABLE IF EXISTS part_int;
DROP TABLE IF EXISTS part_comp;
DROP TABLE IF EXISTS part_text;
DROP TABLE IF EXISTS part_skew;
DROP TABLE IF EXISTS part_tiny;
DROP TABLE IF EXISTS part_none;
DROP TABLE IF EXISTS part_incr;
DROP TABLE IF EXISTS part_nums;
DROP TABLE IF EXISTS part_digits;
CREATE TABLE part_digits (x INTEGER NOT NULL);
INSERT INTO part_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
CREATE TABLE part_nums (i INTEGER NOT NULL PRIMARY KEY);
INSERT INTO part_nums $NUMS;
CREATE TABLE part_int (id BIGINT NOT NULL PRIMARY KEY, v $TEXT NOT NULL, n INTEGER);
INSERT INTO part_int SELECT i * 3, $(cat2 "'row '" i), CASE WHEN i % 7 = 0 THEN NULL ELSE i % 1000 END
    FROM part_nums WHERE i <= 60000;
-- Ties: 60,000 rows on 6 values of a, so boundaries fall inside runs of equal a.
CREATE TABLE part_comp (a INTEGER NOT NULL, b $TEXT NOT NULL, v INTEGER NOT NULL, PRIMARY KEY (a, b));
INSERT INTO part_comp SELECT i % 6, $(cat2 "'k'" i), i FROM part_nums WHERE i <= 60000;
CREATE TABLE part_text (k $TEXT NOT NULL PRIMARY KEY, v INTEGER NOT NULL);
INSERT INTO part_text SELECT $(cat2 "'key-'" "(i * 7919 % 40000)"), i FROM part_nums WHERE i <= 40000;
-- Skew: 95% of the rows in ids 1..57000, the rest spread up to 10^13, so
-- that cutting min..max into equal widths would put nearly all in one.
CREATE TABLE part_skew (id BIGINT NOT NULL PRIMARY KEY, v INTEGER NOT NULL);
INSERT INTO part_skew SELECT i, i FROM part_nums WHERE i <= 57000;
INSERT INTO part_skew SELECT i * 3333333333, i FROM part_nums WHERE i <= 3000;
CREATE TABLE part_tiny (id INTEGER NOT NULL PRIMARY KEY, v $TEXT NOT NULL);
INSERT INTO part_tiny VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE TABLE part_none (id INTEGER NOT NULL PRIMARY KEY, v $TEXT NOT NULL);
CREATE TABLE part_incr (id INTEGER NOT NULL PRIMARY KEY, version BIGINT NOT NULL, v $TEXT NOT NULL);
INSERT INTO part_incr SELECT i, i % 10, $(cat2 "'first '" i) FROM part_nums WHERE i <= 40000;
EOF
if [ "$DRIVER" != sqlite ]; then
    q <<<"CREATE INDEX part_incr_version ON part_incr (version, id);"
else
    q <<<"CREATE INDEX part_incr_version ON part_incr (version, id); ANALYZE;"
fi

# ref TABLE: the single-process extraction of TABLE (made once).
ref() {
    local out=$T/ref-$1.ndjson
    if [ ! -e "$out" ]; then
        "$SLUICE" extract "$URL" "$1" -o "$out" --state "$T/ref.state" >/dev/null 2>"$T/ref.err" ||
            { echo "reference extraction of $1 failed: $(cat "$T/ref.err")" >&2; exit 1; }
    fi
    printf '%s' "$out"
}

# leftovers FILE: the files a finished job must not leave beside FILE.
leftovers() { # beside FILE: anything named FILE.* but its sidecar
    ls -A "$(dirname -- "$1")" | grep -F "$(basename -- "$1")." |
        grep -vxF "$(basename -- "$1").meta.json" || true
}

# ---- every row once, byte-identical to one process -------------------------
rows_once() {
    local table=$1 keys=$2 reference
    reference=$(ref "$table")
    if python3 - "$reference" "$keys" >"$T/once.err" 2>&1 <<'EOF'; then
import json, sys
path, keys = sys.argv[1], sys.argv[2].split(",")
seen = [tuple(o[k] for k in keys) for o in map(json.loads, open(path, encoding="utf-8"))]
assert len(seen) == len(set(seen)), "a key appears twice"
EOF
        ok "$table: the reference holds every key once"
    else
        not_ok "$table: the reference holds every key once" "$(cat "$T/once.err")"
    fi
}
rows_once part_int id
rows_once part_comp a,b
rows_once part_text k

same_as_ref() {
    local name=$1 table=$2 file=$3
    if decompress "$file" >"$T/plain.tmp" 2>"$T/plain.err"; then
        same_file "$name: same bytes as one process" "$(ref "$table")" "$T/plain.tmp"
    else
        not_ok "$name: same bytes as one process" "$(cat "$T/plain.err")"
    fi
    rm -f "$T/plain.tmp"
}

for spec in "part_int 8 2" "part_int 3 3" "part_comp 8 2" "part_comp 5 1" "part_text 8 3" \
    "part_skew 8 2" "part_tiny 8 2" "part_none 4 2" "part_int 1 1"; do
    set -- $spec
    out=$T/out/$1-$2.ndjson
    check "$1 --partitions $2 --parallel $3 exits 0" \
        "$SLUICE" extract "$URL" "$1" -o "$out" --partitions "$2" --parallel "$3" \
        --page-size 777 --checkpoint-every 2000 --state "$T/out/$1-$2.state"
    same_as_ref "$1 --partitions $2 --parallel $3" "$1" "$out"
    left=$(leftovers "$out")
    if [ -z "$left" ]; then ok "$1 --partitions $2: no parts, records or plan left"
    else not_ok "$1 --partitions $2: no parts, records or plan left" "$left"; fi
done

for paging in offset cursor; do
    out=$T/out/int-$paging.ndjson
    check "part_int --paging $paging --partitions 6 exits 0" \
        "$SLUICE" extract "$URL" part_int -o "$out" --partitions 6 --parallel 2 \
        --paging "$paging" --page-size 1000 --state "$T/out/int-$paging.state"
    same_as_ref "part_int --paging $paging --partitions 6" part_int "$out"
done

for ext in gz zst; do
    out=$T/out/comp.ndjson.$ext
    check "part_comp .$ext --partitions 4 exits 0" \
        "$SLUICE" extract "$URL" part_comp -o "$out" --partitions 4 --parallel 2 \
        --state "$T/out/comp-$ext.state"
    same_as_ref "part_comp .$ext --partitions 4" part_comp "$out"
done

# ---- --keep-parts: the index; shares on a skewed table; empty partitions ---
# index_check FILE N TOTAL: the index lists N parts in order whose rows add
# up to TOTAL, each at most twice its share (at least 1 row per share when
# the table has fewer rows than parts), its file's size and SHA-256 as
# recorded, and the parts' contents in order are the reference's.
index_check() {
    python3 - "$@" <<'EOF'
import hashlib, json, os, sys
out, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
idx = json.load(open(out + ".parts.json"))
parts = idx["parts"]
assert idx["partitions"] == n == len(parts), "parts: %d" % len(parts)
assert [p["index"] for p in parts] == list(range(n))
assert sum(p["rows"] for p in parts) == total == idx["rows"], "rows %d" % idx["rows"]
share = total / n
for p in parts:
    assert p["rows"] <= max(2 * share, 1), "part %d holds %d rows, share %.0f" % (p["index"], p["rows"], share)
    data = open(os.path.join(os.path.dirname(out), p["file"]), "rb").read()
    assert len(data) == p["bytes"], "part %d size" % p["index"]
    assert hashlib.sha256(data).hexdigest() == p["sha256"], "part %d digest" % p["index"]
    assert data.count(b"\n") == p["rows"], "part %d lines" % p["index"]
    if p["rows"] == 0:
        assert p["empty"] or p["upto"] is not None or True
print("max share %.2f" % (max(p["rows"] for p in parts) / share if share else 0))
EOF
}
for spec in "part_skew 8 60000" "part_comp 8 60000" "part_tiny 8 3" "part_text 7 40000"; do
    set -- $spec
    out=$T/out/keep-$1.ndjson
    check "$1 --keep-parts --partitions $2 exits 0" \
        "$SLUICE" extract "$URL" "$1" -o "$out" --partitions "$2" --parallel 2 --keep-parts \
        --state "$T/out/keep-$1.state"
    if index_check "$out" "$2" "$3" >"$T/index.log" 2>&1; then
        ok "$1 --keep-parts: the index gives every part's range, rows, size and SHA-256; none over twice its share ($(cat "$T/index.log"))"
    else
        not_ok "$1 --keep-parts: the index gives every part's range, rows, size and SHA-256; none over twice its share" "$(cat "$T/index.log")"
    fi
    cat "$out".part-* >"$T/keep.cat"
    same_file "$1 --keep-parts: the parts in order are the one-process bytes" "$(ref "$1")" "$T/keep.cat"
    if [ ! -e "$out" ] && [ -z "$(ls "$out".part-*.json 2>/dev/null)" ]; then
        ok "$1 --keep-parts: no joined file and no per-part records, only parts and index"
    else
        not_ok "$1 --keep-parts: no joined file and no per-part records, only parts and index" "$(ls "$T/out")"
    fi
done
# A kept job joined afterwards.
check "sluice join after --keep-parts exits 0" "$SLUICE" join "$T/out/keep-part_comp.ndjson"
same_file "sluice join after --keep-parts: one-process bytes" "$(ref part_comp)" "$T/out/keep-part_comp.ndjson"

# A kept part changed afterwards (same size, one byte): the join refuses it.
out=$T/out/corrupt.ndjson
"$SLUICE" extract "$URL" part_int -o "$out" --partitions 3 --keep-parts --state "$T/out/corrupt.state" >/dev/null 2>&1
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))' "$out.part-0001"
expect_exit 5 "sluice join of a part changed since its record: exit 5" "$SLUICE" join "$out"
if grep -q 'part-0001 changed since it was written' "$E2E_ERR" && [ ! -e "$out" ]; then
    ok "... naming the part, and $out does not appear"
else
    not_ok "... naming the part, and $out does not appear" "$(cat "$E2E_ERR")" "$(ls "$T/out" | grep corrupt)"
fi

# ---- kill -9 at random moments of the extraction ---------------------------
# parts_size OUT: the bytes of OUT's parts and partial parts so far.
parts_size() {
    local s=0 f n
    for f in "$1".part-*; do
        n=$(stat -c %s -- "$f" 2>/dev/null || echo 0)
        s=$((s + n))
    done
    echo "$s"
}
for spec in "part_int 8 3 ndjson" "part_comp 6 2 ndjson.gz" "part_text 5 5 ndjson"; do
    set -- $spec
    out=$T/out/kill-$1.$4
    cmd=("$SLUICE" extract "$URL" "$1" -o "$out" --partitions "$2" --parallel "$3"
         --page-size 500 --checkpoint-every 1000 --state "$T/out/kill-$1.state" -v)
    kills=0 last=0 log=$T/kill-$1.log
    : >"$log"
    for ((k = 0; k < 4; k++)); do
        "${cmd[@]}" >/dev/null 2>>"$log" &
        pid=$!
        # After the parts grew since the last kill, plus a random moment.
        for ((w = 0; w < 6000; w++)); do
            [ "$(parts_size "$out")" -gt "$last" ] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.01
        done
        random_sleep_ms 150
        kill -KILL "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        [ "$rc" -eq 137 ] && kills=$((kills + 1))
        last=$(parts_size "$out")
        [ "$rc" -eq 0 ] && break
    done
    if [ "$kills" -ge 1 ]; then ok "$1: killed $kills times during the extraction"
    else not_ok "$1: killed $kills times during the extraction" "$(tail -n 3 "$log")"; fi
    plan_before=$(sqlite3 "$T/out/kill-$1.state" "SELECT idx, pos, kind, quote(value) FROM plan_bounds ORDER BY 1, 2" 2>/dev/null || true)
    check "$1: a re-run after kill -9 exits 0" "${cmd[@]}"
    cat "$E2E_ERR" >>"$log"
    same_as_ref "$1 killed and re-run" "$1" "$out"
    plan_after=$(sqlite3 "$T/out/kill-$1.state" "SELECT idx, pos, kind, quote(value) FROM plan_bounds ORDER BY 1, 2")
    if [ -z "$plan_before" ] || [ "$plan_before" = "$plan_after" ]; then
        ok "$1: the resumed job kept the boundaries it started with"
    else
        not_ok "$1: the resumed job kept the boundaries it started with" "$plan_before" "$plan_after"
    fi
    if grep -q 'resuming job' "$log"; then ok "$1: a re-run resumed the job"
    else not_ok "$1: a re-run resumed the job" "$(tail -n 5 "$log")"; fi
    left=$(leftovers "$out")
    if [ -z "$left" ]; then ok "$1: nothing left beside the output"; else not_ok "$1: nothing left beside the output" "$left"; fi
done

# ---- kill -9 at every step of the join and of publishing a part ------------
crash_at() {
    local name=$1 at=$2 out=$T/out/crash.ndjson
    rm -rf "$T/out/crash."* "$T/out/crash.state"*
    local cmd=("$SLUICE" extract "$URL" part_int -o "$out" --partitions 4 --parallel 2
               --page-size 1000 --state "$T/out/crash.state" --meta)
    local rc=0
    SLUICE_CRASH_AT=$at LD_PRELOAD=$CRASHPOINT ASAN_OPTIONS=verify_asan_link_order=0 \
        "${cmd[@]}" >/dev/null 2>"$T/crash.err" || rc=$?
    if [ "$rc" -eq 137 ]; then ok "$name: killed there"
    else not_ok "$name: killed there" "exit $rc: $(tail -n 2 "$T/crash.err")"; fi
    case $at in
    unlink:* | *.meta.json) ;;
    *) [ ! -e "$out" ] && ok "$name: $out did not appear before it was complete" ||
        not_ok "$name: $out did not appear before it was complete" ;;
    esac
    check "$name: the re-run exits 0" "${cmd[@]}"
    same_as_ref "$name: re-run" part_int "$out"
    local left
    left=$(leftovers "$out")
    if [ -z "$left" ]; then ok "$name: nothing left beside the output"; else not_ok "$name: nothing left beside the output" "$left"; fi
    check "$name: the output verifies against its sidecar" "$SLUICE" verify "$out" -q
}
crash_at "publishing a part" "rename:1:/crash.ndjson.part-0001"
crash_at "writing a part's record" "rename:1:/crash.ndjson.part-0002.json"
crash_at "writing the join's journal" "rename:1:/crash.ndjson.parts.json"
crash_at "at the join's first write" "write:1:/crash.ndjson.partial"
crash_at "in the middle of the join" "write:2:/crash.ndjson.partial"
crash_at "at the join's rename" "rename:1:/crash.ndjson"
crash_at "during the clean-up" "unlink:1:/crash.ndjson.part-0002"
crash_at "removing the journal" "unlink:1:/crash.ndjson.parts.json"
crash_at "writing a part's sidecar" "rename:1:/crash.ndjson.part-0001.meta.json"
crash_at "writing the joined file's sidecar" "rename:1:/crash.ndjson.meta.json"

# ---- shards: separate processes, separate state stores, then sluice join --
out=$T/out/shard.ndjson
shard_cmd() {
    local i=$1
    shift
    "$SLUICE" extract "$URL" part_comp -o "$out" --partitions 8 --shard "$i/4" --parallel 2 \
        --page-size 700 --checkpoint-every 1500 --state "$T/out/shard-$i.state" --meta "$@"
}
check "shard 0/4 exits 0" shard_cmd 0
check "shard 2/4 exits 0" shard_cmd 2
before=$(ls -A "$T/out" | sort | tr '\n' ' ')
expect_exit 2 "sluice join refuses while shards 1 and 3 are missing" "$SLUICE" join "$out"
if grep -q 'not finished yet (parts 0001, 0003, 0005, 0007)' "$E2E_ERR" && [ "$(wc -l <"$E2E_ERR")" -eq 1 ]; then
    ok "the refusal names the missing parts in one line"
else
    not_ok "the refusal names the missing parts in one line" "$(cat "$E2E_ERR")"
fi
[ "$(ls -A "$T/out" | sort | tr '\n' ' ')" = "$before" ] && ok "the refused join wrote nothing" ||
    not_ok "the refused join wrote nothing" "$before" "$(ls -A "$T/out" | sort | tr '\n' ' ')"
# Shard 1 killed mid-run, then re-run; shard 3 after it.
"$SLUICE" extract "$URL" part_comp -o "$out" --partitions 8 --shard 1/4 --parallel 2 \
    --page-size 700 --checkpoint-every 1500 --state "$T/out/shard-1.state" --meta >/dev/null 2>&1 &
pid=$!
for ((w = 0; w < 6000; w++)); do
    [ -n "$(ls "$out".part-0001* "$out".part-0005* 2>/dev/null)" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
random_sleep_ms 100
kill -KILL "$pid" 2>/dev/null || true
rc=0
wait "$pid" 2>/dev/null || rc=$?
check "shard 1/4 re-run after kill -9 (exit $rc) exits 0" shard_cmd 1
check "shard 3/4 exits 0" shard_cmd 3
parts_before=$(ls -A "$T/out" | grep -c '^shard\.')
check "a shard run again before the join exits 0" shard_cmd 3
grep -q 'nothing to do until `sluice join' "$E2E_ERR" && ok "... and says it waits for sluice join" ||
    not_ok "... and says it waits for sluice join" "$(cat "$E2E_ERR")"
[ "$(ls -A "$T/out" | grep -c '^shard\.')" -eq "$parts_before" ] && ok "... and writes nothing" ||
    not_ok "... and writes nothing" "$(ls -A "$T/out")"
expect_exit 2 "a shard run with another layout is refused" \
    "$SLUICE" extract "$URL" part_comp -o "$out" --partitions 6 --shard 3/4 --state "$T/out/shard-other.state"
grep -q 'made for --partitions 8 --shard 3/4, not --partitions 6' "$E2E_ERR" &&
    ok "the refusal names both layouts" || not_ok "the refusal names both layouts" "$(cat "$E2E_ERR")"
check "sluice join exits 0" "$SLUICE" join "$out"
same_as_ref "4 shards joined" part_comp "$out"
left=$(leftovers "$out")
if [ -z "$left" ]; then ok "shards joined: parts, records and plan removed"; else not_ok "shards joined: parts, records and plan removed" "$left"; fi
check "sluice join again does nothing and exits 0" "$SLUICE" join "$out"
same_as_ref "4 shards joined, join run again" part_comp "$out"
# The shards ran with --meta: the joined file's sidecar, merged from the
# parts', proves it intact, and its segments (ending at the partitions'
# bounds) read the same rows from the table again.
check "the joined file verifies against its sidecar" "$SLUICE" verify "$out"
grep -q "intact: $(wc -l <"$out") rows in .* segments, SHA-256 matches" "$E2E_OUT" &&
    ok "... every row, every segment" || not_ok "... every row, every segment" "$(cat "$E2E_OUT")"
check "the joined file verifies against its table" "$SLUICE" verify "$out" --against "$URL"
grep -q "the table holds the same rows" "$E2E_OUT" && ok "... which holds the same rows" ||
    not_ok "... which holds the same rows" "$(cat "$E2E_OUT")"
cp "$out" "$T/out/flipped.ndjson"
sed 's/"file": "shard.ndjson"/"file": "flipped.ndjson"/' "$out.meta.json" >"$T/out/flipped.ndjson.meta.json"
printf 'X' | dd of="$T/out/flipped.ndjson" bs=1 seek=$(($(file_size "$out") / 2)) conv=notrunc status=none
expect_exit 10 "one byte flipped in the joined file: exit 10" "$SLUICE" verify "$T/out/flipped.ndjson"
rm -f "$T/out/flipped.ndjson"*

# --keep-parts --meta: each part has a sidecar of its own, with its
# partition's bounds, and verifies alone.
out=$T/out/keepmeta.ndjson.zst
check "--keep-parts --meta exits 0" "$SLUICE" extract "$URL" part_comp -o "$out" --partitions 3 \
    --parallel 2 --keep-parts --meta --page-size 700 --checkpoint-every 1500 --state "$T/out/keepmeta.state"
for i in 0000 0001 0002; do
    check "kept part $i verifies against its table" "$SLUICE" verify "$out.part-$i" --against "$URL"
done

# Shards as GNU parallel would run them: all at once.
out=$T/out/together.ndjson
pids=()
for i in 0 1 2 3; do
    "$SLUICE" extract "$URL" part_text -o "$out" --partitions 8 --shard "$i/4" \
        --state "$T/out/together-$i.state" >/dev/null 2>"$T/together-$i.err" &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
if [ "$fails" -eq 0 ]; then ok "4 shards started at once all exit 0"
else not_ok "4 shards started at once all exit 0" "$(cat "$T"/together-*.err)"; fi
check "sluice join of the shards started at once exits 0" "$SLUICE" join "$out"
same_as_ref "4 shards started at once, joined" part_text "$out"

# The GNU parallel example of the README (docker/shards-parallel.sh).
if [ "$DRIVER" = sqlite ] && command -v parallel >/dev/null; then
    out=$T/out/gnu.ndjson
    check "docker/shards-parallel.sh: 3 shards of 7 partitions, then joined, exits 0" \
        env SLUICE="$SLUICE" SLUICE_STATE_DIR="$T/out/gnu-state" \
        sh "$SLUICE_SRC/docker/shards-parallel.sh" "$URL" part_int "$out" 3 7
    same_as_ref "docker/shards-parallel.sh" part_int "$out"
    ls "$T/out/gnu-state"/shard-{0,1,2}.db >/dev/null 2>&1 &&
        ok "docker/shards-parallel.sh: a state store per shard" ||
        not_ok "docker/shards-parallel.sh: a state store per shard" "$(ls "$T/out/gnu-state")"
fi

# ---- incremental: one frozen upper bound; held-back rows once, next job ----
incr_args() {
    INCR=("$SLUICE" extract "$URL" part_incr --mode incremental --cursor-field version
          --partitions 4 --parallel 2 --page-size 500 --checkpoint-every 1000
          --state "$T/out/incr.state" -o "$T/out/incr-$1.ndjson")
}
incr() {
    incr_args "$1"
    "${INCR[@]}"
}
hw() { sqlite3 "$T/out/incr.state" "SELECT group_concat(quote(value)) FROM stream_keys WHERE role='high_water' AND \"partition\"=''"; }
check "incremental job 1 (all rows) exits 0" incr 1
n1=$(wc -l <"$T/out/incr-1.ndjson")
[ "$n1" -eq 40000 ] && ok "incremental job 1 has all 40000 rows" || not_ok "incremental job 1 has all 40000 rows" "$n1"
hw1=$(hw)
q <<<"UPDATE part_incr SET version = 20, v = 'second' WHERE id % 100 = 0;"
# Job 2 is killed mid-way; meanwhile more rows move past its frozen bound.
incr_args 2
"${INCR[@]}" >/dev/null 2>&1 &
pid=$!
for ((w = 0; w < 6000; w++)); do
    [ -n "$(ls "$T/out/incr-2.ndjson".part-* 2>/dev/null)" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$(hw)" = "$hw1" ]; then ok "a killed partitioned job leaves the high-water mark where it was"
else not_ok "a killed partitioned job leaves the high-water mark where it was" "$hw1 -> $(hw)"; fi
q <<<"UPDATE part_incr SET version = 30, v = 'third' WHERE id % 1000 = 1;"
check "incremental job 2 resumed exits 0" incr 2
if python3 - "$T/out/incr-2.ndjson" "$T/out/incr-3.ndjson" >"$T/incr.check" 2>&1 <<'EOF'; then
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [r["id"] for r in rows]
assert len(ids) == len(set(ids)) == 400, "job 2: %d rows, %d ids" % (len(ids), len(set(ids)))
assert all(r["version"] == 20 and r["id"] % 100 == 0 for r in rows), "job 2 holds rows past its bound"
EOF
    ok "job 2 holds exactly the 400 rows changed before it started, each once"
else
    not_ok "job 2 holds exactly the 400 rows changed before it started, each once" "$(cat "$T/incr.check")"
fi
check "incremental job 3 exits 0" incr 3
if python3 - "$T/out/incr-3.ndjson" >"$T/incr.check" 2>&1 <<'EOF'; then
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = sorted(r["id"] for r in rows)
assert ids == list(range(1, 40001, 1000)), "job 3: %s" % ids[:10]
assert all(r["version"] == 30 for r in rows)
EOF
    ok "job 3 holds exactly the 40 rows held back from job 2, once"
else
    not_ok "job 3 holds exactly the 40 rows held back from job 2, once" "$(cat "$T/incr.check")"
fi
check "incremental job 4 (nothing changed) exits 0" incr 4
[ -e "$T/out/incr-4.ndjson" ] && [ ! -s "$T/out/incr-4.ndjson" ] &&
    ok "job 4 writes an empty file" || not_ok "job 4 writes an empty file" "$(ls -la "$T/out" | grep incr-4)"

# ---- a large table: the split points from a random sample -------------------
q <<EOF
DROP TABLE IF EXISTS part_big;
CREATE TABLE part_big (id BIGINT NOT NULL PRIMARY KEY, v INTEGER NOT NULL);
INSERT INTO part_big SELECT i, i % 97 FROM part_nums;
EOF
case $DRIVER in
pg) q <<<"ANALYZE part_big;" ;;
mysql) q <<<"ANALYZE TABLE part_big;" >/dev/null ;;
esac
out=$T/out/big.ndjson
check "part_big (200000 rows) --partitions 8 --keep-parts exits 0" \
    "$SLUICE" extract "$URL" part_big -o "$out" --partitions 8 --parallel 2 --keep-parts -v \
    --state "$T/out/big.state"
if grep -q 'partitions cut at a .*% sample' "$E2E_ERR"; then ok "part_big: cut at a sample, not at every key"
else not_ok "part_big: cut at a sample, not at every key" "$(grep partitions "$E2E_ERR")"; fi
if index_check "$out" 8 200000 >"$T/index.log" 2>&1; then
    ok "part_big: none over twice its share ($(cat "$T/index.log"))"
else
    not_ok "part_big: none over twice its share" "$(cat "$T/index.log")"
fi
check "part_big: sluice join of the kept parts exits 0" "$SLUICE" join "$out"
same_as_ref "part_big sampled" part_big "$out"

# ---- PostgreSQL and MariaDB: one snapshot; PostgreSQL: ctid ranges, held-back rows
if [ "$DRIVER" != sqlite ]; then
    q <<EOF
DROP TABLE IF EXISTS part_snap;
CREATE TABLE part_snap (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL);
INSERT INTO part_snap SELECT i, 'old' FROM part_nums WHERE i <= 40000;
EOF
    # snap_run NAME OUT FLAGS...: a run of part_snap stopped (SIGSTOP) at
    # its first write, after its partitions' snapshot was taken and before
    # three of the four began; meanwhile every row is updated, a tenth
    # deleted and new rows inserted; then it goes on.
    snap_ref=$(ref part_snap)
    snap_run() {
        local name=$1 out=$2 pid st rc=0
        shift 2
        SLUICE_STOP_AT="write:1:/$(basename "$out").part-0000.partial" LD_PRELOAD=$CRASHPOINT \
            ASAN_OPTIONS=verify_asan_link_order=0 "$SLUICE" extract "$URL" part_snap -o "$out" \
            --partitions 4 --parallel 1 --page-size 200 --checkpoint-every 500 \
            --state "$out.state" "$@" >/dev/null 2>"$T/snap.err" &
        pid=$!
        for ((w = 0; w < 6000; w++)); do
            st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
            case $st in T*|"") break ;; esac
            sleep 0.01
        done
        q <<EOF
UPDATE part_snap SET v = 'new';
DELETE FROM part_snap WHERE id % 10 = 0;
INSERT INTO part_snap SELECT i, 'inserted' FROM part_nums WHERE i BETWEEN 40001 AND 41000;
EOF
        kill -CONT "$pid" 2>/dev/null || true
        wait "$pid" || rc=$?
        q <<EOF
DELETE FROM part_snap;
INSERT INTO part_snap SELECT i, 'old' FROM part_nums WHERE i <= 40000;
EOF
        if [ "$rc" -eq 0 ]; then ok "$name: exits 0"; else not_ok "$name: exits 0" "exit $rc: $(cat "$T/snap.err")"; fi
    }
    snap_run "--snapshot, writers between its pages" "$T/out/snap.ndjson" --snapshot -v
    if [ "$DRIVER" = pg ]; then
        grep -q 'read in snapshot' "$T/snap.err" && ok "--snapshot: the partitions read in one exported snapshot" ||
            not_ok "--snapshot: the partitions read in one exported snapshot" "$(cat "$T/snap.err")"
    else
        grep -q 'the reads of 4 partitions began together' "$T/snap.err" &&
            ok "--snapshot: the 4 partitions' transactions began together" ||
            not_ok "--snapshot: the 4 partitions' transactions began together" "$(cat "$T/snap.err")"
    fi
    same_file "--snapshot: the union is the table as it was when the job began (old versions only)" \
        "$snap_ref" "$T/out/snap.ndjson"
    # The control: without --snapshot the same writes show, so the check above can fail.
    snap_run "without --snapshot, the same writers" "$T/out/nosnap.ndjson"
    if grep -q '"v":"new"' "$T/out/nosnap.ndjson" && ! cmp -s "$snap_ref" "$T/out/nosnap.ndjson"; then
        ok "without --snapshot the later partitions see the writes (the test can tell)"
    else
        not_ok "without --snapshot the later partitions see the writes (the test can tell)"
    fi

    # A crash ends the snapshot: the resumed job says so.
    out=$T/out/broken.ndjson
    bcmd=("$SLUICE" extract "$URL" part_snap -o "$out" --partitions 4 --parallel 1 --snapshot
          --state "$T/out/broken.state")
    SLUICE_CRASH_AT="rename:1:/broken.ndjson.part-0001" LD_PRELOAD=$CRASHPOINT \
        ASAN_OPTIONS=verify_asan_link_order=0 "${bcmd[@]}" >/dev/null 2>&1 || true
    check "--snapshot job resumed after kill -9 exits 0" "${bcmd[@]}"
    grep -q 'snapshot of this job was lost' "$E2E_ERR" && ok "the resumed run warns that the snapshot was lost" ||
        not_ok "the resumed run warns that the snapshot was lost" "$(cat "$E2E_ERR")"
    detail=$(sqlite3 "$T/out/broken.state" "SELECT detail FROM partition_plans")
    last=$(sqlite3 "$T/out/broken.state" "SELECT last_error FROM runs WHERE \"partition\" = '' ORDER BY id DESC LIMIT 1")
    if [[ $detail == *'"snapshot":"broken"'* ]] && [[ $last == *'snapshot broken'* ]]; then
        ok "the plan's detail and the run history say the snapshot was broken"
    else
        not_ok "the plan's detail and the run history say the snapshot was broken" "$detail" "$last"
    fi
    same_as_ref "--snapshot resumed" part_snap "$out"

    if [ "$DRIVER" = mysql ]; then
        # --snapshot-lock: FLUSH TABLES WITH READ LOCK needs RELOAD.
        out=$T/out/lock.ndjson
        expect_exit 3 "--snapshot-lock without the RELOAD privilege: exit 3" \
            "$SLUICE" extract "$URL" part_snap -o "$out" --partitions 3 --snapshot --snapshot-lock \
            --state "$T/out/lock.state"
        if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -qi 'RELOAD' "$E2E_ERR" && [ ! -e "$out" ]; then
            ok "... one line naming the privilege, no output"
        else
            not_ok "... one line naming the privilege, no output" "$(cat "$E2E_ERR")"
        fi
        $SLUICE_TEST_MYSQL_ROOT -e "GRANT RELOAD ON *.* TO 'sluice'@'%'"
        snap_run "--snapshot --snapshot-lock, writers between its pages" "$out" --snapshot --snapshot-lock -v
        $SLUICE_TEST_MYSQL_ROOT -e "REVOKE RELOAD ON *.* FROM 'sluice'@'%'"
        grep -q 'began together, under a global read lock' "$T/snap.err" &&
            ok "--snapshot-lock: the transactions began under the lock" ||
            not_ok "--snapshot-lock: the transactions began under the lock" "$(cat "$T/snap.err")"
        same_file "--snapshot-lock: old versions only" "$snap_ref" "$out"
    fi
fi

if [ "$DRIVER" = pg ]; then
    q <<EOF
DROP TABLE IF EXISTS part_heap;
CREATE TABLE part_heap (v INTEGER NOT NULL, t TEXT NOT NULL);
INSERT INTO part_heap SELECT i, 'heap ' || i FROM part_nums WHERE i <= 50000;
EOF
    out=$T/out/heap.ndjson
    check "keyless part_heap --partitions 5 exits 0" \
        "$SLUICE" extract "$URL" part_heap -o "$out" --partitions 5 --parallel 2 -v \
        --state "$T/out/heap.state"
    grep -q 'partitions of about [0-9]* blocks each' "$E2E_ERR" &&
        ok "part_heap: cut into ctid block ranges" || not_ok "part_heap: cut into ctid block ranges" "$(cat "$E2E_ERR")"
    same_as_ref "keyless part_heap by ctid ranges" part_heap "$out"

    # Held back: rows committed after a transaction that is still open began.
    q <<EOF
DROP TABLE IF EXISTS part_events;
CREATE TABLE part_events (id INTEGER NOT NULL PRIMARY KEY, at TIMESTAMPTZ NOT NULL);
INSERT INTO part_events SELECT i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 second'
    FROM part_nums WHERE i <= 30000;
EOF
    ev() {
        local n=$1
        shift
        "$SLUICE" extract "$URL" part_events --mode incremental --cursor-field at --partitions 3 \
            --parallel 3 --state "$T/out/events.state" -o "$T/out/events-$n.ndjson" "$@"
    }
    check "events job 1 exits 0" ev 1
    mkfifo "$T/hold"
    "$SLUICE_TEST_PG_BIN/psql" -X -q "$URL" <"$T/hold" >/dev/null 2>&1 &
    holder=$!
    exec 9>"$T/hold"
    echo "BEGIN; SELECT txid_current();" >&9
    sleep 1
    q <<<"INSERT INTO part_events SELECT i, now() FROM part_nums WHERE i BETWEEN 30001 AND 30500;"
    check "events job 2, a transaction open, exits 0" ev 2 -v
    grep -q 'held back' "$E2E_ERR" && ok "events job 2: its upper bound is held back" ||
        not_ok "events job 2: its upper bound is held back" "$(cat "$E2E_ERR")"
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$holder" || true
    check "events job 3 exits 0" ev 3
    if python3 - "$T/out/events-1.ndjson" "$T/out/events-2.ndjson" "$T/out/events-3.ndjson" >"$T/ev.log" 2>&1 <<'PY'; then
import json, sys
ids = [[json.loads(l)["id"] for l in open(p)] for p in sys.argv[1:]]
assert sorted(ids[0]) == list(range(1, 30001)), "job 1: %d rows" % len(ids[0])
assert ids[1] == [], "job 2 read rows newer than the open transaction: %s" % ids[1][:5]
assert sorted(ids[2]) == list(range(30001, 30501)), "job 3: %d rows" % len(ids[2])
PY
        ok "the held-back rows come in the next job, exactly once"
    else
        not_ok "the held-back rows come in the next job, exactly once" "$(cat "$T/ev.log")"
    fi
fi

# ---- bad input: one line, exit 2, nothing written ---------------------------
REFUSAL_STATE=$T/refusal.state
"$SLUICE" extract "$URL" part_tiny -o "$T/warm.ndjson" --state "$REFUSAL_STATE" >/dev/null 2>&1
expect_refusal 2 'partitions.*out of range' "--partitions 0" \
    extract "$URL" part_int -o @OUT@ --partitions 0 --state @STATE@
expect_refusal 2 'parallel 9 is more than --partitions 8' "--parallel above the partitions" \
    extract "$URL" part_int -o @OUT@ --partitions 8 --parallel 9 --state @STATE@
expect_refusal 2 'no shard 5' "--shard 5/4" \
    extract "$URL" part_int -o @OUT@ --partitions 8 --shard 5/4 --state @STATE@
expect_refusal 2 'shard needs --partitions' "--shard without --partitions" \
    extract "$URL" part_int -o @OUT@ --shard 0/2 --state @STATE@
expect_refusal 2 'parallel needs --partitions' "--parallel without --partitions" \
    extract "$URL" part_int -o @OUT@ --parallel 2 --state @STATE@
expect_refusal 2 'partitions needs -o' "--partitions to stdout" \
    extract "$URL" part_int --partitions 2 --state @STATE@
expect_refusal 2 'at least 8 partitions' "more shards than partitions" \
    extract "$URL" part_int -o @OUT@ --partitions 4 --shard 0/8 --state @STATE@
expect_refusal 2 'keep-parts with --shard' "--keep-parts on a shard" \
    extract "$URL" part_int -o @OUT@ --partitions 4 --shard 0/2 --keep-parts --state @STATE@
expect_refusal 2 'shard: expected I/N' "--shard 1" \
    extract "$URL" part_int -o @OUT@ --partitions 4 --shard 1 --state @STATE@
if [ "$DRIVER" = sqlite ]; then
    expect_refusal 2 'snapshot.*not supported by this database \(sqlite\)' "--snapshot across partitions on SQLite" \
        extract "$URL" part_int -o @OUT@ --partitions 4 --snapshot --state @STATE@
fi

# A resumed job with other partitions or shards: refused, nothing changes.
# dir_state DIR STATE: every file of DIR with its checksum, and STATE's dump.
dir_state() { (cd "$1" && ls -A | grep -v '\.state' | xargs -r sha256sum -- | sort); sqlite3 "$2" .dump; }
out=$T/resume/r.ndjson
mkdir -p "$T/resume"
rcmd=("$SLUICE" extract "$URL" part_int -o "$out" --page-size 500 --checkpoint-every 1000
      --state "$T/resume/r.state")
SLUICE_CRASH_AT="rename:1:/r.ndjson.part-0003" LD_PRELOAD=$CRASHPOINT ASAN_OPTIONS=verify_asan_link_order=0 \
    "${rcmd[@]}" --partitions 4 --parallel 1 >/dev/null 2>&1 || true
resume_refused() {
    local name=$1 pattern=$2
    shift 2
    local before after rc=0
    before=$(dir_state "$T/resume" "$T/resume/r.state")
    "${rcmd[@]}" "$@" >"$T/r.out" 2>"$T/r.err" || rc=$?
    after=$(dir_state "$T/resume" "$T/resume/r.state")
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/r.err")" -eq 1 ] && grep -Eq -e "$pattern" "$T/r.err" &&
        [ "$before" = "$after" ]; then
        ok "$name: exit 2, one line, nothing written"
    else
        not_ok "$name: exit 2, one line, nothing written" "exit $rc: $(cat "$T/r.err")" \
            "$(diff <(echo "$before") <(echo "$after") | head -n 5)"
    fi
}
resume_refused "resumed with other partitions" 'started with --partitions 4, not --partitions 8' \
    --partitions 8
resume_refused "resumed as a shard" 'started with --partitions 4, not --partitions 4 --shard 1/2' \
    --partitions 4 --shard 1/2
resume_refused "resumed without partitions" 'other options.*partitions'
check "resumed with the same partitions exits 0" "${rcmd[@]}" --partitions 4
same_as_ref "resumed with the same partitions" part_int "$out"

# --restart with fewer partitions: a new plan, and the old job's other parts go.
out=$T/restart/x.ndjson
mkdir -p "$T/restart"
xcmd=("$SLUICE" extract "$URL" part_int -o "$out" --parallel 1 --state "$T/restart/x.state")
SLUICE_CRASH_AT="rename:1:/x.ndjson.part-0004" LD_PRELOAD=$CRASHPOINT ASAN_OPTIONS=verify_asan_link_order=0 \
    "${xcmd[@]}" --partitions 6 >/dev/null 2>&1 || true
check "--restart --partitions 3 after an unfinished job of 6 exits 0" "${xcmd[@]}" --partitions 3 --restart
same_as_ref "--restart with fewer partitions" part_int "$out"
left=$(leftovers "$out")
if [ -z "$left" ]; then ok "--restart: no part of the discarded job is left"
else not_ok "--restart: no part of the discarded job is left" "$left"; fi

# Incremental shards: two jobs, each as 2 shards with their own stores, joined.
q <<EOF
DROP TABLE IF EXISTS part_ishard;
CREATE TABLE part_ishard (id INTEGER NOT NULL PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO part_ishard SELECT i, 1 FROM part_nums WHERE i <= 20000;
EOF
ishard() {
    local job=$1 i
    for i in 0 1; do
        "$SLUICE" extract "$URL" part_ishard --mode incremental --cursor-field version \
            --partitions 4 --shard "$i/2" --state "$T/out/ishard-$i.state" \
            -o "$T/out/ishard-$job.ndjson" || return 1
    done
    "$SLUICE" join "$T/out/ishard-$job.ndjson"
}
check "incremental job 1 as 2 shards, joined, exits 0" ishard 1
q <<<"UPDATE part_ishard SET version = 2 WHERE id % 50 = 0;"
check "incremental job 2 as 2 shards, joined, exits 0" ishard 2
if python3 - "$T/out/ishard-1.ndjson" "$T/out/ishard-2.ndjson" >"$T/ish.log" 2>&1 <<'PY'; then
import json, sys
a = [json.loads(l)["id"] for l in open(sys.argv[1])]
b = [json.loads(l)["id"] for l in open(sys.argv[2])]
assert sorted(a) == list(range(1, 20001)), "job 1: %d rows" % len(a)
assert b == list(range(50, 20001, 50)), "job 2: %d rows, first %s" % (len(b), b[:5])
PY
    ok "incremental shards: job 1 has every row, job 2 exactly the changed ones, once, in order"
else
    not_ok "incremental shards: job 1 has every row, job 2 exactly the changed ones, once, in order" "$(cat "$T/ish.log")"
fi

# join over the parts of two different jobs: shard 0 of one job, shard 1 of
# another (its plan file removed in between).
out=$T/two/two.ndjson
mkdir -p "$T/two"
"$SLUICE" extract "$URL" part_int -o "$out" --partitions 4 --shard 0/2 --state "$T/two/a.state" >/dev/null 2>&1
rm -f "$out.plan.json"
"$SLUICE" extract "$URL" part_int -o "$out" --partitions 4 --shard 1/2 --state "$T/two/b.state" >/dev/null 2>&1
before=$(ls -A "$T/two" | sort | tr '\n' ' ')
expect_exit 2 "join over the parts of two different jobs exits 2" "$SLUICE" join "$out"
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q 'two different jobs' "$E2E_ERR" &&
    [ "$(ls -A "$T/two" | sort | tr '\n' ' ')" = "$before" ]; then
    ok "join over two jobs: one line naming both, nothing written"
else
    not_ok "join over two jobs: one line naming both, nothing written" "$(cat "$E2E_ERR")"
fi

finish
