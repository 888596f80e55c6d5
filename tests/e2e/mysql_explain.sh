#!/bin/sh
# mysql_explain.sh - the statements sluice really sends (captured from the
# server's general log) page by an index range: EXPLAIN says type=range,
# key=PRIMARY for every keyset page after the first, for one- and
# two-column keys and with an upper bound; the prefix bounds of incremental
# mode (exclusive and inclusive lower, upper, on a secondary index) and
# cursor_range's statements use their index too; and no prepared statement
# is ever used. Needs root on the server (SLUICE_TEST_MYSQL_ROOT).
. "$(dirname "$0")/mysql_lib.sh"

[ -n "${SLUICE_TEST_MYSQL_ROOT:-}" ] || { echo "skipped: no root access to the server" >&2; exit 77; }
cd "$WORK"
my <"$ROOT/sql/mysql/bounds.sql" >/dev/null
root() { $SLUICE_TEST_MYSQL_ROOT "$@"; }
my -e "DROP TABLE IF EXISTS single; CREATE TABLE single (id BIGINT NOT NULL PRIMARY KEY, v INT);
INSERT INTO single SELECT id * 2 + sub, 1 FROM big; ANALYZE TABLE single, big;" >/dev/null
root -e "SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1;"
"$SLUICE" extract "$URL" big --page-size 40000 --state st.db -o big.ndjson -q
"$SLUICE" extract "$URL" single --page-size 40000 --state st.db -o single.ndjson -q
"$SLUICE" extract "$URL" big --paging cursor --state st.db -o cursor.ndjson -q
root -e "SET GLOBAL general_log = 0;"
root -N -B -e "SELECT command_type, REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\\\\', '\\\\\\\\'), '\n', '\\\\n')
               FROM mysql.general_log WHERE user_host LIKE 'sluice%' ORDER BY event_time" >log.tsv
root -e "TRUNCATE mysql.general_log;"

python3 - "$CLIENT" <<'EOF' || FAILS=$((FAILS + 1))
import os, subprocess, sys
client = sys.argv[1]
env = dict(os.environ, MYSQL_PWD=os.environ["SLUICE_TEST_MYSQL_PASSWORD"])
base = [client, "--no-defaults", "-B", "-h", os.environ["SLUICE_TEST_MYSQL_HOST"],
        "-P", os.environ["SLUICE_TEST_MYSQL_PORT"], "-u", os.environ["SLUICE_TEST_MYSQL_USER"],
        os.environ["SLUICE_TEST_MYSQL_DB"]]
fails = 0
def check(cond, what):
    global fails
    print(("ok   - " if cond else "FAIL - ") + what)
    fails += not cond
log = []
for line in open("log.tsv", encoding="utf-8"):
    kind, _, arg = line.rstrip("\n").partition("\t")
    log.append((kind, arg.replace("\\n", "\n").replace("\\\\", "\\")))
check(not any(k in ("Prepare", "Execute") for k, _ in log), "no prepared statements")
def pages(table):
    return [a for k, a in log if k == "Query" and a.startswith("SELECT") and f"`{table}` " in a + " "
            and "LIMIT" in a]
def explain(sql):
    out = subprocess.run(base + ["-e", "EXPLAIN " + sql], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    head = out[0].split("\t")
    return dict(zip(head, out[1].split("\t")))
for table, npages in (("big", 6), ("single", 6)):
    ps = pages(table)
    check(len(ps) == npages, f"{table}: {len(ps)} keyset statements for its pages")
    bounded = [p for p in ps if " WHERE " in p]
    check(len(bounded) == npages - 1, f"{table}: every page after the first is bounded by the last key")
    plans = [explain(p) for p in bounded]
    good = all(pl["type"] == "range" and pl["key"] == "PRIMARY" and "filesort" not in pl["Extra"]
               for pl in plans)
    check(good and plans, f"{table}: EXPLAIN type=range key=PRIMARY, no filesort ({bounded[0][-160:] if bounded else ''})")
# An upper bound as incremental mode uses it, in the same expanded form.
sql = ("SELECT `id`, `sub` FROM `sluicetest`.`big` WHERE (`id` >= 500 AND ((`id` > 500) OR "
       "(`id` = 500 AND `sub` > 1))) AND (`id` <= 90000 AND ((`id` < 90000) OR (`id` = 90000 AND "
       "`sub` <= 0))) ORDER BY `id`, `sub` LIMIT 1000")
pl = explain(sql)
check(pl["type"] == "range" and pl["key"] == "PRIMARY", "lower and upper bound: type=range key=PRIMARY")
# Incremental mode: key (cursor, id) or (bucket, tag, id) of sql/mysql/bounds.sql,
# served by secondary indexes, in the exact shapes the driver sends for a
# prefix bound (tests/e2e/mysql_bounds.sh runs them and checks their rows).
cols = "SELECT `id`, `updated_at`, `ts`, `bucket`, `tag`, `grp` FROM `sluicetest`.`ev` WHERE "
lo, hi = "'2024-03-01 10:05:00.000250'", "'2024-03-01 10:12:00.000250'"
nn = "`updated_at` IS NOT NULL"
order = " ORDER BY `updated_at`, `id` LIMIT 7"
order3 = " ORDER BY `bucket`, `tag`, `id` LIMIT 7"
cases = [
    ("prefix after exclusive + prefix upto", f"`updated_at` > {lo} AND {nn} AND `updated_at` <= {hi}" + order, "ev_cursor"),
    ("prefix after inclusive + prefix upto", f"`updated_at` >= {lo} AND {nn} AND `updated_at` <= {hi}" + order, "ev_cursor"),
    ("prefix after only", f"`updated_at` > {lo} AND {nn}" + order, "ev_cursor"),
    ("prefix upto only", f"{nn} AND `updated_at` <= {hi}" + order, "ev_cursor"),
    ("next page (full key) + prefix upto",
     f"(`updated_at` >= {lo} AND ((`updated_at` > {lo}) OR (`updated_at` = {lo} AND `id` > 138))) AND {nn} AND `updated_at` <= {hi}" + order, "ev_cursor"),
    ("full key inclusive + full key upto",
     f"(`updated_at` >= {lo} AND ((`updated_at` > {lo}) OR (`updated_at` = {lo} AND `id` >= 138))) AND {nn} AND "
     f"(`updated_at` <= {hi} AND ((`updated_at` < {hi}) OR (`updated_at` = {hi} AND `id` <= 472)))" + order, "ev_cursor"),
    ("2-column prefix inclusive, 3-column key",
     "(`bucket` >= 3 AND ((`bucket` > 3) OR (`bucket` = 3 AND `tag` >= 't1'))) AND `bucket` IS NOT NULL AND `tag` IS NOT NULL" + order3, "ev_bt"),
    ("next page + 2-column prefix upto, 3-column key",
     "(`bucket` >= 3 AND ((`bucket` > 3) OR (`bucket` = 3 AND `tag` > 't1') OR (`bucket` = 3 AND `tag` = 't1' AND `id` > 163))) "
     "AND `bucket` IS NOT NULL AND `tag` IS NOT NULL AND (`bucket` <= 5 AND ((`bucket` < 5) OR (`bucket` = 5 AND `tag` <= 't2')))" + order3, "ev_bt"),
]
for what, where, key in cases:
    pl = explain(cols + where)
    check(pl["type"] == "range" and pl["key"] == key and "filesort" not in pl["Extra"],
          f"incremental {what}: EXPLAIN type=range key={key}, no filesort (got {pl['type']} {pl['key']} {pl['Extra']})")
for desc in ("", " DESC"):
    sql = (f"SELECT `updated_at` FROM `sluicetest`.`ev` WHERE {nn} AND `updated_at` >= {lo} "
           f"ORDER BY `updated_at`{desc} LIMIT 1")
    pl = explain(sql)
    check(pl["key"] == "ev_cursor" and "filesort" not in pl["Extra"],
          f"cursor_range {'max' if desc else 'min'}: key=ev_cursor, no filesort (got {pl['type']} {pl['key']} {pl['Extra']})")
cur = [a for k, a in log if k == "Query" and a.startswith("SELECT") and "`big`" in a and "LIMIT" not in a]
check(len(cur) == 1, "cursor paging: one streamed statement for the whole table")
sys.exit(1 if fails else 0)
EOF
cmp -s big.ndjson cursor.ndjson && ok "keyset and cursor agree" || not_ok "keyset and cursor differ"
check_no_password
[ $FAILS -eq 0 ]
