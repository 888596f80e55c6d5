#!/bin/sh
# mysql_types.sh - every MySQL/MariaDB type of the JSON type contract, value
# by value against what the server itself returns, plus the exact text of
# the tricky cases (UNSIGNED BIGINT max, FLOAT 0.1, negative TIME, zero
# dates, TIMESTAMP in UTC from a +05:30 session, SET, BIT, JSON, GeoJSON),
# discover's description, --columns/--where, and names that need quoting.
. "$(dirname "$0")/mysql_lib.sh"

cd "$WORK"
# TIMESTAMP written from a +05:30 session must come out in UTC.
my -e "SET time_zone = '+05:30';
DROP TABLE IF EXISTS tzc;
CREATE TABLE tzc (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME(3));
INSERT INTO tzc VALUES (1, '2024-06-01 05:30:00.250', '2024-06-01 05:30:00.250'),
                       (2, '2024-01-01 00:00:00', '2024-01-01 00:00:00');"

# U+2028/U+2029 inside JSON strings: raw in the stored text (one line, and
# spread over lines so sluice rewrites it), escaped in the output as in
# every string; an escape the value already has stays as it is.
my <<'SQL'
DROP TABLE IF EXISTS jsep;
CREATE TABLE jsep (id INT PRIMARY KEY, j JSON) CHARACTER SET utf8mb4;
SET @ls = CONVERT(X'E280A8' USING utf8mb4), @ps = CONVERT(X'E280A9' USING utf8mb4);
INSERT INTO jsep VALUES (1, CONCAT('{"k', @ls, '": "a', @ls, 'b', @ps, '", "e": "\\u2028"}')),
                        (2, CONCAT('[\n  "', @ps, '"\n]'));
SQL
"$SLUICE" extract "$URL" jsep -q --state st.db >jsep.ndjson 2>jsep.err || not_ok "extract jsep: $(cat jsep.err)"
printf '%s\n' '{"id":1,"j":{"k\u2028": "a\u2028b\u2029", "e": "\u2028"}}' '{"id":2,"j":["\u2029"]}' >jsep.want
if cmp -s jsep.want jsep.ndjson; then
    ok "JSON: U+2028/U+2029 inside strings escaped"
else
    not_ok "JSON: U+2028/U+2029 inside strings escaped: $(od -c jsep.ndjson | head -20)"
fi

for t in types ck 'we`ird; name' uniq_only tzc lat; do
    f=$(printf '%s' "$t" | tr -c 'a-z' '_')
    "$SLUICE" extract "$URL" "$t" -o "$f.ndjson" --page-size 2 --state st.db 2>"$f.err" \
        && ok "extract $t" || { not_ok "extract $t: $(cat "$f.err")"; }
done
"$SLUICE" discover "$URL" >discover.json 2>discover.err && ok "discover" || not_ok "discover: $(cat discover.err)"
"$SLUICE" discover "$URL" types >discover_types.json 2>>discover.err || not_ok "discover types"
"$SLUICE" extract "$URL" ck --columns val,grp --where "grp <> 2" --page-size 2 --state st.db \
    -o cols.ndjson 2>cols.err && ok "extract --columns --where" || not_ok "--columns: $(cat cols.err)"
"$SLUICE" extract "$URL" ck --where "grp = 1 -- a trailing comment" --page-size 2 --state st.db \
    -o comment.ndjson 2>comment.err && [ "$(wc -l <comment.ndjson)" = 4 ] \
    && ok "--where ending in a -- comment" || not_ok "--where comment: $(cat comment.err)"
"$SLUICE" extract "$URL" types --paging cursor --state st.db -o types_cursor.ndjson 2>/dev/null
"$SLUICE" extract "$URL" types --paging offset --page-size 2 --state st.db -o types_offset.ndjson 2>/dev/null
"$SLUICE" extract "$URL" types --snapshot --page-size 2 --state st.db -o types_snap.ndjson 2>/dev/null
"$SLUICE" extract "$URL" v_ck --key grp,name --page-size 2 --state st.db -o view.ndjson 2>view.err \
    && [ "$(wc -l <view.ndjson)" = 7 ] && ok "a view with --key" || not_ok "view: $(cat view.err)"
"$SLUICE" extract "$URL" ck --key name,grp --page-size 3 --state st.db -o ck_by_name.ndjson 2>ck_by_name.err \
    || not_ok "--key name,grp: $(cat ck_by_name.err)"

# The server's view of every value: HEX of its text (or bytes), NULL as NULL.
python3 - "$CLIENT" <<'PYEOF' >server.json
import json, os, subprocess, sys
client = sys.argv[1]
env = dict(os.environ, MYSQL_PWD=os.environ["SLUICE_TEST_MYSQL_PASSWORD"])
base = [client, "--no-defaults", "--default-character-set=utf8mb4", "-N", "-B",
        "-h", os.environ["SLUICE_TEST_MYSQL_HOST"], "-P", os.environ["SLUICE_TEST_MYSQL_PORT"],
        "-u", os.environ["SLUICE_TEST_MYSQL_USER"], os.environ["SLUICE_TEST_MYSQL_DB"]]
def q(name):
    return "`" + name.replace("`", "``") + "`"
def expr(c):
    n, jt, ty = q(c["name"]), c["json_type"], c["type"]
    if jt == "base64" and ty.startswith("bit"):
        return f"HEX(CAST(CAST({n} AS UNSIGNED) AS CHAR))"
    if jt == "base64":
        return f"HEX({n})"
    if jt == "boolean":
        return f"HEX(CAST(CAST({n} AS UNSIGNED) AS CHAR))"
    if jt == "timestamptz":
        return f"HEX(CAST(UNIX_TIMESTAMP({n}) AS CHAR))"
    if jt == "number" and ty.startswith("float"):
        return f"HEX(CAST(({n} + 0e0) AS CHAR))"
    if jt == "json" and ty in ("geometry", "point"):
        return f"HEX(ST_AsGeoJSON({n}))"
    return f"HEX(CAST({n} AS CHAR))"
out = {}
disc = json.load(open("discover.json"))
for t in disc["tables"]:
    if t["name"] not in ("types", "ck", "we`ird; name", "uniq_only", "tzc", "lat"):
        continue
    key = t["primary_key"] or t["unique_keys"][0]
    sql = "SELECT " + ", ".join(expr(c) for c in t["columns"]) + " FROM " + q(t["name"]) + \
          " ORDER BY " + ", ".join(q(k) for k in key)
    res = subprocess.run(base + ["-e", sql], env=env, capture_output=True, check=True)
    rows = []
    for line in res.stdout.decode().splitlines():
        rows.append([None if v == "NULL" else bytes.fromhex(v) for v in line.split("\t")])
    out[t["name"]] = {"columns": t["columns"],
                      "rows": [[None if v is None else v.hex() for v in r] for r in rows]}
json.dump(out, sys.stdout)
PYEOF

python3 - <<'PYEOF' || FAILS=$((FAILS + 1))
import base64, datetime, decimal, json, re, struct, sys
D = decimal.Decimal
fails = 0
def check(cond, what):
    global fails
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        fails += 1
def load(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        rows.append(json.loads(line, parse_float=D, parse_int=D))
    return rows
def fname(t):
    return re.sub(r"[^a-z]", "_", t)
server = json.load(open("server.json"))

def float_shortest(x):
    f32 = struct.unpack("f", struct.pack("f", x))[0]
    for p in range(1, 10):
        s = "%.*g" % (p, f32)
        if struct.unpack("f", struct.pack("f", float(s)))[0] == f32:
            return D(s)
def agrees(c, got, srv):
    """sluice's JSON value got against the server's bytes srv (None: NULL)."""
    jt, ty = c["json_type"], c["type"]
    if srv is None:
        return got is None
    text = srv.decode("utf-8", "replace")
    if jt == "integer":
        return isinstance(got, D) and got == D(text)
    if jt == "number":
        if ty.startswith("float"):
            return isinstance(got, D) and got == float_shortest(float(text))
        if ty.startswith("double"):
            return isinstance(got, D) and float(got) == float(text)
        return isinstance(got, D) and got.as_tuple() == D(text).as_tuple()  # DECIMAL: exact digits and scale
    if jt == "boolean":
        return got is (text == "1")
    if jt == "base64":
        raw = base64.b64decode(got)
        if ty.startswith("bit"):
            return int.from_bytes(raw, "big") == int(text)
        return raw == srv
    if jt == "string":
        return got == srv.decode("utf-8")
    if jt == "array":
        return got == ([] if text == "" else text.split(","))
    if jt == "date":
        if text[5:7] == "00" or text[8:10] == "00":
            return got is None
        return got == text
    if jt == "time":
        return got == text
    if jt == "timestamp":
        if text[5:7] == "00" or text[8:10] == "00":
            return got is None
        return got == text.replace(" ", "T", 1)
    if jt == "timestamptz":
        if D(text) == 0:
            return got is None
        m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", got or "")
        if not m:
            return False
        secs = datetime.datetime.fromisoformat(m.group(1)).replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return D(int(secs)) + D(m.group(2) or 0) == D(text)
    if jt == "json":
        return got == json.loads(text, parse_float=D, parse_int=D)
    return False

for t, data in server.items():
    rows = load(fname(t) + ".ndjson")
    cols = data["columns"]
    check(len(rows) == len(data["rows"]), f"{t}: {len(rows)} rows, as the server has")
    bad = []
    for r, srow in zip(rows, data["rows"]):
        check_keys = list(r.keys()) == [c["name"] for c in cols]
        if not check_keys:
            bad.append("column order")
        for c, s in zip(cols, srow):
            s = None if s is None else bytes.fromhex(s)
            if not agrees(c, r.get(c["name"]), s):
                bad.append(f"{c['name']}={r.get(c['name'])!r} server {s!r}")
    check(not bad, f"{t}: every value agrees with the server" + ("" if not bad else ": " + "; ".join(bad[:6])))

# Exact texts the type contract names.
lines = open("types.ndjson", encoding="utf-8").read().splitlines()
row = {json.loads(l)["id"]: l for l in lines}
def has(i, frag, what):
    check(frag in row[i], f"types id {i}: {what} ({frag})")
has(1, '"biu":18446744073709551615,', "BIGINT UNSIGNED max, exact")
has(1, '"bi":-9223372036854775808,', "BIGINT min")
has(1, '"zf":42,', "ZEROFILL digits as a plain number")
has(1, '"f":0.1,', "FLOAT 0.1 as its own shortest text")
has(2, '"f":16777216', "FLOAT 16777217 stored as 16777216, all digits")
has(3, '"f":1.0000001,', "FLOAT 1.0000001")
has(2, '"d":-1.7976931348623157e', "DOUBLE min, 17 digits")
has(1, '"dec1":12345678901234567890.0123456789,', "DECIMAL exact")
has(1, '"b1":true,', "BIT(1) true")
has(2, '"b1":false,', "BIT(1) false")
has(1, '"b12":"Cqo=",', "BIT(12) as base64 of its bytes")
has(1, '"y":1901,', "YEAR a number")
has(3, '"y":0,', "YEAR 0000 is 0")
has(1, '"tm":"-838:59:59",', "negative TIME")
has(2, '"tm":"838:59:59",', "TIME beyond 24 h")
has(1, '"tm6":"12:34:56.123456",', "TIME(6)")
has(1, '"dtm3":"1999-12-31T23:59:59.125",', "DATETIME(3) keeps its precision")
has(1, '"ts":"2024-02-29T23:59:59Z",', "TIMESTAMP in UTC with Z")
has(3, '"dt":null,', "zero DATE is null")
has(3, '"dtm":null,', "zero DATETIME is null")
has(3, '"ts":null,', "zero TIMESTAMP is null")
has(5, '"dt":null,', "DATE with a zero day is null")
has(1, '"st":["a","c d"],', "SET as an array")
has(2, '"st":[],', "empty SET")
has(1, '"e":"medium",', "ENUM a string")
has(1, '"bn":"AP8QIA==",', "BINARY base64")
has(2, '"vb":"",', "empty VARBINARY")
has(1, '"j":{"a":[1,2.5,"x"],"b":{"c":null}},', "JSON embedded, on one line")
has(3, '"j":"just a string",', "JSON string scalar")
has(1, '"p":{"type": "Point", "coordinates": [1, 2]}', "POINT as GeoJSON")
has(1, '"tx":"tab\\tnl\\ncr\\rnul\\u0000bs\\\\q\\"",', "control characters escaped")
has(1, '"vc":"héllo wörld ✓ 😀",', "non-ASCII kept")
has(4, '"ti":null,"tiu":null', "NULLs")
tz = {json.loads(l)["id"]: json.loads(l) for l in open("tzc.ndjson", encoding="utf-8")}
check(tz[1]["ts"] == "2024-06-01T00:00:00.250Z" and tz[1]["dt"] == "2024-06-01T05:30:00.250",
      "TIMESTAMP written at +05:30 comes out in UTC; DATETIME unchanged")
err = open("types.err", encoding="utf-8").read()
check(re.search(r"\b5\b.*(null|zero)", err) is not None, "5 zero dates counted as warnings: " + err.strip()[:120])

weird = [json.loads(l) for l in open(fname("we`ird; name") + ".ndjson", encoding="utf-8")]
check([w["id `x"] for w in weird] == [1, 9223372036854775807, 9223372036854775808, 18446744073709551615],
      "quoted table and column names; unsigned keys past INT64_MAX page in order")
ck = [json.loads(l) for l in open("ck.ndjson", encoding="utf-8")]
check(len(ck) == 12 and len({(r["grp"], r["name"]) for r in ck}) == 12,
      "composite key with ties: 12 distinct rows with page size 2")
by_name = [json.loads(l) for l in open("ck_by_name.ndjson", encoding="utf-8")]
check(sorted(map(json.dumps, by_name)) == sorted(map(json.dumps, ck)), "--key name,grp: the same rows")
cols = [json.loads(l) for l in open("cols.ndjson", encoding="utf-8")]
check(all(list(r) == ["val", "grp"] for r in cols) and len(cols) == 9 and
      all(r["grp"] != 2 for r in cols), "--columns val,grp --where: order, filter, hidden key")
same = open("types.ndjson", "rb").read()
for other in ("types_cursor", "types_offset", "types_snap"):
    check(open(other + ".ndjson", "rb").read() == same, f"{other}: same bytes as keyset")

disc = json.load(open("discover.json"))
tables = {t["name"]: t for t in disc["tables"]}
ty = {c["name"]: c for c in tables["types"]["columns"]}
want = {"biu": "integer", "dec1": "number", "f": "number", "b1": "boolean", "b12": "base64",
        "y": "integer", "e": "string", "st": "array", "bn": "base64", "bl": "base64",
        "tx": "string", "dt": "date", "tm": "time", "dtm": "timestamp", "ts": "timestamptz",
        "j": "json", "g": "json"}
check(all(ty[k]["json_type"] == v for k, v in want.items()),
      "discover: json types " + ", ".join(f"{k}={ty[k]['json_type']}" for k in want if ty[k]["json_type"] != want[k]))
check(tables["types"]["primary_key"] == ["id"] and tables["ck"]["primary_key"] == ["grp", "name"],
      "discover: primary keys in key order")
check(tables["uniq_only"]["primary_key"] == [] and tables["uniq_only"]["unique_keys"] == [["code"]],
      "discover: unique NOT NULL index")
check(tables["nokey"]["unique_keys"] == [] and tables["nokey"]["primary_key"] == [],
      "discover: a nullable unique index is no key")
check(tables["v_ck"]["type"] == "view", "discover: views are listed as views")
lat = [json.loads(l) for l in open("lat.ndjson", encoding="utf-8")]
check(lat[0] == {"id": 1, "s": "café", "b": "YWIA"}, "latin1 text arrives as UTF-8; CHAR BINARY padded bytes")
check(tables["big"]["row_estimate"] > 100000, "discover: row estimate from TABLE_ROWS")
check(ty["biu"]["type"] == "bigint(20) unsigned" and ty["tiu"]["nullable"] is True,
      "discover: COLUMN_TYPE and nullability")
sys.exit(1 if fails else 0)
PYEOF
check_no_password
[ $FAILS -eq 0 ]
