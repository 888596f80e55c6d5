#!/bin/sh
# pg_types.sh - every fixture table, every paging strategy, several page
# sizes: sluice's output compared value by value with row_to_json() from the
# server (tests/e2e/pg_compare.py says where the two may differ).
. "$(cd "$(dirname "$0")" && pwd)/pg_env.sh"
cmp_py="$here/pg_compare.py"
url=$SLUICE_TEST_PG_URL

# table|key for the reference order|extra sluice options
cases='types|id|
ties|a,b|
nokey|ctid|
uniq_only|u|
parted|id|
types_view|id|--key id
weird "name"; drop|odd col|
sluice_fx.MixedCase|k|
"sluice x.y".t|id|
keytypes|u,t,b,f,f4,d,n,ts|
edge_values|id|'

n=0
echo "$cases" | while IFS='|' read -r table key extra; do
    n=$((n + 1))
    "$SLUICE" discover "$url" "$table" >"$work/d$n.json" || { bad "discover $table"; continue; }
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 "$url" -c "$(python3 "$cmp_py" sql "$work/d$n.json" "$table" "$key")" \
        >"$work/e$n.ndjson"
    outs=""
    for paging in keyset offset cursor; do
        for ps in 1 3 1000; do
            out="$work/a$n-$paging-$ps.ndjson"
            rc=0
            # shellcheck disable=SC2086
            "$SLUICE" extract "$url" "$table" -o "$out" -q --paging "$paging" --page-size "$ps" \
                --checkpoint-every 2 --state "$work/state.db" $extra 2>"$work/err" || rc=$?
            if [ "$rc" -ne 0 ]; then
                bad "$table $paging page-size $ps: exit $rc $(cat "$work/err")"
                continue
            fi
            outs="$outs $out"
        done
    done
    # One comparison for the table's outputs: a verdict line for each.
    # shellcheck disable=SC2086
    python3 "$cmp_py" cmp "$work/d$n.json" "$work/e$n.ndjson" $outs >"$work/cmp$n.log" || true
    for out in $outs; do
        label=$(basename "$out" .ndjson | sed "s/^a$n-//; s/-/ page-size /")
        if grep -qxF "same $out" "$work/cmp$n.log"; then
            ok "$table $label ($(wc -l <"$out") rows)"
        else
            bad "$table $label differs from row_to_json: $(grep -v '^same ' "$work/cmp$n.log" | head -5)"
        fi
    done
    # --snapshot and --columns (a subset, reordered, without the key)
    out="$work/snap$n.ndjson"
    # shellcheck disable=SC2086
    if "$SLUICE" extract "$url" "$table" -o "$out" -q --snapshot --page-size 2 --state "$work/state.db" $extra &&
        python3 "$cmp_py" cmp "$work/d$n.json" "$work/e$n.ndjson" "$out"; then
        ok "$table --snapshot"
    else
        bad "$table --snapshot"
    fi
done >"$work/log"
cat "$work/log"
fails=$(grep -c '^FAIL' "$work/log" || true)

# discover of the whole database lists every table as TABLE accepts it,
# the schema with a dot in its name included.
if "$SLUICE" discover "$url" >"$work/all.json" 2>"$work/all.err" &&
    python3 - "$work/all.json" <<'PY'
import json, sys
names = [t["schema"] + "." + t["name"] if t.get("schema") else t["name"] for t in json.load(open(sys.argv[1]))["tables"]]
sys.exit(0 if "sluice x.y.t" in names else 1)
PY
then ok "discover of the whole database lists the schema \"sluice x.y\""; else bad "discover of the whole database: $(cat "$work/all.err")"; fi

# Exact text of values where the contract fixes a spelling.
"$SLUICE" extract "$url" types -q --state "$work/state.db" --columns id,c_float4,c_tstz,c_date,c_interval,c_num122,c_json,c_inet_arr,c_f4_arr \
    --where 'id IN (1, 2, 5)' >"$work/spell.ndjson"
python3 - "$work/spell.ndjson" <<'PY' >"$work/spell.log" 2>&1 || true
import sys
rows = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
want = [
 '{"id":1,"c_float4":0.1,"c_tstz":"2024-02-29T11:45:06.5Z","c_date":"2024-02-29","c_interval":"P1Y2M3DT4H5M6.5S","c_num122":12.30,"c_json":{"a": [1, 2.50, "x"], "b": null},"c_inet_arr":["127.0.0.1","::1"],"c_f4_arr":[0.1,1e+30]}',
 '{"id":2,"c_float4":-3.4028235e+38,"c_tstz":"1970-01-01T00:00:00Z","c_date":"0044-03-15 BC","c_interval":"P-1DT-2H","c_num122":-99999999.99,"c_json":[],"c_inet_arr":[],"c_f4_arr":[]}',
 '{"id":5,"c_float4":1e-45,"c_tstz":"1999-12-31T23:59:59.999999Z","c_date":"1999-12-31","c_interval":"P-1Y-2M3DT-3H-55M-6.25S","c_num122":1000000000.00,"c_json":{   "multi": "line",   "n": 1e2  },"c_inet_arr":null,"c_f4_arr":null}',
]
bad = 0
for w, r in zip(want, rows):
    if w != r:
        print("want", w); print("got ", r); bad = 1
if len(rows) != len(want):
    print("rows", len(rows)); bad = 1
sys.exit(bad)
PY
if [ ! -s "$work/spell.log" ]; then ok "exact spellings (float4, timestamptz Z, BC, ISO interval, numeric scale, json one line)"; else cat "$work/spell.log"; bad "exact spellings"; fi

# Edges of the contract, byte for byte: U+2028/U+2029 escaped inside json
# and jsonb strings as in every string (also where json is rewritten onto
# one line); " BC" kept on timestamp and timestamptz in 1 BC and before,
# absent in 1 AD; bit and varbit as strings of 0/1; arrays with a lower
# bound other than 1 as plain JSON arrays (the bound is not kept).
"$SLUICE" extract "$url" edge_values -q --state "$work/state.db" >"$work/edge.ndjson" 2>"$work/edge.err" ||
    bad "edge_values: exit $? $(cat "$work/edge.err")"
cat >"$work/edge.want" <<'EOF'
{"id":1,"j":{"s\u2028": "a\u2028b\u2029", "n": [1]},"jb":{"s\u2028": "a\u2028b\u2029"},"ts":"0001-12-31T23:59:59.5 BC","tstz":"0001-01-01T00:00:00Z BC","b":"101","vb":"0011","lb":[1,2,3],"lb_2d":[[1,2],[3,4]],"lb_inet":["127.0.0.1","::1"]}
{"id":2,"j":[ "\u2029",  "x"],"jb":"\u2029","ts":"0001-01-01T00:00:00","tstz":"0002-12-31T23:59:59Z BC","b":"000","vb":"","lb":[],"lb_2d":[[5]],"lb_inet":[]}
{"id":3,"j":null,"jb":null,"ts":null,"tstz":null,"b":null,"vb":null,"lb":null,"lb_2d":null,"lb_inet":null}
EOF
if cmp -s "$work/edge.want" "$work/edge.ndjson"; then
    ok "edge values byte for byte (U+2028/U+2029 in json/jsonb, timestamps in 1 BC, bit/varbit, array lower bounds)"
else
    diff "$work/edge.want" "$work/edge.ndjson" || true
    bad "edge values byte for byte"
fi

# The keyset query uses the primary key index (no sort, no seq scan).
plan=$(psql_do -At -c "EXPLAIN SELECT * FROM keytypes WHERE (u, t, b, f, f4, d, n, ts) > ('c4ca4238-a0b9-3382-8dcc-509a6f75849b', 'B', '\\x01', 0.3, 0.1, '2000-01-01', 1.5, '2000-01-01') ORDER BY u, t, b, f, f4, d, n, ts LIMIT 10")
case $plan in
*"Index"*keytypes_pkey*) case $plan in *Sort*|*"Seq Scan"*) bad "keyset plan: $plan" ;; *) ok "keyset row comparison uses the index" ;; esac ;;
*) bad "keyset plan: $plan" ;;
esac
plan=$(psql_do -At -c "EXPLAIN SELECT * FROM nokey WHERE ctid > '(1,0)'::tid AND ctid < '(5,0)'::tid ORDER BY ctid LIMIT 10")
case $plan in *"Tid Range Scan"*) ok "ctid pages use a TID range scan" ;; *) bad "ctid plan: $plan" ;; esac

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all pg_types checks passed"
