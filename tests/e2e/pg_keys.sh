#!/bin/bash
# pg_keys.sh - keys of the types PostgreSQL orders, paged and resumed
# exactly, and keys it cannot order refused before anything starts.
#
# A composite-type primary key (50k rows): keyset and cursor paging give
# every row once in the server's ORDER BY order; each run is cut mid-way by
# a proxy (--drop-after-bytes, so the cut does not depend on the machine's
# speed) and the same command resumes until it ends, with the bytes of an
# uninterrupted run. Enum, domain, money, array and composite keys with
# every paging and tiny pages. A key of a type without a default btree
# ordering (json, point, a composite holding json) is refused with exit 2
# naming the column and --key, leaving no output.
#
# Server: $SLUICE_TEST_PG_ENV (an env file of scripts/pg-server.sh).
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
if [ -z "${SLUICE_TEST_PG_ENV:-}" ] || [ ! -r "$SLUICE_TEST_PG_ENV" ]; then
    echo "skipped: SLUICE_TEST_PG_ENV names no env file of scripts/pg-server.sh"
    exit 77
fi
# shellcheck source=/dev/null
. "$SLUICE_TEST_PG_ENV"
T=$SLUICE_TMP
URL=$SLUICE_TEST_PG_URL
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
psql_do() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }
PROXY=$SLUICE_SRC/tests/e2e/tcp_proxy.py
PROXY_PID=""
cleanup() {
    [ -z "$PROXY_PID" ] || kill -TERM "$PROXY_PID" 2>/dev/null || true
    psql_do -c "SET client_min_messages = warning; DROP TABLE IF EXISTS kcomp_big, kcomp_small, kenum, kdomain, kmoney, karray, knokey" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql_do -f "$SLUICE_SRC/sql/pg/keys.sql" >/dev/null

# order_of TABLE COL ORDER: the values of integer column COL in ORDER, from
# the server; ids_of FILE: the same column ("v") of sluice's output.
order_of() { psql_do -At -c "SELECT $2 FROM $1 ORDER BY $3"; }
ids_of() { python3 -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"): print(json.loads(l)["v"])' "$1"; }

# ---- a composite key, 50k rows ------------------------------------------------
order_of kcomp_big v k >"$T/kcomp.order"
OPTS=(--page-size 997 --checkpoint-every 1000 -q)
check "composite key: keyset" "$SLUICE" extract "$URL" kcomp_big -o "$T/ks.ndjson" \
    --state "$T/ks.db" "${OPTS[@]}"
if [ -f "$T/ks.ndjson" ] && cmp -s <(ids_of "$T/ks.ndjson") "$T/kcomp.order"; then
    ok "composite key: keyset gives the 50000 rows once, in the server's order"
else
    not_ok "composite key: keyset gives the 50000 rows once, in the server's order" \
        "$(wc -l "$T/ks.ndjson" 2>&1)"
fi
check "composite key: cursor" "$SLUICE" extract "$URL" kcomp_big -o "$T/cs.ndjson" \
    --state "$T/cs.db" --paging cursor "${OPTS[@]}"
same_file "composite key: cursor paging gives the bytes of keyset paging" "$T/ks.ndjson" "$T/cs.ndjson"

# Through a proxy that cuts every connection after 1 MB from the server:
# each run stops mid-way (exit 4) after a checkpoint; the same command
# resumes after that checkpoint's composite key until the table is done.
rm -f "$T/proxy.port"
HOSTPORT=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname, p.port or 5432)' "$URL")
python3 "$PROXY" 0 "${HOSTPORT% *}" "${SLUICE_TEST_PG_PORT:-${HOSTPORT#* }}" \
    --drop-after-bytes 1000000 --control "$T/proxy.port" 2>"$T/proxy.log" &
PROXY_PID=$!
for ((i = 0; i < 100; i++)); do
    [ -s "$T/proxy.port" ] && break
    sleep 0.05
done
PURL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1])
net = p.netloc.rsplit("@", 1); host = "%s:%s" % (p.hostname, sys.argv[2])
print(u.urlunsplit(p._replace(netloc=(net[0] + "@" + host) if len(net) == 2 else host)))' \
    "$URL" "$(cat "$T/proxy.port")")
for paging in keyset cursor; do
    out=$T/cut-$paging.ndjson
    cuts=0 rc=0 runs=0 log=""
    while [ "$runs" -lt 8 ]; do
        runs=$((runs + 1))
        rc=0
        "$SLUICE" extract "$PURL" kcomp_big -o "$out" --state "$T/cut-$paging.db" \
            --paging "$paging" "${OPTS[@]}" 2>"$T/cut.err" || rc=$?
        [ "$rc" -eq 4 ] && cuts=$((cuts + 1)) && continue
        log=$(cat "$T/cut.err")
        break
    done
    if [ "$rc" -eq 0 ] && [ "$cuts" -ge 1 ]; then
        ok "composite key ($paging): cut $cuts times mid-run, the same command resumed to the end"
    else
        not_ok "composite key ($paging): cut mid-run, the same command resumed to the end" \
            "last exit $rc after $cuts cuts: $log"
    fi
    same_file "composite key ($paging): the resumed output has the bytes of an uninterrupted run" \
        "$T/ks.ndjson" "$out"
done
kill -TERM "$PROXY_PID" 2>/dev/null || true
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
# And killed with SIGKILL while it runs (whenever that falls).
cmd=("$SLUICE" extract "$URL" kcomp_big -o "$T/kill.ndjson" --state "$T/kill.db" --paging cursor "${OPTS[@]}")
if kill_resume_loop "$T/kill.ndjson" 2 "${cmd[@]}"; then
    ok "composite key (cursor): killed $KRL_KILLS times, re-runs finish"
else
    not_ok "composite key (cursor): killed, re-runs finish" "$KRL_ERR"
fi
same_file "composite key (cursor): after kill -9 and resume, the bytes of an uninterrupted run" \
    "$T/ks.ndjson" "$T/kill.ndjson"

# ---- enum, domain, money, array and composite keys, tiny pages -----------------
while IFS='|' read -r table order; do
    order_of "$table" v "$order" >"$T/$table.order"
    for mode in keyset offset cursor "keyset --snapshot"; do
        out=$T/$table-${mode// /}.ndjson
        # shellcheck disable=SC2086
        if "$SLUICE" extract "$URL" "$table" -o "$out" --state "$T/small.db" --paging $mode \
            --page-size 7 --checkpoint-every 10 -q 2>"$T/small.err" &&
            cmp -s <(ids_of "$out") "$T/$table.order"; then
            ok "$table ($mode, 7 rows a page): every row once, in the server's order"
        else
            not_ok "$table ($mode, 7 rows a page): every row once, in the server's order" \
                "$(cat "$T/small.err")"
        fi
    done
done <<'EOF'
kenum|e, i
kdomain|d
kmoney|m
karray|a
kcomp_small|k
EOF
# money keys come out as exact numbers, the extremes included.
check "money key: extract" "$SLUICE" extract "$URL" kmoney --state "$T/small.db" -q
if [ "$(head -n 1 "$E2E_OUT")" = '{"m":-92233720368547758.08,"v":1}' ] &&
    [ "$(tail -n 1 "$E2E_OUT")" = '{"m":92233720368547758.07,"v":40}' ]; then
    ok "money key: exact numbers from the least to the greatest money"
else
    not_ok "money key: exact numbers from the least to the greatest money" "$(head -n 1 "$E2E_OUT")"
fi

# ---- keys PostgreSQL cannot order ---------------------------------------------
REFUSAL_STATE=$T/refusal.db
check "setup: a state store" "$SLUICE" extract "$URL" kenum -o "$T/setup.ndjson" --state "$REFUSAL_STATE" -q
for col in j p cj; do
    expect_refusal 2 "'$col'.*--key" "--key $col (no btree ordering) is refused" \
        extract "$URL" knokey --key "$col" -o @OUT@ --state @STATE@
done
expect_refusal 2 "'j'" "--cursor-field j (json) is refused" \
    extract "$URL" knokey --mode incremental --cursor-field j -o @OUT@ --state @STATE@

finish
