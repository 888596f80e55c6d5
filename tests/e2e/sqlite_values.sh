# sqlite_values.sh - every table of a realistic SQLite database, extracted
# and compared value by value with what SQLite itself returns.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
mkdir -p "$T/db" "$T/out"
DB=$T/db/shop.db
STATE=$T/state.db
if ! sqlite3 -bail "$DB" <"$SLUICE_SRC/sql/realworld_sqlite.sql" >"$T/fixture.log" 2>&1; then
    not_ok "fixture sql/realworld_sqlite.sql loads" "$(cat "$T/fixture.log")"
    finish
fi
ok "fixture sql/realworld_sqlite.sql loads"
DB_SHA=$(sha256_of "$DB")
DB_DIR_BEFORE=$(ls -la --time-style=+ "$T/db" | sed 1d)

# compare.py DB TABLE NDJSON ORDER_BY [COLUMNS_JSON [WHERE]]
# Reads the rows with SQLite (typeof + value) in key order and checks the
# NDJSON line by line: keys in column order, INTEGER exact, REAL bit-for-bit
# (infinities as "Infinity"/"-Infinity"), TEXT equal (invalid UTF-8 ->
# U+FFFD), BLOB base64, NULL null, one line per row. Prints "invalid=N", the
# number of TEXT values that are not valid UTF-8.
cat >"$T/compare.py" <<'EOF'
import base64, json, math, sqlite3, struct, sys

db, table, path, order = sys.argv[1:5]
cols_json = sys.argv[5] if len(sys.argv) > 5 else ""
where = sys.argv[6] if len(sys.argv) > 6 else ""

con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
con.text_factory = bytes
def q(name):
    return '"' + name.replace('"', '""') + '"'
allcols = [r[0].decode() for r in
           con.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))]
cols = json.loads(cols_json) if cols_json else allcols
sql = "SELECT %s FROM %s%s ORDER BY %s" % (
    ",".join("typeof(%s),%s" % (q(c), q(c)) for c in cols), q(table),
    " WHERE (%s)" % where if where else "", order)
expected = con.execute(sql).fetchall()

data = open(path, "rb").read()
problems = []
if data and not data.endswith(b"\n"):
    problems.append("output does not end with a newline")
lines = data.split(b"\n")[:-1] if data else []
if len(lines) != len(expected):
    problems.append("%d lines, but SQLite has %d rows" % (len(lines), len(expected)))

def bits(f):
    return struct.pack("<d", f)

def same(t, v, j):
    if t == "null":
        return j is None
    if t == "integer":
        return isinstance(j, tuple) and j[0] == "int" and int(j[1]) == v
    if t == "real":
        if math.isinf(v):
            return j == ("Infinity" if v > 0 else "-Infinity")
        if not isinstance(j, tuple):
            return False
        f = float(j[1])
        return bits(f) == bits(v) and math.copysign(1, f) == math.copysign(1, v)
    if t == "text":
        return isinstance(j, str) and j == v.decode("utf-8", "replace")
    if t == "blob":
        try:
            return isinstance(j, str) and base64.b64decode(j, validate=True) == v
        except ValueError:
            return False
    return False

invalid = 0
for n, (line, row) in enumerate(zip(lines, expected), 1):
    if len(problems) > 10:
        break
    try:
        text = line.decode("utf-8")  # the output itself must be valid UTF-8
        obj = json.loads(text, object_pairs_hook=list,
                         parse_int=lambda s: ("int", s),
                         parse_float=lambda s: ("float", s),
                         parse_constant=lambda s: ("const", s))
    except ValueError as e:
        problems.append("line %d is not JSON: %s: %r" % (n, e, line[:200]))
        continue
    names = [k for k, _ in obj] if isinstance(obj, list) else None
    if names != cols:
        problems.append("line %d: keys %r, expected %r" % (n, names, cols))
        continue
    for i, (name, j) in enumerate(obj):
        t, v = row[2 * i].decode(), row[2 * i + 1]
        if t == "text":
            try:
                v.decode("utf-8")
            except UnicodeDecodeError:
                invalid += 1
        if not same(t, v, j):
            problems.append("line %d column %r: SQLite %s %r, JSON %r" % (n, name, t, v, j))
for p in problems[:10]:
    print(p)
print("invalid=%d" % invalid)
sys.exit(1 if problems else 0)
EOF

# compare NAME TABLE FILE ORDER [COLUMNS_JSON [WHERE]]: sets INVALID.
compare() {
    local name=$1
    shift
    local rc=0
    python3 "$T/compare.py" "$DB" "$@" >"$T/compare.out" 2>&1 || rc=$?
    INVALID=$(sed -n 's/^invalid=//p' "$T/compare.out")
    if [ "$rc" -eq 0 ]; then
        ok "$name"
    else
        not_ok "$name" "$(grep -v '^invalid=' "$T/compare.out")"
    fi
}

# stderr of a successful run: only the invalid UTF-8 warning, with its count.
check_stderr() {
    local name=$1 invalid=$2 err=$3
    if [ "${invalid:-0}" -gt 0 ]; then
        if grep -q "warning: $invalid values held invalid UTF-8" "$err" &&
            [ "$(wc -l <"$err")" -eq 1 ]; then
            ok "$name: stderr warns about $invalid invalid UTF-8 value(s)"
        else
            not_ok "$name: stderr warns about $invalid invalid UTF-8 value(s)" "$(cat "$err")"
        fi
    elif [ -s "$err" ]; then
        not_ok "$name: stderr is empty" "$(cat "$err")"
    else
        ok "$name: stderr is empty"
    fi
}

# ---- discover ------------------------------------------------------------
check "discover lists the database" "$SLUICE" discover "$DB"
cp "$E2E_OUT" "$T/discover.json"
if python3 - "$DB" "$T/discover.json" >"$T/disc.out" 2>&1 <<'EOF'; then
import json, sqlite3, sys
db, path = sys.argv[1:3]
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
want = {n: t for n, t in con.execute(
    "SELECT name, type FROM sqlite_schema WHERE type IN ('table','view') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
doc = json.load(open(path))
got = {t["name"]: t["type"] for t in doc["tables"]}
bad = []
if got != want:
    bad.append("tables %r, expected %r" % (sorted(got.items()), sorted(want.items())))
for t in doc["tables"]:
    cols = [r[0] for r in con.execute(
        "SELECT name FROM pragma_table_info(?) ORDER BY cid", (t["name"],))]
    names = [c["name"] for c in t["columns"]]
    if names != cols:
        bad.append("%s: columns %r, expected %r" % (t["name"], names, cols))
keys = {t["name"]: t["primary_key"] for t in doc["tables"]}
for name, pk in [("orders", ["order_id", "line"]), ("products", ["sku"]),
                 ("settings", ["scope", "k"]), ("events", [])]:
    if keys.get(name) != pk:
        bad.append("%s: primary_key %r, expected %r" % (name, keys.get(name), pk))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
    ok "discover: every table and view, columns in order, primary keys"
else
    not_ok "discover: every table and view, columns in order, primary keys" "$(cat "$T/disc.out")"
fi
check "discover of one table with a name that needs quoting" \
    "$SLUICE" discover "$DB" 'weird "name"; drop'
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [t["name"] for t in d["tables"]] == ["weird \"name\"; drop"]' "$E2E_OUT" 2>/dev/null; then
    ok "discover of one table names just that table"
else
    not_ok "discover of one table names just that table" "$(head -c 500 "$E2E_OUT")"
fi

# ---- every table: value by value, pagings, compression, stdout ------------
# name|ORDER BY for SQLite|extra sluice options
TABLES=(
    'customers|id|'
    'products|sku|'
    'orders|order_id, line|'
    'events|rowid|'
    'settings|scope, k|'
    'mixed_keys|k|'
    'tags|rowid|'
    'legacy_import|oid|'
    'weird "name"; drop|"id"|'
    'order_totals|order_id|--key order_id'
)
i=0
for spec in "${TABLES[@]}"; do
    i=$((i + 1))
    IFS='|' read -r table order extra <<<"$spec"
    # shellcheck disable=SC2206
    opts=($extra)
    out=$T/out/t$i.ndjson
    err=$T/out/t$i.err
    rc=0
    "$SLUICE" extract "$DB" "$table" -o "$out" --state "$STATE" ${opts[@]+"${opts[@]}"} 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        not_ok "$table: extract exits 0" "exit $rc: $(cat "$err")"
        continue
    fi
    ok "$table: extract exits 0"
    if [ -f "$out" ] && [ ! -e "$out.partial" ]; then
        ok "$table: output published, no .partial left"
    else
        not_ok "$table: output published, no .partial left" "$(ls -la "$T/out")"
    fi
    compare "$table: every value equals SQLite's, keys in column order, one line per row" \
        "$table" "$out" "$order"
    check_stderr "$table" "$INVALID" "$err"

    # Small pages, so every table spans many; the view's pages each
    # aggregate all of orders (6,667 rows), so there 97 rows a page.
    ps=7
    [ "$table" = order_totals ] && ps=97
    for paging in keyset offset cursor; do
        p=$T/out/t$i.$paging.ndjson
        check "$table: --paging $paging --page-size $ps exits 0" \
            "$SLUICE" extract "$DB" "$table" -o "$p" --state "$STATE" \
            --paging "$paging" --page-size "$ps" ${opts[@]+"${opts[@]}"}
        same_file "$table: --paging $paging --page-size $ps gives the same bytes" "$out" "$p"
    done
    for ext in gz zst; do
        z=$T/out/t$i.ndjson.$ext
        check "$table: -o .$ext exits 0" \
            "$SLUICE" extract "$DB" "$table" -o "$z" --state "$STATE" --page-size 50 \
            ${opts[@]+"${opts[@]}"}
        if decompress "$z" >"$z.plain" 2>"$z.err"; then
            same_file "$table: .$ext decompresses to the plain output" "$out" "$z.plain"
        else
            not_ok "$table: .$ext decompresses to the plain output" "$(cat "$z.err")"
        fi
    done
    rc=0
    "$SLUICE" extract "$DB" "$table" --state "$STATE" ${opts[@]+"${opts[@]}"} \
        >"$T/out/t$i.stdout" 2>/dev/null || rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$out" "$T/out/t$i.stdout"; then
        ok "$table: without -o the same bytes go to stdout"
    else
        not_ok "$table: without -o the same bytes go to stdout" "exit $rc"
    fi
    rc=0
    "$SLUICE" extract "$DB" "$table" -o - --state "$STATE" ${opts[@]+"${opts[@]}"} \
        >"$T/out/t$i.dash" 2>/dev/null || rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$out" "$T/out/t$i.dash"; then
        ok "$table: -o - writes the same bytes to stdout"
    else
        not_ok "$table: -o - writes the same bytes to stdout" "exit $rc"
    fi
done

# ---- columns, where, URL forms ---------------------------------------------
out=$T/out/cols.ndjson
check "customers --columns in another order, with a non-ASCII name" \
    "$SLUICE" extract "$DB" customers -o "$out" --state "$STATE" \
    --columns 'note,full name (ünïcode) 名前,id,avatar'
compare "customers --columns: only those columns, in that order, values equal" \
    customers "$out" id '["note", "full name (ünïcode) 名前", "id", "avatar"]'

# Key columns left out of the output still drive the paging.
out=$T/out/nokey.ndjson
check "orders --columns without the key columns" \
    "$SLUICE" extract "$DB" orders -o "$out" --state "$STATE" --columns sku,qty,unit_price
compare "orders --columns without the key: values equal in key order" \
    orders "$out" "order_id, line" '["sku", "qty", "unit_price"]'
for paging in keyset offset cursor; do
    check "orders --columns without the key, --paging $paging --page-size 7" \
        "$SLUICE" extract "$DB" orders -o "$out.$paging" --state "$STATE" \
        --columns sku,qty,unit_price --paging "$paging" --page-size 7
    same_file "orders --columns without the key, --paging $paging: same bytes" "$out" "$out.$paging"
done

WHERE="status = 'paid' AND qty > 3 AND unit_price IS NOT NULL"
out=$T/out/where.ndjson
check "orders --where" "$SLUICE" extract "$DB" orders -o "$out" --state "$STATE" --where "$WHERE"
compare "orders --where: exactly the matching rows, values equal" \
    orders "$out" "order_id, line" "" "$WHERE"
if [ -s "$out" ] && [ "$(wc -l <"$out")" -lt 20000 ]; then
    ok "orders --where: a proper subset"
else
    not_ok "orders --where: a proper subset" "$(wc -l <"$out") lines"
fi
for paging in keyset offset cursor; do
    check "orders --where --paging $paging --page-size 7" \
        "$SLUICE" extract "$DB" orders -o "$out.$paging" --state "$STATE" \
        --where "$WHERE" --paging "$paging" --page-size 7
    same_file "orders --where --paging $paging: same bytes" "$out" "$out.$paging"
done
WHERE2='"select" = 1 AND "col with spaces" LIKE '"'row %'"
out=$T/out/where2.ndjson
check "weird table --where on quoted column names, --columns with quotes" \
    "$SLUICE" extract "$DB" 'weird "name"; drop' -o "$out" --state "$STATE" \
    --where "$WHERE2" --columns 'a"b,unit price €,col with spaces' --page-size 4
compare "weird table --where + --columns: values equal" \
    'weird "name"; drop' "$out" '"id"' '["a\"b", "unit price €", "col with spaces"]' "$WHERE2"

base=$T/out/t1.ndjson
for url in "sqlite://$DB" "sqlite:$DB"; do
    rc=0
    "$SLUICE" extract "$url" customers --state "$STATE" >"$T/out/url.ndjson" 2>/dev/null || rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$base" "$T/out/url.ndjson"; then
        ok "source URL $url gives the same rows"
    else
        not_ok "source URL $url gives the same rows" "exit $rc"
    fi
done
rc=0
(cd "$T/db" && "$SLUICE" extract sqlite:shop.db customers --state "$STATE" >"$T/out/rel.ndjson" 2>/dev/null) || rc=$?
if [ "$rc" -eq 0 ] && cmp -s "$base" "$T/out/rel.ndjson"; then
    ok "relative source URL sqlite:shop.db gives the same rows"
else
    not_ok "relative source URL sqlite:shop.db gives the same rows" "exit $rc"
fi

rc=0
"$SLUICE" extract "$DB" main.customers --state "$STATE" >"$T/out/main.ndjson" 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && cmp -s "$base" "$T/out/main.ndjson"; then
    ok "TABLE as SCHEMA.NAME (main.customers) gives the same rows"
else
    not_ok "TABLE as SCHEMA.NAME (main.customers) gives the same rows" "exit $rc"
fi
rc=0
"$SLUICE" extract "$DB" events --key rowid --page-size 7 --state "$STATE" >"$T/out/rowid.ndjson" 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && cmp -s "$T/out/t4.ndjson" "$T/out/rowid.ndjson"; then
    ok "events --key rowid gives the same rows as the default key"
else
    not_ok "events --key rowid gives the same rows as the default key" "exit $rc"
fi

# Resuming from checkpointed keys of every storage class (integer, real,
# text with NUL and invalid UTF-8, blob): a correlated --where slows every
# row down so that kill -9 lands mid-run; a checkpoint after every row.
# (typeof(k) keeps the subquery correlated: SQLite folds `k IS NULL` away.)
SLOW="(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000 + (typeof(k) = 'none')) SELECT count(*) FROM c) > 0"
for paging in keyset cursor; do
    out=$T/out/mixed.$paging.ndjson
    cmd=("$SLUICE" extract "$DB" mixed_keys -o "$out" --state "$T/mixed.$paging.state"
         --paging "$paging" --page-size 2 --checkpoint-every 1 --where "$SLOW" -v)
    if kill_resume_loop "$out" 4 "${cmd[@]}" && [ "$KRL_KILLS" -ge 3 ]; then
        ok "mixed_keys --paging $paging: killed $KRL_KILLS times, a re-run finished"
    else
        not_ok "mixed_keys --paging $paging: killed $KRL_KILLS times, a re-run finished" "$KRL_ERR"
    fi
    if grep -q 'resuming job .* after [1-9][0-9]* rows' "$KRL_LOG"; then
        ok "mixed_keys --paging $paging: a re-run resumed after checkpointed rows"
    else
        not_ok "mixed_keys --paging $paging: a re-run resumed after checkpointed rows" "$(cat "$KRL_LOG")"
    fi
    same_file "mixed_keys --paging $paging: resumed output equals the uninterrupted one" \
        "$T/out/t6.ndjson" "$out"
done

# A job that already finished is not resumed: the next run writes the file anew.
check "a second run into the same file succeeds" \
    "$SLUICE" extract "$DB" customers -o "$T/out/t1.ndjson" --state "$STATE"
compare "a second run into the same file: values equal again" customers "$T/out/t1.ndjson" id

# ---- the source is never written --------------------------------------------
if [ "$(sha256_of "$DB")" = "$DB_SHA" ]; then
    ok "source database is byte-identical after every run (sha256)"
else
    not_ok "source database is byte-identical after every run (sha256)"
fi
DB_DIR_AFTER=$(ls -la --time-style=+ "$T/db" | sed 1d)
if [ "$DB_DIR_BEFORE" = "$DB_DIR_AFTER" ]; then
    ok "no journal, WAL or other file appeared next to the source"
else
    not_ok "no journal, WAL or other file appeared next to the source" "$DB_DIR_AFTER"
fi
finish
