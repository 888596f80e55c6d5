#!/bin/sh
# mysql_explain.sh - the statements sluice really sends (captured from the
# server's general log) page by an index range: EXPLAIN says type=range,
# key=PRIMARY for every keyset page after the first, for one- and
# two-column keys and with an upper bound; every page of incremental jobs
# (prefix bounds, exclusive and inclusive, lower and upper, of one and two
# cursor columns, served by secondary indexes) and the cursor range's
# statements use their index without a filesort; and no statement runs as
# a prepared statement (statements are only prepared to be checked, then
# closed). Needs root on the server (SLUICE_TEST_MYSQL_ROOT).
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
# Incremental jobs on sql/mysql/bounds.sql's ev: (updated_at, id) and
# (bucket, tag, id), each served by a secondary index.
inc() { "$SLUICE" extract "$URL" ev --mode incremental --state inc.db --page-size 40 -q "$@"; }
NN="updated_at IS NOT NULL"
inc --cursor-field updated_at --where "$NN" --stream u -o u1.ndjson
my -e "UPDATE ev SET updated_at = updated_at + INTERVAL 1 HOUR WHERE id % 97 = 0"
inc --cursor-field updated_at --where "$NN" --stream u -o u2.ndjson
inc --cursor-field updated_at --where "$NN" --stream s --start '2024-03-01 10:05:00.000250' -o s1.ndjson
BT="bucket IS NOT NULL AND tag IS NOT NULL"
inc --cursor-field bucket,tag --where "$BT" --stream bt -o bt1.ndjson
my -e "UPDATE ev SET bucket = 9, tag = 't9' WHERE id % 89 = 0"
inc --cursor-field bucket,tag --where "$BT" --stream bt -o bt2.ndjson
root -e "SET GLOBAL general_log = 0;"
root -N -B -e "SELECT command_type, REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\\\\', '\\\\\\\\'), '\n', '\\\\n')
               FROM mysql.general_log WHERE user_host LIKE 'sluice%' ORDER BY event_time" >log.tsv
root -e "TRUNCATE mysql.general_log;"
[ "$(wc -l <u1.ndjson)" = 1000 ] && [ "$(wc -l <u2.ndjson)" = 10 ] && [ "$(wc -l <bt1.ndjson)" -gt 500 ] \
    && [ "$(wc -l <bt2.ndjson)" = 11 ] && ok "the incremental jobs read their rows" \
    || not_ok "incremental jobs: $(wc -l u1.ndjson u2.ndjson s1.ndjson bt1.ndjson bt2.ndjson | tr '\n' ' ')"

python3 - "$CLIENT" <<'EOF' || FAILS=$((FAILS + 1))
import os, re, subprocess, sys
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
kinds = [k for k, _ in log]
check("Execute" not in kinds and kinds.count("Prepare") == kinds.count("Close stmt") > 0,
      f"no statement executed as a prepared one ({kinds.count('Prepare')} prepared to be checked, "
      f"{kinds.count('Close stmt')} closed)")
def pages(table):
    return [a for k, a in log if k == "Query" and a.startswith("SELECT") and f"`{table}` " in a + " "
            and "LIMIT" in a]
def explain(sql):
    out = subprocess.run(base + ["-e", "EXPLAIN " + sql], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    head = out[0].split("\t")
    return dict(zip(head, out[1].split("\t")))
for table in ("big", "single"):
    ps = pages(table)
    check(len(ps) >= 6, f"{table}: {len(ps)} keyset statements for its pages")
    bounded = [p for p in ps if " WHERE " in p]
    check(len(bounded) == len(ps) - 1, f"{table}: every page after the first is bounded by the last key")
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
# Incremental mode: every statement on ev but the NULL counts, as sent.
ev = [a for k, a in log if k == "Query" and a.startswith("SELECT") and "`ev`" in a
      and "count(*)" not in a]
bad = []
for sql in ev:
    pl = explain(sql)
    want = "ev_bt" if "ORDER BY `bucket`" in sql else "ev_cursor"
    if pl["type"] != "range" or pl["key"] != want or "filesort" in pl["Extra"]:
        bad.append(f"{pl['type']} {pl['key']} {pl['Extra']}: {sql[-200:]}")
check(len(ev) > 50 and not bad,
      f"incremental: all {len(ev)} statements type=range on their index, no filesort" +
      ("" if not bad else "; " + " | ".join(bad[:3])))
shapes = {
    "lower prefix, exclusive": r"WHERE `updated_at` > '",
    "lower prefix, inclusive (--start)": r"WHERE `updated_at` >= '",
    "lower full key (next page)": r"WHERE \(`updated_at` >= '[^']*' AND \(\(`updated_at` > '",
    "upper prefix": r"AND `updated_at` <= '",
    "two-column lower prefix":
        r"WHERE \(`bucket` >= \d+ AND \(\(`bucket` > \d+\) OR \(`bucket` = \d+ AND `tag` > '\w+'\)\)\)",
    "two-column upper prefix":
        r"\(`bucket` <= \d+ AND \(\(`bucket` < \d+\) OR \(`bucket` = \d+ AND `tag` <= '\w+'\)\)\)",
    "three-column lower (next page)": r"`tag` = '\w+' AND `id` > \d+\)",
    "cursor range, greatest": r"DESC LIMIT 1$",
}
for what, pat in shapes.items():
    check(any(re.search(pat, sql) for sql in ev), f"incremental: a statement with {what} (/{pat}/)")
cur = [a for k, a in log if k == "Query" and a.startswith("SELECT") and "`big`" in a and "LIMIT" not in a]
check(len(cur) == 1, "cursor paging: one streamed statement for the whole table")
sys.exit(1 if fails else 0)
EOF
cmp -s big.ndjson cursor.ndjson && ok "keyset and cursor agree" || not_ok "keyset and cursor differ"
check_no_password
[ $FAILS -eq 0 ]
