#!/bin/sh
# pg-server.sh start|stop DIR - a throwaway PostgreSQL server for tests.
#
# start: initdb in DIR/data, listen on a unix socket in DIR and on a free TCP
# port of 127.0.0.1 (trust auth, except the password role), fsync off, and
# write DIR/env for `. DIR/env`:
#   SLUICE_TEST_PG_URL      postgresql://postgres@127.0.0.1:PORT/postgres
#   SLUICE_TEST_PG_PW_URL   the same as role sluice_pw with its password
#   SLUICE_TEST_PG_PASSWORD that password (tests check it never appears)
#   SLUICE_TEST_PG_NOPERM_URL  role sluice_noperm: may connect, reads nothing
#   SLUICE_TEST_PG_BIN      the server's bin directory (psql, pg_ctl)
#   SLUICE_TEST_PG_SOCKDIR  the unix socket directory
# When run as root the server runs as the unprivileged user sluicetest
# (created if missing) and DIR is chowned to it.
# A cluster left in DIR by an earlier run is stopped and replaced.
# stop: pg_ctl stop -m fast.
set -eu

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    bindir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")
fi
[ -x "$bindir/pg_ctl" ] || { echo "pg-server.sh: no PostgreSQL server binaries found" >&2; exit 1; }

as_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u sluicetest -- "$@"
    else
        "$@"
    fi
}

case $cmd in
start)
    if [ "$(id -u)" = 0 ]; then
        id sluicetest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin sluicetest
        chown -R sluicetest "$dir"
    fi
    # A cluster left by an earlier run (make check run twice, or a run that
    # was killed) is throwaway too: stop it and start from a new one. Only a
    # PostgreSQL data directory is ever removed.
    if [ -f "$dir/data/PG_VERSION" ]; then
        [ ! -f "$dir/data/postmaster.pid" ] ||
            as_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$dir/data"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print("pw" + secrets.token_hex(12))')
    as_user "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        as_user "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all sluice_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
EOF
    as_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40" \
        start >/dev/null
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres <<EOF
CREATE ROLE sluice_pw LOGIN PASSWORD '$password';
GRANT pg_read_all_data TO sluice_pw;
CREATE ROLE sluice_noperm LOGIN;
EOF
    cat >"$dir/env" <<EOF
export SLUICE_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres
export SLUICE_TEST_PG_PW_URL=postgresql://sluice_pw:$password@127.0.0.1:$port/postgres
export SLUICE_TEST_PG_PASSWORD=$password
export SLUICE_TEST_PG_NOPERM_URL=postgresql://sluice_noperm@127.0.0.1:$port/postgres
export SLUICE_TEST_PG_BIN=$bindir
export SLUICE_TEST_PG_SOCKDIR=$dir
export SLUICE_TEST_PG_PORT=$port
EOF
    echo "postgres listening on 127.0.0.1:$port and $dir; . $dir/env"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    usage
    ;;
esac
