#!/bin/sh
# mysql_errors.sh - MySQL/MariaDB failures end with the documented exit code
# and a one-line message carrying the server's text (and the SQL), never the
# password; and the ways to give a password without the URL work (option
# file, ~/.my.cnf, MYSQL_PWD, socket).
. "$(dirname "$0")/mysql_lib.sh"

cd "$WORK"
H=$SLUICE_TEST_MYSQL_HOST
P=$SLUICE_TEST_MYSQL_PORT
my -e "DROP TABLE IF EXISTS enumk;
CREATE TABLE enumk (e ENUM('x','y') NOT NULL PRIMARY KEY); INSERT INTO enumk VALUES ('y'), ('x');"

n=0
# expect CODE PATTERN -- sluice args...: exit code and a stderr line matching PATTERN.
expect() {
    code=$1 pat=$2
    shift 3
    n=$((n + 1))
    set +e
    "$SLUICE" "$@" --state "st$n.db" -o "out$n.ndjson" >"stdout$n" 2>"err$n"
    rc=$?
    set -e
    lines=$(wc -l <"err$n")
    if [ -z "$pat" ]; then matched=$([ "$lines" -eq 0 ] && echo y || echo n)
    elif grep -Eq -- "$pat" "err$n"; then matched=y; else matched=n; fi
    if [ $rc -eq "$code" ] && [ $matched = y ] && [ "$lines" -le 1 ]; then
        ok "exit $code: $(head -c 150 "err$n")"
    else
        not_ok "expected exit $code matching /$pat/, got $rc: $(cat "err$n")"
    fi
}

expect 3 "no table nosuch" -- extract "$URL" nosuch
expect 3 "Unknown column 'nope'.*in: SELECT .*FROM \`sluicetest\`\.\`ck\`" -- extract "$URL" ck --where "nope = 1"
expect 3 "error 1064" -- extract "$URL" ck --where "grp = = 1"
expect 3 "a \\? outside a string in --where" -- extract "$URL" ck --where "grp = ?"
expect 0 "" -- extract "$URL" ck --where "name <> 'a?b'"
expect 4 "Access denied for user 'sluice'" -- extract "mysql://sluice:wrong@$H:$P/sluicetest" ck
expect 4 "cannot connect.*nosuchdb" -- extract "mysql://sluice:$PWURL@$H:$P/nosuchdb" ck
expect 4 "cannot connect" -- extract "mysql://sluice:$PWURL@127.0.0.1:1/sluicetest" ck
TLS_WHERE="(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher') <> ''"
NOTLS_WHERE="(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher') = ''"
T=${SLUICE_TEST_MYSQL_TLS_DIR:-}
if [ -n "$T" ]; then
    # tls URL-OPTIONS WHERE: 12 rows of ck means WHERE held on that connection.
    tls() {
        n=$((n + 1))
        "$SLUICE" extract "$URL$1" ck --where "$2" --state "st$n.db" >"stdout$n" 2>"err$n" \
            && [ "$(wc -l <"stdout$n")" = 12 ] && ok "TLS: $3" || not_ok "TLS: $3: $(cat "err$n")"
    }
    tls "?ssl-mode=required" "$TLS_WHERE" "ssl-mode=required negotiates TLS"
    tls "?ssl-mode=preferred" "$TLS_WHERE" "ssl-mode=preferred uses the server's TLS"
    tls "?ssl-mode=VERIFY_CA&ssl-ca=$T/ca.pem" "$TLS_WHERE" "verify_ca with the right CA"
    tls "?ssl-ca=$T/ca.pem" "$TLS_WHERE" "ssl-ca alone verifies"
    tls "?ssl_mode=verify_identity&ssl_ca=$T/ca.pem" "$TLS_WHERE" "verify_identity for 127.0.0.1"
    tls "?ssl-mode=disabled" "$NOTLS_WHERE" "ssl-mode=disabled is plain text"
    tls "" "$NOTLS_WHERE" "no ssl option: plain text"
    expect 4 "cannot connect.*(certificate|TLS|SSL)" -- extract "$URL?ssl-mode=verify_ca&ssl-ca=$T/other-ca.pem" ck
    expect 4 "cannot connect.*(certificate|TLS|SSL)" -- extract "$URL?ssl-ca=$T/other-ca.pem" ck
else
    expect 4 "ssl-mode=required but the server did not negotiate TLS" -- extract "$URL?ssl-mode=required" ck
fi
expect 2 "ssl-mode must be" -- extract "$URL?ssl-mode=sometimes" ck
expect 2 "unknown URL option 'sslmodee'" -- extract "$URL?sslmodee=1" ck
expect 2 "bad % escape" -- extract "mysql://sluice:%zz@$H:$P/sluicetest" ck
expect 2 "--key" -- extract "$URL" nokey
expect 2 "key column 'e' \\(enum\\('x','y'\\)\\) cannot page a table: its sort order" -- extract "$URL" enumk
expect 4 "Access denied for user 'sluice_weak'.*sluicetest" -- extract "mysql://sluice_weak:$PWURL@$H:$P/sluicetest" ck
expect 3 "no table sluicetest.ck.*not visible" -- extract "mysql://sluice_weak:$PWURL@$H:$P" sluicetest.ck

# Passwords from elsewhere than the URL.
printf '[client]\nuser=sluice\npassword=%s\n' "$PW" >"$WORK/client.cnf"
chmod 600 "$WORK/client.cnf"
expect 0 "" -- extract "mysql://$H:$P/sluicetest?defaults-file=$WORK/client.cnf" ck
# A defaults-file that cannot be read is refused (the mariadb client does),
# even when the URL has all the credentials it needs.
expect 2 "defaults-file $WORK/nosuch.cnf: No such file" -- extract "$URL?defaults-file=$WORK/nosuch.cnf" ck
[ ! -e "out$n.ndjson" ] && [ ! -e "out$n.ndjson.partial" ] && [ ! -e "st$n.db" ] \
    && ok "a missing defaults-file leaves no output and no state store" \
    || not_ok "a missing defaults-file left files: $(ls out$n* st$n* 2>&1)"
mkdir -p cnfdir
expect 2 "defaults-file $WORK/cnfdir: Is a directory" -- extract "mysql://$H:$P/sluicetest?defaults-file=$WORK/cnfdir" ck
mkdir -p home
cp client.cnf home/.my.cnf
n=$((n + 1))
HOME=$WORK/home "$SLUICE" extract "mysql://$H:$P/sluicetest" ck --where "CURRENT_USER() LIKE 'sluice@%'" \
    --state "st$n.db" >"stdout$n" 2>"err$n" && [ "$(wc -l <"stdout$n")" = 12 ] \
    && ok "~/.my.cnf [client] gives user and password" || not_ok "~/.my.cnf: $(cat "err$n")"
rm -f home/.my.cnf client.cnf
n=$((n + 1))
MYSQL_PWD=$PW "$SLUICE" extract "mysql://sluice@$H:$P/sluicetest" ck --state "st$n.db" >"stdout$n" 2>"err$n" \
    && [ "$(wc -l <"stdout$n")" = 12 ] && ok "MYSQL_PWD" || not_ok "MYSQL_PWD: $(cat "err$n")"
n=$((n + 1))
"$SLUICE" extract "mariadb://sluice:$PWURL@localhost/sluicetest?socket=$SLUICE_TEST_MYSQL_SOCKET" ck \
    --paging cursor --state "st$n.db" >"stdout$n" 2>"err$n" \
    && [ "$(wc -l <"stdout$n")" = 12 ] && ok "mariadb:// over the unix socket" || not_ok "socket: $(cat "err$n")"

# The server kills the connection in the middle of a stream: exit 4.
if [ -n "${SLUICE_TEST_MYSQL_ROOT:-}" ]; then
    n=$((n + 1))
    set +e
    python3 - "$SLUICE" "$URL" "$SLUICE_TEST_MYSQL_ROOT" >"stdout$n" 2>"err$n" <<'EOF'
import shlex, subprocess, sys, time
sluice, url, root = sys.argv[1], sys.argv[2], shlex.split(sys.argv[3])
p = subprocess.Popen([sluice, "extract", url, "big", "--paging", "cursor", "--state", "stkill.db",
                      "--progress", "never"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdout.read(4096)  # the stream has begun; sluice now blocks on the full pipe
time.sleep(0.3)
ids = subprocess.run(root + ["-N", "-e", "SELECT ID FROM information_schema.PROCESSLIST "
                             "WHERE USER = 'sluice' AND INFO LIKE 'SELECT%big%'"],
                     check=True, capture_output=True, text=True).stdout.split()
for i in ids:
    subprocess.run(root + ["-e", f"KILL {int(i)}"], check=True)
p.stdout.read()
err = p.stderr.read().decode()
rc = p.wait()
sys.stderr.write(err)
print(f"killed {len(ids)} connection(s), sluice exited {rc}")
sys.exit(0 if ids and rc == 4 and ("Lost connection" in err or "server has gone away" in err
                                   or "killed" in err.lower() or "error 20" in err) else 1)
EOF
    rc=$?
    set -e
    [ $rc -eq 0 ] && ok "connection killed mid-stream: exit 4 ($(tail -1 "stdout$n"); $(head -c 120 "err$n"))" \
        || not_ok "connection killed mid-stream: $(cat "stdout$n" "err$n")"
fi
check_no_password
[ $FAILS -eq 0 ]
