#!/bin/sh
# mysql_resume.sh - kill -9 a MySQL extraction at several points, re-run the
# same command until it finishes, and require the file to be byte-identical
# to an uninterrupted run: for keyset, offset and cursor paging, over a
# 200,000-row table with a composite key (sql/mysql/fixtures.sql: big).
# The key (id, sub) has two sub per id: the page size and the checkpoint
# cadence are odd, so pages and checkpoints end on either sub and every
# next-page bound and every resume point also falls inside an id.
. "$(dirname "$0")/mysql_lib.sh"

cd "$WORK"
for paging in keyset offset cursor; do
    "$SLUICE" extract "$URL" big -o "ref.$paging.ndjson" --paging "$paging" \
        --state ref.db -q 2>"ref.$paging.err" || { not_ok "$paging: reference run failed"; cat "ref.$paging.err"; continue; }
    if python3 - "$SLUICE" "$URL" "$paging" <<'EOF'
import os, signal, subprocess, sys, time
sluice, url, paging = sys.argv[1:4]
out = f"killed.{paging}.ndjson"
cmd = [sluice, "extract", url, "big", "-o", out, "--paging", paging,
       "--page-size", "701", "--checkpoint-every", "1499",
       "--state", f"killed.{paging}.db", "-v", "--progress", "never"]
err = open(f"killed.{paging}.err", "ab")
def partial_size():
    sizes = [os.path.getsize(f) for f in os.listdir(".")
             if f.startswith(out) and f != out and "partial" in f]
    return max(sizes) if sizes else 0
kills, resumed = 0, 0
targets = [300_000, 2_000_000, 5_000_000, 9_000_000, 14_000_000]
for attempt in range(40):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    target = targets[kills] if kills < len(targets) else None
    while p.poll() is None:
        if target is not None and partial_size() >= target:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            break
        time.sleep(0.002)
    if p.returncode == 0:
        break
    if p.returncode != -signal.SIGKILL:
        print(f"{paging}: run exited {p.returncode}")
        sys.exit(1)
else:
    print(f"{paging}: never finished")
    sys.exit(1)
err.close()
log = open(f"killed.{paging}.err", encoding="utf-8", errors="replace").read()
resumed = log.count("resuming")
print(f"{paging}: {kills} kill -9, {resumed} resumed runs")
sys.exit(0 if kills >= 3 and resumed >= 3 else 1)
EOF
    then
        if cmp -s "ref.$paging.ndjson" "killed.$paging.ndjson"; then
            ok "$paging: killed and resumed output is byte-identical ($(wc -l <"ref.$paging.ndjson") rows)"
        else
            not_ok "$paging: output differs from the uninterrupted run"
        fi
    else
        not_ok "$paging: kill/resume loop failed"
    fi
done
if cmp -s ref.keyset.ndjson ref.offset.ndjson && cmp -s ref.keyset.ndjson ref.cursor.ndjson; then
    ok "keyset, offset and cursor write the same bytes"
else
    not_ok "the three pagings disagree"
fi
rows=$(my -N -B -e 'SELECT COUNT(*) FROM big')
[ "$(wc -l <ref.keyset.ndjson)" = "$rows" ] && ok "every row once ($rows)" || not_ok "row count differs from the server's $rows"
check_no_password
[ $FAILS -eq 0 ]
