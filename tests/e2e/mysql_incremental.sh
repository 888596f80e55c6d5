#!/bin/sh
# mysql_incremental.sh - incremental mode on MariaDB's own cursor types,
# through the binary (sql/mysql/bounds.sql: ev): prefix bounds that are
# values shared by 50 rows each, and must bind back exactly, on
#   a DATETIME(6) cursor with microseconds (exclusive, inclusive --start,
#   --end), a TIMESTAMP(6) cursor whose bounds are UTC while the server's
#   zone is +05:30, and two nullable cursor columns (INT, VARCHAR): NULLs
#   in either are refused, and left out knowingly with --where;
# and the upper bound of a TIMESTAMP cursor held back before a transaction
# still open on the server, when the user may see it (PROCESS), and not
# when it may not. Each job's rows are compared, in order, with the
# server's answer to the same condition.
. "$(dirname "$0")/mysql_lib.sh"

cd "$WORK"
my <"$ROOT/sql/mysql/bounds.sql" >/dev/null

# want NAME SQL-CONDITION ORDER: the server's ids for the condition, in
# ORDER, with the session in UTC (as sluice's is).
want() {
    my -N -B -e "SET time_zone = '+00:00'; SELECT id FROM ev WHERE $2 ORDER BY $3" >"$1.want"
}
# got NAME: the ids of NAME.ndjson, in file order.
got() {
    python3 -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    print(json.loads(l)["id"])' "$1.ndjson"
}
# job NAME WHAT ARGS...: an incremental job into NAME.ndjson, whose ids must
# be NAME.want exactly.
job() {
    name=$1 what=$2
    shift 2
    if "$SLUICE" extract "$URL" ev --mode incremental --state st.db --page-size 7 \
        -o "$name.ndjson" "$@" 2>"$name.err" && got "$name" | cmp -s - "$name.want"; then
        ok "$what: $(wc -l <"$name.want") rows, each once, in cursor order"
    else
        not_ok "$what: got $(wc -l <"$name.ndjson" 2>/dev/null) rows for $(wc -l <"$name.want"): $(cat "$name.err")"
    fi
}

NN="updated_at IS NOT NULL"
U0="'2024-03-01 10:05:00.000250'"
U1="'2024-03-01 10:12:00.000250'"
# DATETIME(6): --end, then the next job from that value, exclusive.
want d1 "$NN AND updated_at <= $U1" "updated_at, id"
job d1 "DATETIME(6) cursor, --end $U1" --cursor-field updated_at --where "$NN" --stream d \
    --end "2024-03-01 10:12:00.000250"
want d2 "$NN AND updated_at > $U1" "updated_at, id"
job d2 "DATETIME(6) cursor, the next job after $U1 (exclusive)" --cursor-field updated_at \
    --where "$NN" --stream d
my -e "UPDATE ev SET updated_at = updated_at + INTERVAL 1 HOUR WHERE id % 97 = 0"
want d3 "$NN AND id % 97 = 0" "updated_at, id"
job d3 "DATETIME(6) cursor, the rows moved since" --cursor-field updated_at --where "$NN" --stream d
want d4 "$NN AND updated_at >= $U0" "updated_at, id"
job d4 "DATETIME(6) cursor, --start $U0 (inclusive)" --cursor-field updated_at --where "$NN" \
    --stream d4 --start "2024-03-01 10:05:00.000250"

# TIMESTAMP(6): bounds and values in UTC.
TS="ts IS NOT NULL"
want t1 "$TS AND ts <= '2024-03-01 10:00:09.5'" "ts, id"
job t1 "TIMESTAMP(6) cursor, --end in UTC" --cursor-field ts --where "$TS" --stream t \
    --end "2024-03-01 10:00:09.500000"
want t2 "$TS AND ts > '2024-03-01 10:00:09.5'" "ts, id"
job t2 "TIMESTAMP(6) cursor, the next job (exclusive, in UTC)" --cursor-field ts --where "$TS" --stream t
if python3 - t1.ndjson <<'PY'
import json, sys
ts = [json.loads(l)["ts"] for l in open(sys.argv[1], encoding="utf-8")]
sys.exit(0 if ts and ts[0] == "2024-03-01T10:00:00.500000Z" and ts[-1] == "2024-03-01T10:00:09.500000Z" else 1)
PY
then ok "TIMESTAMP(6) values in UTC"; else not_ok "TIMESTAMP(6) values: $(head -c 300 t1.ndjson)"; fi

# Two nullable cursor columns.
set +e
"$SLUICE" extract "$URL" ev --mode incremental --state st.db --cursor-field bucket,tag \
    --stream b0 -o b0.ndjson 2>b0.err
rc=$?
set -e
nulls=$(my -N -B -e "SELECT COUNT(*) FROM ev WHERE bucket IS NULL OR tag IS NULL")
if [ $rc -eq 3 ] && grep -q "^sluice: error: $nulls rows of ev have a NULL in .*bucket, tag" b0.err \
    && [ ! -e b0.ndjson ] && [ ! -e b0.ndjson.partial ]; then
    ok "NULLs in either of two cursor columns refused ($nulls rows), nothing written"
else
    not_ok "NULLs in two cursor columns: exit $rc: $(cat b0.err)"
fi
BT="bucket IS NOT NULL AND tag IS NOT NULL"
want b1 "$BT" "bucket, tag, id"
job b1 "cursor (INT, VARCHAR), NULLs left out with --where" --cursor-field bucket,tag --where "$BT" --stream b
# The high-water mark is the greatest (bucket, tag): rows moved past it, and
# rows of its bucket given a greater tag (a tie on the first column).
hw=$(my -N -B -e "SELECT CONCAT(bucket, ', ''', tag, '''') FROM ev WHERE $BT ORDER BY bucket DESC, tag DESC LIMIT 1")
hb=${hw%%,*}
my -e "UPDATE ev SET bucket = bucket + 3, tag = 't9' WHERE id % 89 = 0;
       UPDATE ev SET tag = 'u' WHERE bucket = $hb AND id % 7 = 0"
want b2 "$BT AND (bucket, tag) > ($hw)" "bucket, tag, id"
job b2 "cursor (INT, VARCHAR), the next job after the high-water ($hw)" --cursor-field bucket,tag \
    --where "$BT" --stream b
[ "$(wc -l <b2.want)" -gt 20 ] || not_ok "b2: too few rows moved past the high-water mark to test"

# The upper bound waits for a transaction still open, when the user may see
# it: a second user with PROCESS, made by root over the socket.
if [ -n "${SLUICE_TEST_MYSQL_ROOT:-}" ]; then
    root() { $SLUICE_TEST_MYSQL_ROOT "$@"; }
    pwsql=$(printf '%s' "$PW" | sed "s/'/''/g")
    root -e "DROP USER IF EXISTS 'sluice_proc'@'%'; CREATE USER 'sluice_proc'@'%' IDENTIFIED BY '$pwsql';
             GRANT PROCESS ON *.* TO 'sluice_proc'@'%'; GRANT SELECT ON $SLUICE_TEST_MYSQL_DB.* TO 'sluice_proc'@'%';"
    PURL=$(printf '%s' "$URL" | sed 's|^mysql://sluice:|mysql://sluice_proc:|')
    mkfifo hold
    my <hold >hold.out 2>&1 &
    holder=$!
    exec 9>hold
    echo "BEGIN; SELECT COUNT(*) FROM ev;" >&9
    # Wait until InnoDB lists the transaction (its list, cached for 0.1 s,
    # then holds it for sluice too).
    i=0
    until [ "$(root -N -B -e "SELECT COUNT(*) FROM information_schema.innodb_trx")" -ge 1 ]; do
        i=$((i + 1)); [ $i -lt 600 ] || break; sleep 0.1
    done
    # Stamped after the transaction began, and committed at once by another
    # session.
    my -e "INSERT INTO ev (id, updated_at, ts, bucket, tag, grp) VALUES (5000, NULL, NOW(6), 1, 't1', 0)"
    set +e
    "$SLUICE" extract "$URL" ev --mode incremental --state st.db --cursor-field ts --where "$TS" \
        --stream hn -v -o hn.ndjson 2>hn.err
    rc_n=$?
    "$SLUICE" extract "$PURL" ev --mode incremental --state st.db --cursor-field ts --where "$TS" \
        --stream hp -v -o hp.ndjson 2>hp.err
    rc_p=$?
    set -e
    if [ $rc_n -eq 0 ] && ! grep -q "held back" hn.err && grep -q '"id":5000' hn.ndjson; then
        ok "without PROCESS: no hold-back, no error; the new row is read"
    else
        not_ok "without PROCESS: exit $rc_n: $(cat hn.err)"
    fi
    if [ $rc_p -eq 0 ] && grep -q "upper bound held back to" hp.err && ! grep -q '"id":5000' hp.ndjson \
        && [ "$(wc -l <hp.ndjson)" = "$(my -N -B -e "SELECT COUNT(*) FROM ev WHERE $TS AND id <> 5000")" ]; then
        ok "with PROCESS: $(grep -o 'held back to [0-9-]* [0-9:.]*' hp.err); the row stamped after it waits"
    else
        not_ok "with PROCESS: exit $rc_p, $(wc -l <hp.ndjson) rows: $(cat hp.err)"
    fi
    echo "COMMIT;" >&9
    exec 9>&-
    wait "$holder" || true
    rm -f hold
    set +e
    "$SLUICE" extract "$PURL" ev --mode incremental --state st.db --cursor-field ts --where "$TS" \
        --stream hp -v -o hp2.ndjson 2>hp2.err
    rc=$?
    set -e
    if [ $rc -eq 0 ] && ! grep -q "held back" hp2.err && [ "$(got hp2)" = 5000 ]; then
        ok "with PROCESS, once the transaction ended: the row is read"
    else
        not_ok "after the transaction ended: exit $rc: $(cat hp2.err) $(cat hp2.ndjson)"
    fi
    root -e "DROP USER IF EXISTS 'sluice_proc'@'%'"
else
    echo "skip - hold-back with PROCESS: no root access to the server"
fi
check_no_password
[ $FAILS -eq 0 ]
