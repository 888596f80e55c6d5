#!/usr/bin/env bash
# verify.sh DRIVER - sluice verify on sqlite, pg or mysql: a backup checked
# against its sidecar (one byte flipped, truncated, extended, two segments
# swapped: each detected and located, for plain, gzip and zstd files; a
# file moved with its sidecar verifies the same), and against its table
# (one row updated, two deleted, three inserted: exactly those keys, the
# deleted ones in --deleted-keys; an incremental file within its job's
# bounds); the bad inputs, each with its own exit code; verify changes
# neither the file nor the table.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
DRIVER=${1:?usage: verify.sh sqlite|pg|mysql}
T=$SLUICE_TMP
cd "$T"

case $DRIVER in
sqlite)
    q() { sqlite3 -bail "$T/src.db"; }
    URL="sqlite:$T/src.db"
    OTHER="sqlite:$T/other.db"
    sqlite3 "$T/other.db" "CREATE TABLE x (id INTEGER PRIMARY KEY)"
    NUMS="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) SELECT i FROM s"
    TS="'2026-01-01 00:00:00'"
    DROP_COL="ALTER TABLE v_shape DROP COLUMN note"
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_PG_ENV"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    q() { "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_URL" >/dev/null; }
    URL=$SLUICE_TEST_PG_URL
    OTHER="postgresql://postgres@127.0.0.1:$SLUICE_TEST_PG_PORT/template1"
    NUMS="SELECT i FROM generate_series(1, 5000) AS g(i)"
    TS="'2026-01-01 00:00:00'"
    DROP_COL="ALTER TABLE v_shape DROP COLUMN note"
    ;;
mysql)
    [ -n "${SLUICE_TEST_MYSQL_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_MYSQL_ENV"; exit 77; }
    . "$SLUICE_TEST_MYSQL_ENV"
    CLIENT=$(command -v mariadb || command -v mysql)
    q() {
        MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD "$CLIENT" --no-defaults -h "$SLUICE_TEST_MYSQL_HOST" \
            -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB"
    }
    URL=$SLUICE_TEST_MYSQL_URL
    export MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD # the sidecar's source has no password
    OTHER="mysql://nobody@127.0.0.1:$SLUICE_TEST_MYSQL_PORT/other"
    NUMS="SELECT seq AS i FROM seq_1_to_5000"
    TS="'2026-01-01 00:00:00'"
    DROP_COL="ALTER TABLE v_shape DROP COLUMN note"
    ;;
*) echo "unknown driver $DRIVER" >&2; exit 2 ;;
esac

NAME="'item number ' || i"
[ "$DRIVER" = mysql ] && NAME="CONCAT('item number ', i)"
# Even ids 2..10000, so rows inserted later fall inside the segments.
q <<EOF
DROP TABLE IF EXISTS v_items;
DROP TABLE IF EXISTS v_events;
DROP TABLE IF EXISTS v_shape;
CREATE TABLE v_items (id INTEGER NOT NULL PRIMARY KEY, grp INTEGER NOT NULL, name VARCHAR(40) NOT NULL, amount NUMERIC(12,2));
INSERT INTO v_items SELECT 2 * i, i % 7, $NAME, i / 4.0 FROM ($NUMS) n;
CREATE TABLE v_events (id INTEGER NOT NULL PRIMARY KEY, ts VARCHAR(19) NOT NULL, v INTEGER NOT NULL);
INSERT INTO v_events SELECT i, $TS, i FROM ($NUMS) n WHERE i <= 3000;
CREATE TABLE v_shape (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(10));
INSERT INTO v_shape SELECT i, 'n' FROM ($NUMS) n WHERE i <= 100;
EOF

table_sum() { "$SLUICE" extract "$URL" v_items --state "$T/sum.state" | sha256sum; }

# ---- the file against its sidecar ------------------------------------------------
for ext in ndjson ndjson.gz ndjson.zst; do
    f=$T/items.$ext
    check "$ext: extract --meta" "$SLUICE" extract "$URL" v_items -o "$f" --meta \
        --checkpoint-every 700 --state "$T/items.state"
    check "$ext: an untouched file verifies" "$SLUICE" verify "$f"
    grep -q "intact: 5000 rows in 8 segments" "$E2E_OUT" && ok "$ext: 5000 rows in 8 segments, intact" ||
        not_ok "$ext: 5000 rows in 8 segments, intact" "$(cat "$E2E_OUT")"
    # Moved elsewhere with its sidecar: the same.
    mkdir -p "$T/moved"
    cp "$f" "$f.meta.json" "$T/moved/"
    check "$ext: moved with its sidecar, it verifies the same" "$SLUICE" verify "$T/moved/items.$ext"
    check "$ext: naming the sidecar verifies its file" "$SLUICE" verify "$T/moved/items.$ext.meta.json"

    # Segment N's byte range from the sidecar.
    seg() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["segments"][int(sys.argv[2])]; print(s["bytes"][0], s["bytes"][1])' "$f.meta.json" "$1"; }
    damaged() { # NAME FILE EXPECTED-LINE-PATTERN...
        local name=$1 file=$2
        shift 2
        expect_exit 10 "$ext: $name: exit 10" "$SLUICE" verify "$file"
        local p missing=""
        for p in "$@"; do grep -q -e "$p" "$E2E_OUT" || missing="$missing [$p]"; done
        if [ -z "$missing" ]; then ok "$ext: $name: located"; else
            not_ok "$ext: $name: located" "missing$missing" "$(cat "$E2E_OUT")"; fi
    }
    # A copy with its sidecar in a directory of its own (the same name).
    copy() { rm -rf "$T/$1"; mkdir "$T/$1"; cp "$f" "$f.meta.json" "$T/$1/"; echo "$T/$1/items.$ext"; }
    read -r a b < <(seg 3)
    g=$(copy flip)
    python3 -c 'import sys; f=open(sys.argv[1],"r+b"); at=int(sys.argv[2]); f.seek(at); c=f.read(1); f.seek(at); f.write(bytes([c[0]^0x20]))' \
        "$g" $(((a + b) / 2))
    damaged "one byte flipped" "$g" "^segment 3, bytes $a-$b, .*: changed"
    if [ "$(grep -c '^segment' "$E2E_OUT")" -eq 1 ]; then ok "$ext: one byte flipped: only that segment"; else
        not_ok "$ext: one byte flipped: only that segment" "$(cat "$E2E_OUT")"; fi
    read -r a b < <(seg 5)
    g=$(copy cut)
    truncate -s $(((a + b) / 2)) "$g"
    damaged "truncated" "$g" "^segment 5, .*: truncated" "^segment 6, .*: missing" "^segment 7, .*: missing"
    size=$(file_size "$f")
    g=$(copy long)
    printf '{"id":1}\n' >>"$g"
    damaged "extended" "$g" "^bytes $size-$((size + 9)) after the last segment: extended"
    read -r a1 b1 < <(seg 1)
    read -r a2 b2 < <(seg 2)
    g=$(copy swap)
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); a1,b1,a2,b2=map(int,sys.argv[3:]); open(sys.argv[2],"wb").write(d[:a1]+d[a2:b2]+d[a1:b1]+d[b2:])' \
        "$f" "$g" "$a1" "$b1" "$a2" "$b2"
    damaged "two segments swapped" "$g" "^segment 1, .*: changed" "^segment 2, .*: changed"
done

# ---- the file against its table -----------------------------------------------------
F=$T/items.ndjson
before=$(sha256sum <"$F")
check "against an untouched table" "$SLUICE" verify "$F" --against
grep -q "the table holds the same rows" "$E2E_OUT" && ok "the table holds the same rows" ||
    not_ok "the table holds the same rows" "$(cat "$E2E_OUT")"
q <<EOF
UPDATE v_items SET amount = 99999.99 WHERE id = 1234;
DELETE FROM v_items WHERE id IN (10, 4000);
INSERT INTO v_items VALUES (11, 1, 'new one', 1.00), (5001, 2, 'new two', 2.00), (10003, 3, 'new three', 3.00);
EOF
sum=$(table_sum)
for ext in ndjson ndjson.zst; do
    expect_exit 11 "$ext: a moved table: exit 11" "$SLUICE" verify "$T/items.$ext" --against --detail \
        --deleted-keys "$T/deleted.$ext"
    got=$(grep '^  ' "$E2E_OUT" | sed 's/^  //' | sort)
    want=$(printf '%s\n' 'changed {"id":1234}' 'deleted {"id":10}' 'deleted {"id":4000}' \
        'inserted {"id":10003}' 'inserted {"id":11}' 'inserted {"id":5001}' | sort)
    if [ "$got" = "$want" ]; then ok "$ext: --detail names exactly the keys inserted, deleted and changed"; else
        not_ok "$ext: --detail names exactly the keys inserted, deleted and changed" "$got"; fi
    if [ "$(sort "$T/deleted.$ext")" = "$(printf '%s\n' '{"id":10}' '{"id":4000}')" ]; then
        ok "$ext: --deleted-keys holds exactly the two deleted keys"
    else
        not_ok "$ext: --deleted-keys holds exactly the two deleted keys" "$(cat "$T/deleted.$ext")"
    fi
    grep -q "3 rows inserted, 2 deleted, 1 changed" "$E2E_OUT" && ok "$ext: the summary counts them" ||
        not_ok "$ext: the summary counts them" "$(tail -n 1 "$E2E_OUT")"
done
expect_exit 11 "--json: exit 11" "$SLUICE" verify "$F" --against --detail --json
if python3 - "$E2E_OUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = sorted((k["kind"], k["key"]["id"]) for k in d["keys"])
ok = d["result"] == "moved" and d["digest_ok"] and len(d["segments"]) == 8
ok = ok and kinds == [("changed", 1234), ("deleted", 10), ("deleted", 4000),
                      ("inserted", 11), ("inserted", 5001), ("inserted", 10003)]
ok = ok and all(s["state"] == "intact" and s["table"] in ("same", "differs") for s in d["segments"])
sys.exit(0 if ok else 1)
PY
then ok "--json: the documented shape, the same keys"; else not_ok "--json: the documented shape, the same keys" "$(head -c 800 "$E2E_OUT")"; fi
if [ "$(sha256sum <"$F")" = "$before" ] && [ "$(table_sum)" = "$sum" ]; then
    ok "verify changed neither the file nor the table"
else
    not_ok "verify changed neither the file nor the table"
fi

# An incremental file is checked within its job's bounds: rows written
# after the job (a cursor past its upper bound) are not "inserted".
check "incremental extract --meta" "$SLUICE" extract "$URL" v_events --mode incremental \
    --cursor-field ts -o "$T/events.ndjson" --meta --checkpoint-every 500 --state "$T/events.state"
q <<<"INSERT INTO v_events VALUES (4001, '2026-06-01 00:00:00', 1)"
check "a row past the job's upper bound is not a change" "$SLUICE" verify "$T/events.ndjson" --against
q <<<"DELETE FROM v_events WHERE id = 17"
expect_exit 11 "a row deleted inside the job's bounds is" "$SLUICE" verify "$T/events.ndjson" --against --detail
grep -q '^  deleted {"ts":"2026-01-01 00:00:00","id":17}$' "$E2E_OUT" &&
    ok "named with its cursor and key" || not_ok "named with its cursor and key" "$(cat "$E2E_OUT")"

# ---- a manifest stream with verify: true, and status ---------------------------------
if [ "$DRIVER" = sqlite ]; then
    cat >"$T/sluice.yml" <<EOF
version: 1
state: man.state
sources:
  shop: "$URL"
streams:
  - name: items
    source: shop
    table: v_items
    output: "backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst"
    checkpoint_every: 700
    verify: true
EOF
    check "run a stream with verify: true" "$SLUICE" run "$T/sluice.yml"
    status_says() { # the verification status of the last backup
        "$SLUICE" status "$T/sluice.yml" --json >"$T/status.json" 2>/dev/null
        python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["streams"][0]["last_success"]["verification"]; print(v["status"] if v else "none")' "$T/status.json"
    }
    if [ "$(status_says)" = intact ]; then ok "status shows the new backup verified intact"; else
        not_ok "status shows the new backup verified intact" "$(head -c 600 "$T/status.json")"; fi
    backup=$(ls "$T"/backups/items/*.ndjson.zst)
    python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(100); c=f.read(1); f.seek(100); f.write(bytes([c[0]^1]))' "$backup"
    expect_exit 10 "verify finds the damage" "$SLUICE" verify "$backup"
    if [ "$(status_says)" = damaged ]; then ok "and status shows it"; else
        not_ok "and status shows it" "$(head -c 600 "$T/status.json")"; fi
fi

# ---- bad input: one line each, its own exit code, nothing written -------------------
refused() { # NAME CODE PATTERN ARGS...
    local name=$1 code=$2 pattern=$3
    shift 3
    expect_exit "$code" "$name: exit $code" "$SLUICE" verify "$@"
    if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q -e "$pattern" "$E2E_ERR" && [ ! -s "$E2E_OUT" ]; then
        ok "$name: one line naming it"
    else
        not_ok "$name: one line naming it" "$(cat "$E2E_ERR")"
    fi
}
cp "$F" "$T/bare.ndjson"
refused "a file without a sidecar" 12 "has no sidecar" "$T/bare.ndjson"
cp "$F.meta.json" "$T/bare.ndjson.meta.json"
refused "a sidecar of another file" 13 "describes another file" "$T/bare.ndjson"
mkdir -p "$T/newer"
cp "$F" "$T/newer/"
sed 's/"version": 1,/"version": 99,/' "$F.meta.json" >"$T/newer/items.ndjson.meta.json"
refused "a sidecar from a newer sluice" 14 "newer sluice" "$T/newer/items.ndjson"
refused "a source that is not the sidecar's" 15 "is not the source" "$F" --against "$OTHER"
check "a shape extract" "$SLUICE" extract "$URL" v_shape -o "$T/shape.ndjson" --meta --state "$T/shape.state"
q <<<"$DROP_COL"
refused "a table whose columns changed since" 16 "column 'note'" "$T/shape.ndjson" --against
refused "--detail without --against" 2 "needs --against" "$F" --detail
refused "--against twice" 2 "given twice" "$F" --against --against
finish
