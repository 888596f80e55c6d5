#!/bin/sh
# mysql_keys.sh - keys whose next-page bound is easy to get wrong page
# correctly: every row once, in the server's order, with keyset and cursor
# paging and after kill -9 and a re-run (byte-identical to one run).
#   BIT keys (bound as the unsigned integer of their bits, not as X'..',
#   which compares as bytes): b_big, BIT(64) with values past INT64_MAX;
#   b_comp, (BIT(1), INT), where the old bound never moved and the scan
#   never ended.
#   Text keys holding NUL, backslash, quotes, tab, newline and multibyte
#   characters (utf8mb4_bin and utf8mb4_general_ci) and binary keys with the
#   same bytes, with the session in the default sql_mode and in
#   NO_BACKSLASH_ESCAPES,ANSI_QUOTES set by an option file's init-command.
# A scan that writes more rows than its table holds is killed and failed,
# so a paging loop shows as a failure, never as a hang.
. "$(dirname "$0")/mysql_lib.sh"

cd "$WORK"
my <<'EOF'
DROP TABLE IF EXISTS b_big, b_comp, k_nasty, k_bin, k_ci, k_vb;
CREATE TABLE b_big (k BIT(64) NOT NULL PRIMARY KEY, v BIGINT NOT NULL);
INSERT INTO b_big SELECT seq, seq FROM seq_1_to_20001;
INSERT INTO b_big VALUES (9223372036854775807, -1), (9223372036854775808, -2),
                         (18446744073709551615, -3);
CREATE TABLE b_comp (flag BIT(1) NOT NULL, id INT NOT NULL, PRIMARY KEY (flag, id));
INSERT INTO b_comp SELECT seq % 2, seq FROM seq_1_to_25000;
CREATE TABLE k_nasty (s VARCHAR(20) NOT NULL, i INT NOT NULL) CHARSET utf8mb4;
INSERT INTO k_nasty VALUES ('a', 1), (CONCAT('a', CHAR(0), 'b'), 2), ('a\\b', 3), ('it''s', 4),
  ('\\', 5), ('''', 6), ('x\\', 7), (CONCAT('z', CHAR(0)), 8), ('héllo', 9), ('😀', 10),
  (CONCAT('''\\', CHAR(0), '"'), 11), ('tab\tnl\n', 12), ('\\0', 13), ('%_`', 14), ('', 15),
  (CONCAT(CHAR(0), CHAR(0)), 16), ('\\''', 17);
CREATE TABLE k_bin (k VARCHAR(40) NOT NULL PRIMARY KEY, v INT NOT NULL)
  CHARSET utf8mb4 COLLATE utf8mb4_bin;
INSERT INTO k_bin SELECT CONCAT(LPAD(seq, 3, '0'), s), i * 1000 + seq FROM k_nasty, seq_1_to_200;
CREATE TABLE k_ci (k VARCHAR(40) NOT NULL PRIMARY KEY, v INT NOT NULL)
  CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
INSERT INTO k_ci SELECT k, v FROM k_bin;
CREATE TABLE k_vb (k VARBINARY(40) NOT NULL PRIMARY KEY, v INT NOT NULL);
INSERT INTO k_vb SELECT CAST(k AS BINARY), v FROM k_bin;
ANALYZE TABLE b_big, b_comp, k_bin, k_ci, k_vb;
EOF
# The session in the other quoting mode, as an option file can set it.
cat >nbe.cnf <<'EOF'
[client]
init-command=SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES,ANSI_QUOTES')
EOF
NBE="$URL?defaults-file=$WORK/nbe.cnf"
# Proves the option file is in effect: with it, this --where holds.
IN_NBE="@@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'"

# expected TABLE: the server's v, in key order, one per line.
expected() { my -N -B -e "SELECT v FROM $1 ORDER BY k" >"$1.want"; }
for t in b_big k_bin k_ci k_vb; do expected "$t"; done
my -N -B -e "SELECT id FROM b_comp ORDER BY flag, id" >b_comp.want

# capped OUT ROWS ARGS...: sluice ARGS with stdout into OUT, killed when OUT
# passes ROWS lines (a loop). Its exit code, or 99 when it was killed.
capped() {
    python3 - "$@" <<'PY'
import subprocess, sys
out, rows, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
n = 0
with open(out, "wb") as f:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    for line in p.stdout:
        f.write(line)
        n += 1
        if n > rows:
            p.kill()
            p.wait()
            print(f"killed: more than {rows} rows", file=sys.stderr)
            sys.exit(99)
    sys.exit(p.wait())
PY
}

# field FILE NAME: the JSON field NAME of every line of FILE.
field() {
    python3 -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    print(json.loads(l)[sys.argv[2]])' "$1" "$2"
}

# scan WHAT TABLE FIELD URL ARGS...: keyset and cursor paging, to stdout.
scan() {
    what=$1 t=$2 f=$3 u=$4
    shift 4
    rows=$(wc -l <"$t.want")
    for paging in keyset cursor; do
        n=$((n + 1))
        if capped "$t.$n.ndjson" "$rows" "$SLUICE" extract "$u" "$t" --paging $paging -q \
            --state scan.db "$@" 2>"$t.$n.err" && field "$t.$n.ndjson" "$f" | cmp -s - "$t.want"; then
            ok "$what, $paging: $rows rows, each once, in the server's order"
        else
            not_ok "$what, $paging: $(wc -l <"$t.$n.ndjson") rows for $rows, or out of order $(cat "$t.$n.err")"
            eval "broken_$t=1"
        fi
    done
}

# resume WHAT TABLE URL ARGS...: kill -9 at three sizes of the output, re-run
# until done; the file must be byte-identical to one uninterrupted run.
resume() {
    what=$1 t=$2 u=$3
    shift 3
    n=$((n + 1))
    if eval "[ -n \"\${broken_$t:-}\" ]"; then
        not_ok "$what: not tried, as its scans failed (a scan that never ends would hang here)"
        return
    fi
    set -- "$SLUICE" extract "$u" "$t" --checkpoint-every 50 --progress never "$@"
    "$@" -o "$t.$n.ref" --state "ref.$n.db" -q 2>"$t.$n.err" || { not_ok "$what: reference run: $(cat "$t.$n.err")"; return; }
    if python3 - "$t.$n.out" "$(wc -c <"$t.$n.ref")" "$@" --state "killed.$n.db" <<'PY'
import os, signal, subprocess, sys, time
out, size, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:] + ["-o", sys.argv[1]]
targets = [size // 5, size // 2, size * 4 // 5]
kills = 0
for attempt in range(10):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = targets[kills] if kills < len(targets) else None
    while p.poll() is None:
        part = out + ".partial"
        if target is not None and os.path.exists(part) and os.path.getsize(part) >= target:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            break
        time.sleep(0.002)
    if p.returncode == 0:
        break
    if p.returncode != -signal.SIGKILL:
        print(f"run exited {p.returncode}")
        sys.exit(1)
print(f"# {kills} kill -9")
sys.exit(0 if kills >= 1 and p.returncode == 0 else 1)
PY
    then
        cmp -s "$t.$n.ref" "$t.$n.out" && ok "$what: killed and re-run, byte-identical to one run" \
            || not_ok "$what: killed and re-run: the file differs from one run"
    else
        not_ok "$what: kill -9 and re-run did not complete"
    fi
}

n=0
# BIT keys. The default page size: pages of 256, 1024, 4096 and 10000 rows
# end on every kind of value.
scan "BIT(64) key b_big" b_big v "$URL"
scan "BIT(64) key b_big, pages of 7" b_big v "$URL" --page-size 7
scan "(BIT(1), INT) key b_comp" b_comp id "$URL"
scan "(BIT(1), INT) key b_comp, pages of 999" b_comp id "$URL" --page-size 999
# SLEEP makes each run last long enough to be killed, whatever the machine.
resume "BIT key b_comp" b_comp "$URL" --page-size 333 --where "SLEEP(0.0001) = 0"
resume "BIT(64) key b_big" b_big "$URL" --page-size 333 --where "SLEEP(0.0001) = 0"

# Text and binary keys, in both quoting modes.
for t in k_bin k_ci k_vb; do
    scan "$t, default sql_mode" $t v "$URL" --page-size 7
    scan "$t, NO_BACKSLASH_ESCAPES,ANSI_QUOTES" $t v "$NBE" --page-size 7 --where "$IN_NBE"
done
resume "k_bin, NO_BACKSLASH_ESCAPES,ANSI_QUOTES" k_bin "$NBE" --page-size 7 \
    --where "$IN_NBE AND SLEEP(0.0005) = 0"
resume "k_bin, default sql_mode" k_bin "$URL" --page-size 7 --where "SLEEP(0.0005) = 0"
# The values themselves, byte for byte.
"$SLUICE" extract "$NBE" k_bin --page-size 7 --where "$IN_NBE" --state scan.db -q >k_bin.ndjson 2>k_bin.err || true
my -N -B -e "SELECT HEX(k) FROM k_bin ORDER BY k" >k_bin.hex
if python3 - k_bin.ndjson k_bin.hex <<'PY'
import json, sys
got = [json.loads(l)["k"].encode("utf-8") for l in open(sys.argv[1], encoding="utf-8")]
want = [bytes.fromhex(h) for h in open(sys.argv[2]).read().split()]
sys.exit(0 if got == want and len(want) == 3400 else 1)
PY
then ok "k_bin: every key's bytes as the server has them"; else not_ok "k_bin: keys' bytes differ: $(cat k_bin.err)"; fi
check_no_password
[ $FAILS -eq 0 ]
