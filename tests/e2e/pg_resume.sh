#!/bin/sh
# pg_resume.sh - kill -9 at several points, re-run until done: the output
# must be byte-identical to an uninterrupted run, for keyset, offset and
# cursor paging, and for ctid paging of a table without a key.
. "$(cd "$(dirname "$0")" && pwd)/pg_env.sh"
url=$SLUICE_TEST_PG_URL
psql_do -f "$repo/sql/pg/resume.sql"

size() { stat -c %s "$1" 2>/dev/null || echo 0; }

resume_case() { # name table paging
    name=$1 table=$2 paging=$3
    opts="--paging $paging --page-size 997 --checkpoint-every 3000 -q"
    # shellcheck disable=SC2086
    "$SLUICE" extract "$url" "$table" -o "$work/$name.ref" --state "$work/$name.ref.db" $opts ||
        { bad "$name: reference run failed"; return; }
    total=$(size "$work/$name.ref")
    out="$work/$name.out"
    kills=0
    for pct in 10 30 55 80; do
        # shellcheck disable=SC2086
        "$SLUICE" extract "$url" "$table" -o "$out" --state "$work/$name.db" $opts &
        pid=$!
        target=$((total * pct / 100))
        while kill -0 "$pid" 2>/dev/null && [ "$(size "$out.partial")" -lt "$target" ]; do
            sleep 0.02
        done
        if kill -9 "$pid" 2>/dev/null; then
            kills=$((kills + 1))
        fi
        wait "$pid" 2>/dev/null || true
        [ -f "$out" ] && break
    done
    tries=0
    until [ -f "$out" ] || [ $tries -ge 3 ]; do
        # shellcheck disable=SC2086
        "$SLUICE" extract "$url" "$table" -o "$out" --state "$work/$name.db" $opts ||
            bad "$name: re-run exited $?"
        tries=$((tries + 1))
    done
    if cmp -s "$work/$name.ref" "$out"; then
        ok "$name: identical after $kills kill -9 ($(wc -l <"$out") rows)"
    else
        bad "$name: output differs after $kills kill -9 ($(wc -l <"$out") vs $(wc -l <"$work/$name.ref") rows)"
    fi
    [ "$kills" -gt 0 ] || bad "$name: the run was never interrupted (too fast?)"
}

resume_case keyset resume_big keyset
resume_case offset resume_big offset
resume_case cursor resume_big cursor
resume_case ctid resume_nokey keyset
resume_case ctid_cursor resume_nokey cursor

# The reference output has every row once, in key order.
python3 - "$work/keyset.ref" <<'PY' && ok "keyset output holds ids 1..200000 in order" || bad "keyset output ids"
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
sys.exit(0 if ids == list(range(1, 200001)) else 1)
PY
[ "$(sort "$work/ctid.ref" | md5sum)" = "$(sort "$work/keyset.ref" | md5sum)" ] &&
    ok "ctid paging reads the same rows as keyset" || bad "ctid paging rows differ"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all pg_resume checks passed"
