#!/bin/sh
# mariadb-server.sh start|stop|status DIR - a throwaway MariaDB server for tests.
#
# start: initialises DIR/data, starts mariadbd on a free TCP port of
# 127.0.0.1 and on DIR/sock, creates database `sluicetest` and user `sluice`
# with a random password (real authentication, so tests can prove the
# password never leaks), and writes DIR/env:
#   SLUICE_TEST_MYSQL_URL       mysql://sluice:PW@127.0.0.1:PORT/sluicetest
#   SLUICE_TEST_MYSQL_HOST/PORT/USER/PASSWORD/DB/SOCKET  (the same, in parts)
#   SLUICE_TEST_MYSQL_ROOT      a client command line for root over the socket
#   SLUICE_TEST_MYSQL_TLS_DIR   ca.pem (signed the server's certificate for
#                               127.0.0.1) and other-ca.pem; empty without openssl
# The server's default time zone is +05:30, so tests prove that TIMESTAMP
# values are converted to UTC by sluice's session time zone.
# stop: shuts the server down (mariadb-admin shutdown, then the pid).
set -eu

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

find_bin() {
    for b in "$@"; do
        if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
        for d in /usr/sbin /usr/bin /usr/local/bin /usr/local/sbin; do
            if [ -x "$d/$b" ]; then echo "$d/$b"; return 0; fi
        done
    done
    return 1
}

MYSQLD=$(find_bin mariadbd mysqld) || { echo "$0: mariadbd not found" >&2; exit 77; }
INSTALL=$(find_bin mariadb-install-db mysql_install_db) || { echo "$0: mariadb-install-db not found" >&2; exit 77; }
CLIENT=$(find_bin mariadb mysql) || { echo "$0: mariadb client not found" >&2; exit 77; }
ADMIN=$(find_bin mariadb-admin mysqladmin) || { echo "$0: mariadb-admin not found" >&2; exit 77; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

root_client() {
    "$CLIENT" --no-defaults -uroot --socket="$dir/sock" "$@"
}

start() {
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "$0: a server is already running in $dir" >&2
        exit 1
    fi
    userarg=
    if [ "$(id -u)" = 0 ]; then
        # mariadbd refuses to run as root: run it as mysql, which must be
        # able to reach and own its files.
        userarg=--user=mysql
        chmod 755 "$dir"
    fi
    if [ ! -d "$dir/data/mysql" ]; then
        mkdir -p "$dir/data"
        [ -z "$userarg" ] || chown mysql:mysql "$dir/data"
        "$INSTALL" --no-defaults $userarg --datadir="$dir/data" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/install.log" 2>&1 || {
            echo "$0: mariadb-install-db failed, see $dir/install.log" >&2; exit 1; }
    fi
    # TLS with a throwaway CA when openssl is there, so ssl-mode is testable.
    tlsargs=
    if command -v openssl >/dev/null 2>&1; then
        if [ ! -f "$dir/tls/server.pem" ]; then
            mkdir -p "$dir/tls"
            (
                cd "$dir/tls"
                ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                openssl req -x509 $ec -keyout ca.key -out ca.pem -days 3 -subj "/CN=sluice test CA"
                openssl req -x509 $ec -keyout other.key -out other-ca.pem -days 3 -subj "/CN=sluice other CA"
                openssl req $ec -keyout server.key -out server.csr -subj "/CN=localhost"
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                    -out server.pem -days 3 -extfile ext.cnf
            ) >"$dir/tls.log" 2>&1 || { echo "$0: openssl failed, see $dir/tls.log" >&2; exit 1; }
            [ -z "$userarg" ] || chown -R mysql:mysql "$dir/tls"
        fi
        tlsargs="--ssl-ca=$dir/tls/ca.pem --ssl-cert=$dir/tls/server.pem --ssl-key=$dir/tls/server.key"
    fi
    [ -z "$userarg" ] || chown mysql:mysql "$dir"
    port=$(free_port)
    rm -f "$dir/sock"
    "$MYSQLD" --no-defaults $userarg --datadir="$dir/data" \
        --socket="$dir/sock" --port="$port" --bind-address=127.0.0.1 \
        --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
        --default-time-zone=+05:30 --skip-name-resolve \
        --innodb-buffer-pool-size=256M --innodb-log-file-size=128M \
        --innodb-flush-log-at-trx-commit=2 --max-allowed-packet=64M \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci $tlsargs \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/pid"
    i=0
    until "$ADMIN" --no-defaults -uroot --socket="$dir/sock" ping >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            echo "$0: mariadbd did not start, see $dir/error.log" >&2
            tail -5 "$dir/error.log" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    # A password with URL-special characters proves percent-decoding.
    pw="Sl$(python3 -c 'import secrets; print(secrets.token_hex(8))')@:/?%"
    pwurl=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$pw")
    pwsql=$(printf '%s' "$pw" | sed "s/'/''/g")
    root_client <<EOF
CREATE DATABASE IF NOT EXISTS sluicetest CHARACTER SET utf8mb4;
DROP USER IF EXISTS 'sluice'@'%';
CREATE USER 'sluice'@'%' IDENTIFIED BY '$pwsql';
GRANT ALL ON sluicetest.* TO 'sluice'@'%';
DROP USER IF EXISTS 'sluice_weak'@'%';
CREATE USER 'sluice_weak'@'%' IDENTIFIED BY '$pwsql';
EOF
    umask 077
    cat >"$dir/env" <<EOF
export SLUICE_TEST_MYSQL_URL='mysql://sluice:$pwurl@127.0.0.1:$port/sluicetest'
export SLUICE_TEST_MYSQL_HOST=127.0.0.1
export SLUICE_TEST_MYSQL_PORT=$port
export SLUICE_TEST_MYSQL_USER=sluice
export SLUICE_TEST_MYSQL_PASSWORD='$pw'
export SLUICE_TEST_MYSQL_PASSWORD_URL='$pwurl'
export SLUICE_TEST_MYSQL_DB=sluicetest
export SLUICE_TEST_MYSQL_SOCKET='$dir/sock'
export SLUICE_TEST_MYSQL_TLS_DIR='${tlsargs:+$dir/tls}'
export SLUICE_TEST_MYSQL_ROOT='$CLIENT --no-defaults -uroot --socket=$dir/sock'
EOF
    echo "mariadb test server on 127.0.0.1:$port, env in $dir/env"
}

stop() {
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/pid" ] || exit 0
    pid=$(cat "$dir/pid")
    "$ADMIN" --no-defaults -uroot --socket="$dir/sock" shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 300 ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
        sleep 0.1
    done
    rm -f "$dir/pid"
}

case $cmd in
start) start ;;
stop) stop ;;
status)
    [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && { echo running; exit 0; }
    echo stopped; exit 1 ;;
*) usage ;;
esac
