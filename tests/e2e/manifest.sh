# manifest.sh DRIVER - a manifest of several streams end to end, on sqlite,
# pg or mysql: --dry-run changes nothing; run writes every stream with a
# sidecar that says what it holds; --due decides by the schedule with an
# injected clock; status as a table, JSON (shape checked) and Prometheus
# text (read by python3-prometheus-client); two runs of one stream at once
# (the second is skipped, exit 7); kill -9 of run mid-stream then re-runs
# (no lost or repeated row, no backup deleted that was not replaced);
# SIGTERM mid-stream; retention never deletes on failure nor foreign
# files and keeps exactly `keep`; password_file (pg, mysql) and no secret
# anywhere; --log-format json.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
DRIVER=${1:?usage: manifest.sh sqlite|pg|mysql}
T=$SLUICE_TMP
cd "$T"
ROWS=200000
SECRET=""

case $DRIVER in
sqlite)
    DB=$T/shop.db
    q() { sqlite3 -bail "$DB"; }
    URL=$DB
    SOURCE_YAML="shop: \"sqlite:$DB\""
    TS="'2026-01-01T00:00:00'"
    TS2="'2026-02-01T00:00:00'"
    TSTYPE=TEXT
    NUMS="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $ROWS) SELECT i FROM s"
    ;;
pg)
    [ -n "${SLUICE_TEST_PG_ENV:-}" ] || { echo "SKIP: no SLUICE_TEST_PG_ENV"; exit 77; }
    . "$SLUICE_TEST_PG_ENV"
    q() { "$SLUICE_TEST_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_URL" >/dev/null; }
    URL=$SLUICE_TEST_PG_PW_URL
    SECRET=$SLUICE_TEST_PG_PASSWORD
    printf '%s\n' "$SECRET" >"$T/pw.secret"
    SOURCE_YAML="shop: {url: \"postgresql://sluice_pw@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres\", password_file: pw.secret}"
    TS="'2026-01-01 00:00:00'"
    TS2="'2026-02-01 00:00:00'"
    TSTYPE=timestamp
    NUMS="SELECT i FROM generate_series(1, $ROWS) AS g(i)"
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
    SECRET=$SLUICE_TEST_MYSQL_PASSWORD
    printf '%s\n' "$SECRET" >"$T/pw.secret"
    SOURCE_YAML="shop: {url: \"mysql://sluice@127.0.0.1:$SLUICE_TEST_MYSQL_PORT/sluicetest\", password_file: pw.secret}"
    TS="'2026-01-01 00:00:00'"
    TS2="'2026-02-01 00:00:00'"
    TSTYPE="DATETIME(6)"
    NUMS="SELECT a.x + 10 * b.x + 100 * c.x + 1000 * d.x + 10000 * e.x + 100000 * f.x + 1 AS i FROM m_digits a, m_digits b, m_digits c, m_digits d, m_digits e, m_digits f"
    ;;
*) echo "unknown driver $DRIVER" >&2; exit 2 ;;
esac
NAME_EXPR="'order ' || i || ' with some text'"
[ "$DRIVER" = mysql ] && NAME_EXPR="CONCAT('order ', i, ' with some text')"

q <<EOF
DROP TABLE IF EXISTS m_orders;
DROP TABLE IF EXISTS m_small;
DROP TABLE IF EXISTS m_digits;
CREATE TABLE m_digits (x INTEGER NOT NULL);
INSERT INTO m_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
CREATE TABLE m_orders (
    id BIGINT NOT NULL PRIMARY KEY,
    grp INTEGER NOT NULL,
    name VARCHAR(60) NOT NULL,
    updated_at $TSTYPE NOT NULL
);
INSERT INTO m_orders SELECT i, i % 97, $NAME_EXPR, $TS FROM ($NUMS) n WHERE i <= $ROWS;
-- The incremental stream's cursor is indexed, as a user's would be: without
-- it every page of (updated_at, id) sorts the whole table.
CREATE INDEX m_orders_updated ON m_orders (updated_at, id);
CREATE TABLE m_small (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20));
INSERT INTO m_small VALUES (1, 'one'), (2, 'two'), (3, NULL);
EOF

cat >"$T/sluice.yml" <<EOF
# A manifest as the README shows: three streams and a disabled one.
version: 1
state: state/sluice.db
concurrency: 2
sources:
  $SOURCE_YAML
defaults:
  source: shop
  output: backups/{stream}/%Y%m%dT%H%M%SZ.ndjson
  page_size: 500
  checkpoint_every: 2000
streams:
  - name: orders
    table: m_orders
    schedule: "*/15 * * * *"
    keep: 2
  - name: small
    table: m_small
    schedule: "@hourly"
    output: backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.gz
    keep: 1
  - name: changes
    table: m_orders
    mode: incremental
    cursor_field: updated_at
    schedule: "*/5 * * * *"
  - name: legacy
    table: m_small
    enabled: false
EOF
M=$T/sluice.yml
ALL_LOG=$T/all.log # everything sluice printed, for the secret check
: >"$ALL_LOG"

# sl ARGS...: sluice, its output also appended to ALL_LOG.
sl() {
    local rc=0
    "$SLUICE" "$@" >"$E2E_OUT" 2>"$E2E_ERR" || rc=$?
    cat "$E2E_OUT" "$E2E_ERR" >>"$ALL_LOG"
    return "$rc"
}
# at MINUTES: the injected clock, 2031-01-01 plus MINUTES.
at() { date -u -d "@$((1924992000 + $1 * 60))" +%Y-%m-%dT%H:%M:%SZ; }

expect_sl() { # CODE NAME ARGS...
    local code=$1 name=$2 rc=0
    shift 2
    sl "$@" || rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$name"; else
        not_ok "$name" "expected exit $code, got $rc from: sluice $*" "$(tail -n 5 "$E2E_OUT" "$E2E_ERR")"
    fi
}

outputs() { # STREAM: its finished outputs, oldest first
    find "$T/backups/$1" -maxdepth 1 -type f ! -name '*.partial' ! -name '*.meta.json' 2>/dev/null | sort
}

# The reference: one plain extraction of m_orders.
check "reference extraction" "$SLUICE" extract "$URL" m_orders -o "$T/ref.ndjson" --state "$T/ref.state"

# ---- --dry-run changes nothing ------------------------------------------------
export SLUICE_NOW; SLUICE_NOW=$(at 0)
expect_sl 0 "dry-run exits 0" run "$M" --dry-run
if [ "$(grep -c ': would run: ' "$E2E_OUT")" -eq 3 ] && grep -q '^legacy: would not run: disabled' "$E2E_OUT" &&
    grep -q "^orders: would run: starts a new job into $T/backups/orders/20310101T000000Z.ndjson$" "$E2E_OUT"; then
    ok "dry-run: says what would run, where, and why not"
else
    not_ok "dry-run: says what would run, where, and why not" "$(cat "$E2E_OUT")"
fi
if [ ! -e "$T/state" ] && [ ! -e "$T/backups" ]; then ok "dry-run: no state store, no output"
else not_ok "dry-run: no state store, no output" "$(ls -R "$T/state" "$T/backups" 2>&1 | head)"; fi

# ---- a first run --------------------------------------------------------------
expect_sl 0 "first run exits 0" run "$M"
if [ "$(wc -l <"$E2E_OUT")" -eq 4 ] && grep -q '^orders: done: 200000 rows' "$E2E_OUT" &&
    grep -q '^small: done: 3 rows' "$E2E_OUT" && grep -q '^changes: done: 200000 rows' "$E2E_OUT" &&
    grep -q '^legacy: disabled' "$E2E_OUT"; then
    ok "first run: one summary line per stream"
else
    not_ok "first run: one summary line per stream" "$(cat "$E2E_OUT")"
fi
same_file "orders: the backup holds the very bytes of a plain extraction" "$T/ref.ndjson" \
    "$T/backups/orders/20310101T000000Z.ndjson"

# sidecar_ok NAME FILE STREAM ROWS: FILE.meta.json says what FILE holds.
sidecar_ok() {
    local out
    if out=$(python3 - "$2" "$3" "$4" "$SECRET" <<'PY' 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi
import gzip, hashlib, json, os, sys
path, stream, rows, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = open(path + ".meta.json", encoding="utf-8").read()
m = json.loads(text)
data = open(path, "rb").read()
plain = gzip.decompress(data) if path.endswith(".gz") else data
errs = []
want = {"version": 1, "file": os.path.basename(path), "format": "ndjson", "stream": stream,
        "rows": rows, "bytes": len(data),
        "digest": {"algorithm": "sha256", "value": hashlib.sha256(data).hexdigest()}}
for k, v in want.items():
    if m.get(k) != v:
        errs.append("%s: %r, want %r" % (k, m.get(k), v))
if plain.count(b"\n") != rows:
    errs.append("the file has %d lines" % plain.count(b"\n"))
for k in ("source", "table", "mode", "key", "columns", "job", "sluice_version", "compression",
          "bounds", "high_water_mark"):
    if k not in m:
        errs.append("no " + k)
cols = [c["name"] for c in m.get("columns", [])]
if not cols or any(set(c) != {"name", "type", "json_type", "nullable"} for c in m["columns"]):
    errs.append("columns: %r" % m.get("columns"))
if not m.get("job", {}).get("started_at") or not m.get("job", {}).get("finished_at"):
    errs.append("job times: %r" % m.get("job"))
if secret and secret in text:
    errs.append("the sidecar shows the password")
if errs:
    print("; ".join(errs)); sys.exit(1)
PY
}
sidecar_ok "orders: the sidecar says what the backup holds" "$T/backups/orders/20310101T000000Z.ndjson" orders 200000
sidecar_ok "small (gzip): the sidecar says what the backup holds" "$T/backups/small/20310101T000000Z.ndjson.gz" small 3
if python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mode"] == "incremental", m["mode"]
assert m["cursor"] == ["updated_at"], m["cursor"]
assert m["bounds"]["upper"] and m["high_water_mark"] == m["bounds"]["upper"], m
' "$T/backups/changes/20310101T000000Z.ndjson.meta.json" 2>"$T/py.err"; then
    ok "changes: the sidecar holds the job's bounds and high-water mark"
else
    not_ok "changes: the sidecar holds the job's bounds and high-water mark" "$(cat "$T/py.err")"
fi

# ---- extract --meta; a run killed between the rename and the sidecar ----------
mkdir -p "$T/x"
check "extract --meta" "$SLUICE" extract "$URL" m_small -o "$T/x/small.ndjson" --meta \
    --stream smallx --state "$T/x.state"
sidecar_ok "extract --meta: the sidecar says what the file holds" "$T/x/small.ndjson" smallx 3
# As if killed after FILE.partial became FILE, before the sidecar: the job
# is FINISHING with its final counters, the sidecar missing.
sqlite3 "$T/x.state" "UPDATE streams SET phase='finishing', \"rows\"=3,
    bytes=$(file_size "$T/x/small.ndjson") WHERE stream='smallx'"
rm "$T/x/small.ndjson.meta.json"
check "killed between the rename and the sidecar: a re-run exits 0" "$SLUICE" extract "$URL" m_small \
    -o "$T/x/small.ndjson" --meta --stream smallx --state "$T/x.state" -v
grep -q 'completed the interrupted job' "$E2E_ERR" && ok "the re-run completed the FINISHING job" ||
    not_ok "the re-run completed the FINISHING job" "$(cat "$E2E_ERR")"
sidecar_ok "the FINISHING path wrote the sidecar" "$T/x/small.ndjson" smallx 3
[ "$(sqlite3 "$T/x.state" "SELECT phase FROM streams WHERE stream='smallx'")" = idle ] &&
    ok "the job ended" || not_ok "the job ended"
expect_exit 2 "--meta needs -o" "$SLUICE" extract "$URL" m_small --meta --state "$T/x.state"

# ---- --due, with an injected clock --------------------------------------------
# The state store's times are real: the first fire after orders' last
# start decides.
R=$(sqlite3 "$T/state/sluice.db" "SELECT started_at FROM runs WHERE stream='orders' ORDER BY id DESC LIMIT 1")
F=$(python3 -c '
import datetime, sys
r = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
f = r.replace(second=0, microsecond=0, minute=r.minute - r.minute % 15) + datetime.timedelta(minutes=15)
print(int(f.timestamp()))' "$R")
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
SLUICE_NOW=$(iso $((F - 1)))
expect_sl 0 "--due one second before the next fire: exit 0" run "$M" orders --due -v
if [ ! -s "$E2E_OUT" ] && grep -q "not due: its last run started" "$E2E_ERR"; then
    ok "--due before the fire: nothing runs, -v says why"
else
    not_ok "--due before the fire: nothing runs, -v says why" "$(cat "$E2E_OUT" "$E2E_ERR")"
fi
SLUICE_NOW=$(iso "$F")
expect_sl 0 "--due --dry-run at the fire" run "$M" orders --due --dry-run
if grep -q "^orders: would run: due: the fire at $(iso "$F") came after its last run started" "$E2E_OUT"; then
    ok "--dry-run --due names the fire that makes it due"
else
    not_ok "--dry-run --due names the fire that makes it due" "$(cat "$E2E_OUT")"
fi
expect_sl 0 "--due at the fire: runs" run "$M" orders --due
if [ "$(wc -l <"$E2E_OUT")" -eq 1 ] && grep -q '^orders: done' "$E2E_OUT"; then
    ok "--due at the fire: orders ran"
else
    not_ok "--due at the fire: orders ran" "$(cat "$E2E_OUT")"
fi

# ---- status -------------------------------------------------------------------
SLUICE_NOW=$(at 1)
expect_sl 0 "status exits 0" status "$M"
if [ "$(grep -cE '^(orders|small|changes|legacy) ' "$E2E_OUT")" -eq 4 ] && grep -qE '^orders +done ' "$E2E_OUT"; then
    ok "status: a table line per stream"
else
    not_ok "status: a table line per stream" "$(cat "$E2E_OUT")"
fi
expect_sl 0 "status STREAM exits 0" status "$M" orders
if grep -q 'last success' "$E2E_OUT" && grep -q 'runs ' "$E2E_OUT"; then ok "status STREAM: details"
else not_ok "status STREAM: details" "$(cat "$E2E_OUT")"; fi

# status_json NAME PYTHON: status --json must hold, and PYTHON (over s, the
# parsed document, and st(name), a stream) must pass.
cat >"$T/shape.py" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def need(obj, spec, where):
    for key, kind in spec.items():
        if key not in obj:
            raise SystemExit("%s: no %s" % (where, key))
        if not isinstance(obj[key], kind):
            raise SystemExit("%s.%s: %r is not %s" % (where, key, obj[key], kind))
opt = lambda *t: tuple(t) + (type(None),)
need(doc, {"version": int, "manifest": str, "state": str, "timezone": str, "now": str, "streams": list}, "doc")
assert doc["version"] == 1
for s in doc["streams"]:
    w = "streams[%s]" % s.get("name")
    need(s, {"name": str, "source": str, "url": str, "table": str, "mode": str, "enabled": bool,
             "schedule": opt(str), "next_fire": opt(str), "due": bool, "state": str,
             "output_template": str, "keep": opt(int), "job": opt(dict), "checkpoint": opt(dict),
             "high_water_mark": opt(list), "last_success": opt(dict), "last_error": opt(str),
             "runs": list, "partitions": opt(list)}, w)
    assert s["state"] in ("idle", "scheduled", "running", "interrupted", "failed", "done"), s["state"]
    if s["job"]:
        need(s["job"], {"id": int, "attempt": int, "phase": str, "output": opt(str)}, w + ".job")
    if s["checkpoint"]:
        need(s["checkpoint"], {"key": opt(list), "offset": int, "rows": int, "bytes": int}, w + ".checkpoint")
    if s["last_success"]:
        need(s["last_success"], {"output": str, "exists": bool, "sidecar": bool, "started_at": str,
                                 "ended_at": str, "rows": int, "bytes": int,
                                 "verification": opt(dict)}, w + ".last_success")
    for r in s["runs"]:
        need(r, {"id": int, "job_id": int, "attempt": int, "partition": opt(str), "started_at": str,
                 "ended_at": opt(str), "status": str, "rows": int, "bytes": int, "warnings": int,
                 "progress_percent": opt(float, int), "error": opt(str), "output": opt(str)}, w + ".runs")
st = {s["name"]: s for s in doc["streams"]}
exec(sys.argv[2])
PY
status_json() {
    local name=$1 code=$2
    if ! sl status "$M" --json; then not_ok "$name" "status --json failed: $(cat "$E2E_ERR")"; return; fi
    cp "$E2E_OUT" "$T/status.json"
    if python3 "$T/shape.py" "$T/status.json" "$code" >"$T/py.err" 2>&1; then ok "$name"
    else not_ok "$name" "$(cat "$T/py.err")"; fi
}
status_json "status --json: the documented shape; what the runs left" '
o = st["orders"]
assert o["state"] == "done" and o["job"]["phase"] == "idle" and o["checkpoint"] is None, o
assert o["last_success"]["rows"] == 200000 and o["last_success"]["exists"] and o["last_success"]["sidecar"], o["last_success"]
assert o["runs"][0]["status"] == "done" and o["runs"][0]["progress_percent"] == 100, o["runs"][0]
assert o["next_fire"] == "2031-01-01T00:15:00Z" and o["schedule"] == "*/15 * * * *", o
assert "password" not in o["url"]
c = st["changes"]
assert c["mode"] == "incremental" and c["high_water_mark"], c
assert st["legacy"]["enabled"] is False and st["legacy"]["state"] == "idle", st["legacy"]
'

# prom NAME PYTHON: status --prometheus parsed by prometheus_client; PYTHON
# checks v(name, **labels).
PROM_PY=""
for p in /usr/bin/python3 python3; do
    "$p" -c 'import prometheus_client' 2>/dev/null && { PROM_PY=$p; break; }
done
prom() {
    local name=$1 code=$2
    if [ -z "$PROM_PY" ]; then not_ok "$name" "python3-prometheus-client is not installed"; return; fi
    if ! sl status "$M" --prometheus -o "$T/sluice.prom"; then not_ok "$name" "$(cat "$E2E_ERR")"; return; fi
    if "$PROM_PY" - "$T/sluice.prom" "$code" >"$T/py.err" 2>&1 <<'PY'; then ok "$name"; else not_ok "$name" "$(cat "$T/py.err")"; fi
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def v(name, **labels):
    for s in fams[name].samples:
        if all(s.labels.get(k) == x for k, x in labels.items()):
            return s.value
    raise SystemExit("no %s%r" % (name, labels))
for n in ("sluice_last_success_timestamp_seconds", "sluice_last_run_status", "sluice_last_run_rows",
          "sluice_last_run_bytes", "sluice_next_run_timestamp_seconds", "sluice_stream_state"):
    assert n in fams, "no metric " + n
exec(sys.argv[2])
PY
}
prom "status --prometheus: a real parser reads it" '
import time
assert time.time() - v("sluice_last_success_timestamp_seconds", stream="orders") < 3600
assert v("sluice_last_run_status", stream="orders", status="done") == 1
assert v("sluice_last_run_status", stream="orders", status="failed") == 0
assert v("sluice_last_run_rows", stream="orders") == 200000
assert v("sluice_next_run_timestamp_seconds", stream="orders") == 1924992900
assert v("sluice_stream_state", stream="small", state="done") == 1
assert v("sluice_last_success_timestamp_seconds", stream="legacy") == 0
'

# ---- two runs of one stream at once ---------------------------------------------
# The first is stopped (SIGSTOP) mid-stream while the others start, so
# nothing depends on how fast it is.
newest_partial() { find "$T/backups/$1" -name '*.partial' 2>/dev/null | head -n 1; }
wait_partial() { # STREAM PID: until a .partial of STREAM holds > 100 KB
    local i p
    for ((i = 0; i < 6000; i++)); do
        p=$(newest_partial "$1")
        [ -n "$p" ] && [ "$(file_size "$p")" -gt 100000 ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}
# stop_between_commits PID: SIGSTOP, at a moment the process holds no
# write transaction on the state store (else everyone waits on it).
stop_between_commits() {
    local i
    for ((i = 0; i < 500; i++)); do
        kill -STOP "$1"
        python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
db.execute("BEGIN IMMEDIATE"); db.execute("ROLLBACK")' "$T/state/sluice.db" 2>/dev/null && return 0
        kill -CONT "$1"
        sleep 0.01
    done
    return 1
}
SLUICE_NOW=$(at 2)
"$SLUICE" run "$M" orders >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
if wait_partial orders "$BG" && stop_between_commits "$BG"; then
    SLUICE_NOW=$(at 3)
    expect_sl 7 "a second run of a running stream exits 7" run "$M" orders
    if grep -q '^orders: skipped (exit 7): another sluice process is running it' "$E2E_OUT"; then
        ok "the second run says it skipped the stream"
    else
        not_ok "the second run says it skipped the stream" "$(cat "$E2E_OUT" "$E2E_ERR")"
    fi
    expect_sl 7 "run of every stream while one runs elsewhere: exit 7" run "$M"
    if grep -q '^orders: skipped' "$E2E_OUT" && grep -q '^small: done' "$E2E_OUT" && grep -q '^changes: done' "$E2E_OUT"; then
        ok "the others ran; the busy one was skipped"
    else
        not_ok "the others ran; the busy one was skipped" "$(cat "$E2E_OUT")"
    fi
    kill -CONT "$BG"
else
    not_ok "the first run was caught mid-stream" "$(cat "$T/bg.err")"
fi
rc=0
wait "$BG" || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^orders: done' "$T/bg.out"; then ok "the first run completed"
else not_ok "the first run completed" "exit $rc: $(cat "$T/bg.out" "$T/bg.err")"; fi
same_file "after the collision: the backup is whole" "$T/ref.ndjson" "$T/backups/orders/20310101T000200Z.ndjson"
if [ ! -e "$T/backups/orders/20310101T000300Z.ndjson" ] && [ -z "$(newest_partial orders)" ]; then
    ok "the skipped run left no file"
else
    not_ok "the skipped run left no file" "$(ls "$T/backups/orders")"
fi

# ---- kill -9 mid-stream, re-run: nothing lost or repeated, nothing deleted early --
# complete STREAM: its outputs with a sidecar (finished backups).
complete() {
    local f n=0
    while IFS= read -r f; do [ -e "$f.meta.json" ] && n=$((n + 1)); done < <(outputs "$1")
    echo "$n"
}
killed=0
too_few=""
for k in 1 2 3 4; do
    SLUICE_NOW=$(at $((10 + k)))
    "$SLUICE" run "$M" orders >/dev/null 2>>"$T/kill.log" &
    pid=$!
    if [ "$k" -eq 1 ]; then random_sleep_ms 50; else wait_partial orders "$pid" || true; random_sleep_ms 200; fi
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    [ "$rc" -eq 137 ] && killed=$((killed + 1))
    # keep is 2 and two backups existed: an old one may go only once a new
    # one is complete, so two complete backups exist at every moment.
    [ "$(complete orders)" -ge 2 ] || too_few="$too_few after-kill-$k:$(complete orders)"
done
unfinished=$(newest_partial orders)
SLUICE_NOW=$(at 20)
expect_sl 0 "after kill -9: a re-run completes" run "$M" orders -v
if [ -z "$unfinished" ]; then
    ok "the re-run resumed the killed job (the last kill left no unfinished job)"
elif grep -q 'resuming job' "$E2E_ERR"; then
    ok "the re-run resumed the killed job"
else
    not_ok "the re-run resumed the killed job" "$(cat "$E2E_ERR")"
fi
[ "$killed" -ge 2 ] && ok "kill -9 hit a running process $killed times" || not_ok "kill -9 hit a running process" "only $killed"
[ -z "$too_few" ] && ok "no backup was deleted while its replacement was unfinished" ||
    not_ok "no backup was deleted while its replacement was unfinished" "$too_few"
mapfile -t AFTER < <(outputs orders)
NEW=${AFTER[-1]}
same_file "after kill -9: the new backup has every row once, in order" "$T/ref.ndjson" "$NEW"
sidecar_ok "after kill -9: the sidecar matches the backup" "$NEW" orders 200000
if [ "${#AFTER[@]}" -eq 2 ] && [ "$(complete orders)" -eq 2 ] && [ -z "$(newest_partial orders)" ]; then
    ok "keep 2: exactly two complete backups remain, no .partial"
else
    not_ok "keep 2: exactly two complete backups remain, no .partial" "after: ${AFTER[*]}"
fi
expect_sl 0 "run --list-streams" run "$M" --list-streams
[ "$(tr '\n' ' ' <"$E2E_OUT")" = "orders small changes legacy " ] && ok "--list-streams prints the stream names" ||
    not_ok "--list-streams prints the stream names" "$(cat "$E2E_OUT")"

# Incremental: every row changes; the job is killed, resumed, and its file
# holds each row exactly once.
q <<EOF
UPDATE m_orders SET updated_at = $TS2;
EOF
for k in 1 2 3; do
    SLUICE_NOW=$(at $((30 + k)))
    "$SLUICE" run "$M" changes >/dev/null 2>>"$T/kill.log" &
    pid=$!
    if [ "$k" -eq 1 ]; then random_sleep_ms 50; else wait_partial changes "$pid" || true; random_sleep_ms 200; fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
SLUICE_NOW=$(at 40)
expect_sl 0 "incremental after kill -9: a re-run completes" run "$M" changes
# Whichever runs the job took, the files written since the update hold
# every changed row exactly once.
if python3 - "$ROWS" $(outputs changes | awk -F/ '$NF >= "20310101T003100Z"') >"$T/py.err" 2>&1 <<'PY'; then ok "incremental after kill -9: every changed row exactly once"; else not_ok "incremental after kill -9: every changed row exactly once" "$(cat "$T/py.err")"; fi
import json, sys
n = int(sys.argv[1])
ids = [json.loads(l)["id"] for f in sys.argv[2:] for l in open(f)]
assert len(ids) == n, "%d rows in %s" % (len(ids), sys.argv[2:])
assert sorted(ids) == list(range(1, n + 1)), "rows missing or repeated"
PY
check "the reference again, after the update" "$SLUICE" extract "$URL" m_orders -o "$T/ref2.ndjson" --state "$T/ref.state"

# ---- SIGTERM mid-stream: checkpointed; --due resumes it at once ------------------
SLUICE_NOW=$(at 50)
"$SLUICE" run "$M" orders >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
if wait_partial orders "$BG"; then
    kill -STOP "$BG"; kill -TERM "$BG"; kill -CONT "$BG"
fi
rc=0
wait "$BG" || rc=$?
if [ "$rc" -eq 130 ] && grep -q '^orders: interrupted (exit 130)' "$T/bg.out"; then
    ok "SIGTERM: exit 130, the summary says interrupted"
else
    not_ok "SIGTERM: exit 130, the summary says interrupted" "exit $rc: $(cat "$T/bg.out" "$T/bg.err")"
fi
status_json "status after SIGTERM: interrupted, with its checkpoint" '
o = st["orders"]
assert o["state"] == "interrupted", o["state"]
assert o["job"]["phase"] == "running" and o["checkpoint"]["rows"] > 0 and o["checkpoint"]["bytes"] > 0, o
assert o["checkpoint"]["key"] and o["runs"][0]["status"] == "interrupted", o["runs"][0]
p = o["runs"][0]["progress_percent"]
assert p is None or 0 < p < 100, o["runs"][0]
'
prom "prometheus after SIGTERM: last run interrupted" '
assert v("sluice_last_run_status", stream="orders", status="interrupted") == 1
assert v("sluice_stream_state", stream="orders", state="interrupted") == 1
assert v("sluice_checkpoint_rows", stream="orders", partition="") > 0
'
SLUICE_NOW=$(at 51) # not a fire of */15: only the interruption makes it due
expect_sl 0 "--due resumes an interrupted job at once" run "$M" orders --due
NEW=$(outputs orders | tail -n 1)
same_file "after SIGTERM and --due: the backup is whole" "$T/ref2.ndjson" "$NEW"
case $NEW in *20310101T005000Z.ndjson) ok "the resumed job kept its file name" ;; *) not_ok "the resumed job kept its file name" "$NEW" ;; esac

# ---- retention: never on failure, never foreign files, exactly keep --------------
mkdir -p "$T/backups/small"
echo '{"mine":1}' | gzip >"$T/backups/small/20200101T000000Z.ndjson.gz"    # no sidecar
echo '{"theirs":1}' | gzip >"$T/backups/small/20200101T000001Z.ndjson.gz"
printf '{"version": 1, "file": "20200101T000001Z.ndjson.gz", "stream": "orders"}\n' \
    >"$T/backups/small/20200101T000001Z.ndjson.gz.meta.json"               # another stream's
mapfile -t SMALL_BEFORE < <(outputs small)
q <<EOF
ALTER TABLE m_small RENAME TO m_small_away;
EOF
SLUICE_NOW=$(at 60)
expect_sl 3 "a failing stream among good ones: exit 3, the most severe" run "$M"
if grep -q '^small: failed (exit 3): ' "$E2E_OUT" && grep -q '^orders: done' "$E2E_OUT" && grep -q '^changes: done' "$E2E_OUT"; then
    ok "the summary names the failure; the other streams ran"
else
    not_ok "the summary names the failure; the other streams ran" "$(cat "$E2E_OUT")"
fi
mapfile -t SMALL_AFTER < <(outputs small)
if [ "${SMALL_BEFORE[*]}" = "${SMALL_AFTER[*]}" ]; then ok "a failed run deletes nothing"
else not_ok "a failed run deletes nothing" "before: ${SMALL_BEFORE[*]}" "after: ${SMALL_AFTER[*]}"; fi
status_json "status after a failure: failed, with the error" '
s = st["small"]
assert s["state"] == "failed" and "m_small" in s["last_error"], s
assert s["runs"][0]["status"] == "failed" and s["last_success"]["rows"] == 3, s
'
prom "prometheus after a failure: failed, last success kept" '
assert v("sluice_last_run_status", stream="small", status="failed") == 1
assert v("sluice_last_success_timestamp_seconds", stream="small") > 0
'
q <<EOF
ALTER TABLE m_small_away RENAME TO m_small;
EOF
for k in 1 2 3; do
    SLUICE_NOW=$(at $((60 + k)))
    expect_sl 0 "small runs again ($k)" run "$M" small
done
mapfile -t SMALL_NOW < <(outputs small)
ours=0
for f in "${SMALL_NOW[@]}"; do [ -e "$f.meta.json" ] && grep -q '"stream": "small"' "$f.meta.json" && ours=$((ours + 1)); done
if [ "$ours" -eq 1 ] && [ -e "$T/backups/small/20310101T010300Z.ndjson.gz" ]; then
    ok "keep 1: exactly one backup of the stream, the newest"
else
    not_ok "keep 1: exactly one backup of the stream, the newest" "${SMALL_NOW[*]}"
fi
if [ -e "$T/backups/small/20200101T000000Z.ndjson.gz" ] && [ -e "$T/backups/small/20200101T000001Z.ndjson.gz" ] &&
    [ -e "$T/backups/small/20200101T000001Z.ndjson.gz.meta.json" ]; then
    ok "retention left the files sluice did not write for this stream"
else
    not_ok "retention left the files sluice did not write for this stream" "$(ls "$T/backups/small")"
fi

# ---- --log-format json ----------------------------------------------------------
SLUICE_NOW=$(at 70)
expect_sl 0 "run --log-format json" run "$M" small orders --log-format json -v
if python3 - "$E2E_OUT" "$E2E_ERR" >"$T/py.err" 2>&1 <<'PY'; then ok "json logs: one object per line with time, level, stream, message"; else not_ok "json logs: one object per line with time, level, stream, message" "$(cat "$T/py.err")"; fi
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
err = [json.loads(l) for l in open(sys.argv[2])]
assert len(out) == 2 and err, (out, err)
for o in out + err:
    assert {"time", "level", "stream", "message"} <= set(o), o
    assert o["time"].endswith("Z") and o["level"] in ("error", "warning", "notice", "info"), o
assert {o["stream"] for o in out} == {"small", "orders"}
assert all(o["status"] == "done" and o["exit_code"] == 0 and o["rows"] > 0 for o in out), out
PY

# ---- usage errors -----------------------------------------------------------------
expect_sl 2 "an unknown stream: exit 2" run "$M" ordres
grep -q "has no stream 'ordres'; did you mean 'orders'?" "$E2E_ERR" && ok "an unknown stream: did you mean" ||
    not_ok "an unknown stream: did you mean" "$(cat "$E2E_ERR")"
sed 's/schedule: "@hourly"/schedule: "61 * * * *"/' "$M" >"$T/bad.yml"
expect_sl 2 "a bad manifest: exit 2" run "$T/bad.yml"
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] &&
    grep -q "bad.yml:[0-9]*: streams\[1\].schedule: minute: 61 is out of range 0-59" "$E2E_ERR"; then
    ok "a bad manifest: one line, file:line: key: what"
else
    not_ok "a bad manifest: one line, file:line: key: what" "$(cat "$E2E_ERR")"
fi
expect_sl 2 "status of a bad manifest: exit 2" status "$T/bad.yml"

# ---- a partitioned stream: killed, resumed, joined, verified, shown per partition --
cat >"$T/part.yml" <<EOF
version: 1
state: state/part.db
sources:
  $SOURCE_YAML
streams:
  - name: parted
    source: shop
    table: m_orders
    partitions: 4
    parallel: 2
    page_size: 500
    checkpoint_every: 2000
    output: backups/{stream}/%Y%m%dT%H%M%SZ.ndjson
    keep: 1
EOF
part_killed=0
for k in 1 2; do
    SLUICE_NOW=$(at $((100 + k)))
    "$SLUICE" run "$T/part.yml" >/dev/null 2>>"$T/kill.log" &
    pid=$!
    random_sleep_ms 400
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    [ "$rc" -eq 137 ] && part_killed=$((part_killed + 1))
done
SLUICE_NOW=$(at 110)
expect_sl 0 "partitioned stream: a re-run after kill -9 ($part_killed hit) completes" run "$T/part.yml" -v
mapfile -t PARTED < <(outputs parted)
if [ "${#PARTED[@]}" -eq 1 ]; then ok "partitioned stream: one backup, no parts left beside it"
else not_ok "partitioned stream: one backup, no parts left beside it" "$(ls "$T/backups/parted")"; fi
NEW=${PARTED[-1]}
same_file "partitioned stream: the joined backup has the bytes of a plain extraction" "$T/ref2.ndjson" "$NEW"
sidecar_ok "partitioned stream: the merged sidecar says what the backup holds" "$NEW" parted 200000
check "partitioned stream: the backup verifies against its sidecar" "$SLUICE" verify "$NEW"
expect_sl 0 "partitioned stream: status exits 0" status "$T/part.yml"
if [ "$(grep -c '^    partition 000[0-3] *done' "$E2E_OUT")" -eq 4 ] &&
    grep -q '^parted  *done  *[-0-9T:]*Z done ' "$E2E_OUT"; then
    ok "partitioned stream: status shows the job's last run and each partition"
else
    not_ok "partitioned stream: status shows the job's last run and each partition" "$(cat "$E2E_OUT")"
fi
expect_sl 0 "partitioned stream: status --json exits 0" status "$T/part.yml" --json
if python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["streams"][0]
parts = [p["partition"] for p in s["partitions"]]
assert [p for p in parts if p] == ["0000", "0001", "0002", "0003"], parts
assert s["last_success"]["rows"] == 200000, s["last_success"]
assert s["last_success"]["output"] == sys.argv[2], s["last_success"]
' "$E2E_OUT" "$NEW" 2>"$T/py.err"; then ok "partitioned stream: status --json lists the partitions"
else not_ok "partitioned stream: status --json lists the partitions" "$(cat "$T/py.err")"; fi

# ---- no secret anywhere -----------------------------------------------------------
if [ -z "$SECRET" ]; then
    # SQLite has no password: a source that has one, unreachable.
    SECRET=SQLITE-SECRET-$$
    printf '%s\n' "$SECRET" >"$T/pw.secret"
    cat >"$T/secret.yml" <<EOF
state: state/secret.db
sources:
  far: {url: "mysql://app@127.0.0.1:1/db?connect-timeout=2", password_file: pw.secret}
streams:
  - {name: far, source: far, table: t, output: "far/%Y%m%dT%H%M%SZ.ndjson"}
EOF
    rc=0
    sl run "$T/secret.yml" || rc=$?
    [ "$rc" -ne 0 ] && ok "an unreachable source fails (exit $rc)" || not_ok "an unreachable source fails" "exit 0"
    sl status "$T/secret.yml" --json || true
    sl status "$T/secret.yml" --prometheus || true
fi
leaks=""
grep -qF -- "$SECRET" "$ALL_LOG" && leaks="$leaks output"
for db in "$T"/state/*.db; do
    [ -e "$db" ] && sqlite3 "$db" .dump | grep -qF -- "$SECRET" && leaks="$leaks $db"
done
grep -rlF -- "$SECRET" "$T/backups" >/dev/null 2>&1 && leaks="$leaks backups"
[ -z "$leaks" ] && ok "the password appears in no output, state store or sidecar" ||
    not_ok "the password appears in no output, state store or sidecar" "found in:$leaks"

finish
