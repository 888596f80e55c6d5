# daemon.sh - sluice daemon against SQLite, with an injected clock
# (SLUICE_NOW, SLUICE_NOW_RATE) instead of real minutes: a "* * * * *"
# stream fires every schedule minute and retention keeps its last two; a
# stream never runs twice at once; SIGTERM mid-stream checkpoints and exits
# 0, and a run resumes; kill -9 mid-stream, and the restarted daemon
# resumes at once; SIGHUP with a bad manifest keeps the old one, with a
# good one adds a stream; fires missed while it was down run once at
# start-up; --log-format json.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
T=$SLUICE_TMP
cd "$T"
DB=$T/src.db
ROWS=300000
sqlite3 -bail "$DB" <<EOF
CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO big SELECT i, 'row ' || i || ' of the big table', i / 7.0 FROM n;
CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO small VALUES (1, 'a'), (2, 'b'), (3, 'c');
EOF
check "reference extraction" "$SLUICE" extract "$DB" big -o "$T/ref.ndjson" --state "$T/ref.state"

# manifest FILE STATE STREAMS...: a manifest whose streams are lines
# "NAME TABLE SCHEDULE KEEP".
manifest() {
    local file=$1 state=$2
    shift 2
    {
        echo "state: $state"
        echo "concurrency: 2"
        echo "sources: {db: \"sqlite:$DB\"}"
        echo "defaults: {source: db, page_size: 500, checkpoint_every: 1000, output: \"out/{stream}/%Y%m%dT%H%M%SZ.ndjson\"}"
        echo "streams:"
        local line name table schedule keep
        for line in "$@"; do
            read -r name table schedule keep <<<"$line"
            schedule=${schedule//_/ }
            echo "  - {name: $name, table: $table, schedule: \"$schedule\", keep: $keep}"
        done
    } >"$file"
}
q() { sqlite3 -bail "$1" "$2" 2>/dev/null || echo 0; }
done_runs() { q "$1" "SELECT count(*) FROM runs WHERE stream='$2' AND status='done'"; }
# wait_for SECONDS CMD...: until CMD succeeds; 1 on timeout.
wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}
at_least() { [ "$("$1" "$2" "$3")" -ge "$4" ]; } # FN DB STREAM N
partial_over() { # DIR BYTES
    local p
    p=$(find "$1" -name '*.partial' 2>/dev/null | head -n 1)
    [ -n "$p" ] && [ "$(file_size "$p")" -gt "$2" ]
}
stop_daemon() { # PID NAME: SIGTERM, exit 0
    local rc=0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" || rc=$?
    if [ "$rc" -eq 0 ]; then ok "$2: SIGTERM stops the daemon with exit 0"
    else not_ok "$2: SIGTERM stops the daemon with exit 0" "exit $rc"; fi
}

# ---- fires every schedule minute; keep; never twice at once; json logs -------
manifest d1.yml d1.db "tick small *_*_*_*_* 2" "big big 0_*_*_*_* 3"
SLUICE_NOW=2031-01-01T00:00:30Z SLUICE_NOW_RATE=60 \
    "$SLUICE" daemon d1.yml --log-format json >"$T/d1.out" 2>"$T/d1.log" &
D=$!
if wait_for 120 at_least done_runs d1.db tick 4; then
    ok "a * * * * * stream fired again and again (4 runs, a minute of schedule per second)"
else
    not_ok "a * * * * * stream fired again and again" "done runs: $(done_runs d1.db tick)" "$(tail -n 5 "$T/d1.log")"
fi
wait_for 120 at_least done_runs d1.db big 1 || true
stop_daemon "$D" "fires"
n=$(find out/tick -name '*.ndjson' | wc -l)
m=$(find out/tick -name '*.ndjson.meta.json' | wc -l)
if [ "$n" -eq 2 ] && [ "$m" -eq 2 ] && [ -z "$(find out/tick -name '*.partial')" ]; then
    ok "keep 2: two backups with their sidecars remain"
else
    not_ok "keep 2: two backups with their sidecars remain" "$(ls out/tick)"
fi
if python3 - d1.db <<'PY' >"$T/py.err" 2>&1; then ok "the runs of a stream never overlapped"; else not_ok "the runs of a stream never overlapped" "$(cat "$T/py.err")"; fi
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for stream in ("tick", "big"):
    runs = db.execute("SELECT started_at, ended_at FROM runs WHERE stream=? ORDER BY id", (stream,)).fetchall()
    assert runs, stream
    for (s1, e1), (s2, e2) in zip(runs, runs[1:]):
        assert e1 is not None and s2 >= e1, (stream, s1, e1, s2)
PY
same_file "the big stream's backup is whole" "$T/ref.ndjson" "$(find out/big -name '*.ndjson' | head -n 1)"
if python3 - "$T/d1.log" <<'PY' >"$T/py.err" 2>&1; then ok "--log-format json: one object per line, time, level, stream, message"; else not_ok "--log-format json: one object per line, time, level, stream, message" "$(cat "$T/py.err")"; fi
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for o in lines:
    assert set(o) == {"time", "level", "stream", "message"}, o
    assert o["level"] in ("error", "warning", "notice", "info"), o
msgs = [(o["stream"], o["message"]) for o in lines]
assert any(s is None and m.startswith("daemon started") for s, m in msgs), msgs[:3]
assert any(s == "tick" and m.startswith("done") for s, m in msgs), msgs
assert msgs[-1] == (None, "stopped"), msgs[-1]
assert not any(o["level"] == "error" for o in lines), [o for o in lines if o["level"] == "error"]
PY
[ ! -s "$T/d1.out" ] && ok "the daemon writes nothing to stdout" || not_ok "the daemon writes nothing to stdout" "$(head -n 3 "$T/d1.out")"

# ---- SIGTERM mid-stream: checkpointed, exit 0; a run resumes ------------------
manifest d2.yml d2.db "big2 big *_*_*_*_* 1"
SLUICE_NOW=2031-01-01T00:00:30Z "$SLUICE" daemon d2.yml >"$T/d2.out" 2>"$T/d2.log" &
D=$!
if wait_for 120 partial_over out/big2 100000; then
    kill -STOP "$D"
    kill -TERM "$D"
    kill -CONT "$D"
    rc=0
    wait "$D" || rc=$?
    [ "$rc" -eq 0 ] && ok "SIGTERM mid-stream: exit 0" || not_ok "SIGTERM mid-stream: exit 0" "exit $rc: $(tail -n 3 "$T/d2.log")"
    phase=$(q d2.db "SELECT phase || ' ' || (\"rows\" > 0) || ' ' || (bytes > 0) FROM streams WHERE stream='big2'")
    last=$(q d2.db "SELECT status FROM runs WHERE stream='big2' ORDER BY id DESC LIMIT 1")
    if [ "$phase" = "running 1 1" ] && [ "$last" = interrupted ] && [ -n "$(find out/big2 -name '*.partial')" ] &&
        [ -z "$(find out/big2 -name '*.ndjson')" ]; then
        ok "SIGTERM mid-stream: the checkpoint is saved, the run recorded interrupted, only the .partial exists"
    else
        not_ok "SIGTERM mid-stream: the checkpoint is saved" "phase/rows/bytes: $phase; last run: $last" "$(ls out/big2)"
    fi
    grep -q 'interrupted (exit 130)' "$T/d2.log" && grep -q 'stopping: waiting for 1 running job to checkpoint and end' "$T/d2.log" &&
        ok "the log says the job was interrupted" || not_ok "the log says the job was interrupted" "$(cat "$T/d2.log")"
    check "after the daemon's SIGTERM, run resumes the job" "$SLUICE" run d2.yml -v
    grep -q 'resuming job' "$E2E_ERR" && ok "run resumed rather than starting over" || not_ok "run resumed rather than starting over" "$(cat "$E2E_ERR")"
    same_file "the resumed backup is whole" "$T/ref.ndjson" "$(find out/big2 -name '*.ndjson')"
else
    kill -TERM "$D" 2>/dev/null || true
    wait "$D" || true
    not_ok "the daemon was caught mid-stream" "$(cat "$T/d2.log")"
fi

# ---- kill -9 mid-stream; the restarted daemon resumes at once -----------------
manifest d3.yml d3.db "big3 big 0_*_*_*_* 1"
SLUICE_NOW=2031-01-01T00:00:30Z "$SLUICE" daemon d3.yml >/dev/null 2>"$T/d3.log" &
D=$!
if wait_for 120 partial_over out/big3 100000; then
    kill -KILL "$D"
    wait "$D" 2>/dev/null || true
    ok "the daemon was killed mid-stream"
else
    kill -KILL "$D" 2>/dev/null || true
    wait "$D" 2>/dev/null || true
    not_ok "the daemon was caught mid-stream" "$(cat "$T/d3.log")"
fi
# Restarted 10 schedule minutes later: no fire of "0 * * * *" since, but
# the killed job is due at once.
SLUICE_NOW=2031-01-01T00:10:00Z "$SLUICE" daemon d3.yml >/dev/null 2>"$T/d3b.log" &
D=$!
if wait_for 120 at_least done_runs d3.db big3 1; then ok "the restarted daemon finished the killed job"
else not_ok "the restarted daemon finished the killed job" "$(cat "$T/d3b.log")"; fi
stop_daemon "$D" "after kill -9"
grep -q 'due: its last run was interrupted; resumes its unfinished job' "$T/d3b.log" &&
    ok "the restarted daemon says why it ran the stream" || not_ok "the restarted daemon says why it ran the stream" "$(cat "$T/d3b.log")"
if [ "$(find out/big3 -name '*.ndjson' | wc -l)" -eq 1 ] && [ -z "$(find out/big3 -name '*.partial')" ]; then
    same_file "after kill -9: one backup, every row once, in order" "$T/ref.ndjson" "$(find out/big3 -name '*.ndjson')"
else
    not_ok "after kill -9: one backup" "$(ls out/big3)"
fi

# ---- SIGHUP: a bad manifest keeps the old one; a good one is taken -------------
manifest d4.yml d4.db "tock small *_*_*_*_* 1"
SLUICE_NOW=2031-01-01T00:00:30Z SLUICE_NOW_RATE=60 "$SLUICE" daemon d4.yml >/dev/null 2>"$T/d4.log" &
D=$!
wait_for 60 at_least done_runs d4.db tock 1 || true
sed -i 's/schedule: "\* \* \* \* \*"/schedule: "61 * * * *"/' d4.yml
kill -HUP "$D"
if wait_for 60 grep -q 'reload failed; the running manifest stays: d4.yml:[0-9]*: streams\[0\].schedule: minute: 61 is out of range 0-59' "$T/d4.log"; then
    ok "SIGHUP with a bad manifest: logged with its file:line, the old one stays"
else
    not_ok "SIGHUP with a bad manifest: logged with its file:line, the old one stays" "$(cat "$T/d4.log")"
fi
before=$(done_runs d4.db tock)
if wait_for 60 at_least done_runs d4.db tock $((before + 1)); then ok "after a bad reload the old schedule still fires"
else not_ok "after a bad reload the old schedule still fires" "$(tail -n 3 "$T/d4.log")"; fi
manifest d4.yml d4.db "tock small *_*_*_*_* 1" "tack small *_*_*_*_* 1"
kill -HUP "$D"
if wait_for 60 at_least done_runs d4.db tack 1 && grep -q 'reloaded d4.yml: 2 streams' "$T/d4.log"; then
    ok "SIGHUP with a good manifest: the new stream runs"
else
    not_ok "SIGHUP with a good manifest: the new stream runs" "$(tail -n 5 "$T/d4.log")"
fi
sed -i '1i timezone: Europe/Berlin' d4.yml
kill -HUP "$D"
if wait_for 60 grep -q 'reload refused; the running manifest stays: timezone changed from UTC to Europe/Berlin' "$T/d4.log"; then
    ok "SIGHUP with a new timezone: refused, needs a restart"
else
    not_ok "SIGHUP with a new timezone: refused, needs a restart" "$(tail -n 3 "$T/d4.log")"
fi
stop_daemon "$D" "reloads"

# ---- fires missed while the daemon was down run once at start-up ---------------
manifest d5.yml d5.db "hourly small 0_*_*_*_* 5"
check "a first run, by hand" "$SLUICE" run d5.yml
R=$(q d5.db "SELECT started_at FROM runs WHERE stream='hourly'")
# Three hours later, half past: the fires at :00 of three hours were missed.
read -r NOW FIRE < <(python3 -c '
import datetime, sys
r = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
h = r.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=3)
f = "%Y-%m-%dT%H:%M:%SZ"
print((h + datetime.timedelta(minutes=30)).strftime(f), h.strftime(f))' "$R")
SLUICE_NOW=$NOW "$SLUICE" daemon d5.yml >/dev/null 2>"$T/d5.log" &
D=$!
wait_for 60 at_least done_runs d5.db hourly 2 || true
sleep 1 # time for a wrong second catch-up run to show
stop_daemon "$D" "missed fires"
if [ "$(done_runs d5.db hourly)" -eq 2 ] &&
    grep -q "due: the fire at $FIRE came after its last run started" "$T/d5.log"; then
    ok "three missed fires: one run at start-up, for the latest"
else
    not_ok "three missed fires: one run at start-up, for the latest" "runs: $(done_runs d5.db hourly)" "$(cat "$T/d5.log")"
fi

# ---- a bad manifest at start-up -------------------------------------------------
printf 'streams:\n  - {name: x, table: t, shedule: "@daily"}\n' >bad.yml
expect_exit 2 "a bad manifest: the daemon does not start (exit 2)" "$SLUICE" daemon bad.yml
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] &&
    grep -q "bad.yml:2: streams\[0\].shedule: unknown key in a stream; did you mean 'schedule'?" "$E2E_ERR"; then
    ok "a bad manifest: one line naming file, line and key"
else
    not_ok "a bad manifest: one line naming file, line and key" "$(cat "$E2E_ERR")"
fi

finish
