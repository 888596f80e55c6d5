#!/usr/bin/env bash
# install.sh - `make install` and `make uninstall` as a packager or an admin
# runs them: below DESTDIR, under PREFIX, the binary runs, every man page
# under man/ renders with man, the bash completion completes with the
# installed binary, and uninstall leaves nothing behind.
# SLUICE_BUILD: the build tree the Makefile installs from (this test's).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
: "${SLUICE_BUILD:?SLUICE_BUILD must name the build tree}"

# make TARGET VAR=VALUE...: the top-level Makefile on this build tree, with
# its flags as they are (CMAKE_FLAGS empty: the build stays as configured).
run_make() {
    make -C "$SLUICE_SRC" --no-print-directory BUILD="$SLUICE_BUILD" CMAKE_FLAGS= "$@"
}

sqlite3 -bail "$T/shop.db" <<'SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
SQL
version=$("$SLUICE" --version)
pages=$(cd "$SLUICE_SRC/man" && ls -- *.[1-9])

# installed ROOT PREFIX: the checks of one installation.
installed() {
    local root=$1 prefix=$2
    local bin=$root$prefix/bin/sluice
    if [ -x "$bin" ] && [ "$("$bin" --version)" = "$version" ]; then
        ok "PREFIX=$prefix: bin/sluice runs: $version"
    else
        not_ok "PREFIX=$prefix: bin/sluice runs" "$(find "$root" | head -n 30)"
    fi
    if "$bin" extract "$T/shop.db" t --state "$T/state.db" 2>&1 | grep -qx '{"id":2,"v":"two"}'; then
        ok "PREFIX=$prefix: the installed binary extracts a table"
    else
        not_ok "PREFIX=$prefix: the installed binary extracts a table"
    fi
    local page section gz rendered
    for page in $pages; do
        section=${page##*.}
        gz=$root$prefix/share/man/man$section/$page.gz
        rendered=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$gz" 2>"$T/man.err" || true)
        if [ -f "$gz" ] && [ "$(stat -c %a "$gz")" = 644 ] && grep -q '^NAME' <<<"$rendered" &&
            [ ! -s "$T/man.err" ]; then
            ok "PREFIX=$prefix: share/man/man$section/$page.gz installed, renders with man -l"
        else
            not_ok "PREFIX=$prefix: share/man/man$section/$page.gz installed, renders with man -l" \
                "$(cat "$T/man.err")"
        fi
    done
    # `man sluice` finds it where man looks under PREFIX.
    if MANPATH=$root$prefix/share/man LC_ALL=C.UTF-8 MANWIDTH=80 man sluice 2>/dev/null |
        grep -q 'sluice extract SOURCE TABLE'; then
        ok "PREFIX=$prefix: man sluice reads it from share/man"
    else
        not_ok "PREFIX=$prefix: man sluice reads it from share/man"
    fi
    local comp=$root$prefix/share/bash-completion/completions/sluice
    local got
    got=$(bash -c '. "$1" && complete -p sluice && COMP_WORDS=("$2" ex) COMP_CWORD=1 && _sluice &&
                   echo "${COMPREPLY[*]}"' _ "$comp" "$bin" 2>&1 || true)
    if [ "$got" = "complete -F _sluice sluice
extract" ]; then
        ok "PREFIX=$prefix: share/bash-completion/completions/sluice completes sluice ex<TAB>"
    else
        not_ok "PREFIX=$prefix: share/bash-completion/completions/sluice completes sluice ex<TAB>" "$got"
    fi
}

# uninstalled ROOT: make uninstall with that DESTDIR leaves no file.
uninstalled() {
    local root=$1 left
    if run_make uninstall DESTDIR="$root" >"$T/uninstall.log" 2>&1; then
        left=$(find "$root" ! -type d)
        if [ -z "$left" ]; then
            ok "make uninstall DESTDIR=... removes every installed file"
        else
            not_ok "make uninstall DESTDIR=... removes every installed file" "left: $left"
        fi
    else
        not_ok "make uninstall DESTDIR=... runs" "$(tail -n 5 "$T/uninstall.log")"
    fi
}

# ---- the default PREFIX ---------------------------------------------------------
if run_make install DESTDIR="$T/root" >"$T/install.log" 2>&1; then
    ok "make install DESTDIR=..."
else
    not_ok "make install DESTDIR=..." "$(tail -n 10 "$T/install.log")"
fi
installed "$T/root" /usr/local
outside=$(cd "$T/root" && find . ! -type d ! -path './usr/local/*')
if [ -z "$outside" ]; then
    ok "nothing is installed outside DESTDIR/usr/local"
else
    not_ok "nothing is installed outside DESTDIR/usr/local" "$outside"
fi
uninstalled "$T/root"

# ---- another PREFIX ----------------------------------------------------------------
if run_make install PREFIX=/opt/sluice DESTDIR="$T/opt" >"$T/install.log" 2>&1; then
    ok "make install PREFIX=/opt/sluice DESTDIR=..."
else
    not_ok "make install PREFIX=/opt/sluice DESTDIR=..." "$(tail -n 10 "$T/install.log")"
fi
installed "$T/opt" /opt/sluice
outside=$(cd "$T/opt" && find . ! -type d ! -path './opt/sluice/*')
if [ -z "$outside" ]; then
    ok "nothing is installed outside DESTDIR/opt/sluice"
else
    not_ok "nothing is installed outside DESTDIR/opt/sluice" "$outside"
fi
uninstalled "$T/opt"
finish
