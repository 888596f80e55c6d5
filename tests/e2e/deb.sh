#!/usr/bin/env bash
# deb.sh - `make deb`: the package declares every shared library the binary
# needs, holds the binary, every man page under man/ and the bash
# completion (nothing else), and unpacked into a scratch root (dpkg -x) its
# sluice runs and its man page renders.
# SLUICE_BUILD: the build tree the Makefile packages (this test's).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
: "${SLUICE_BUILD:?SLUICE_BUILD must name the build tree}"
for tool in dpkg-deb dpkg-shlibdeps file; do
    if ! command -v "$tool" >/dev/null; then
        not_ok "$tool is installed (scripts/install-deps.sh build: dpkg-dev, file)"
        finish
    fi
done

if make -C "$SLUICE_SRC" --no-print-directory BUILD="$SLUICE_BUILD" CMAKE_FLAGS= deb \
    >"$T/deb.log" 2>&1; then
    ok "make deb"
else
    not_ok "make deb" "$(tail -n 15 "$T/deb.log")"
    finish
fi
deb=$(sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' "$T/deb.log" | tail -n 1)
if [ -f "$deb" ]; then
    ok "the package: $(basename "$deb")"
else
    not_ok "the package is named in make deb's output" "$(tail -n 5 "$T/deb.log")"
    finish
fi

# ---- control fields ----------------------------------------------------------------
version=$("$SLUICE" --version | cut -d' ' -f2)
field() { dpkg-deb -f "$deb" "$1"; }
if [ "$(field Package)" = sluice ] && [ "$(field Version)" = "$version" ] &&
    [ "$(field Architecture)" = "$(dpkg --print-architecture)" ] && [ -n "$(field Maintainer)" ] &&
    [ -n "$(field Description)" ]; then
    ok "Package sluice, Version $version, Architecture $(field Architecture), Maintainer, Description"
else
    not_ok "Package sluice, Version $version, Architecture, Maintainer, Description" \
        "$(dpkg-deb -f "$deb")"
fi
depends=" $(field Depends | sed 's/([^)]*)//g; s/[,|]/ /g') "

# Every library the binary links (its NEEDED entries, where ldd finds them)
# belongs to a package Depends names; their own libraries are their
# packages' business.
missing=""
needed=$(readelf -d "$SLUICE_BUILD/sluice" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | tr '\n' ' ')
[ -n "$needed" ] || missing=" (readelf found no NEEDED entries)"
while read -r lib; do
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
        dpkg -S "/usr$lib" 2>/dev/null || true)
    owner=${owner%%:*}
    if [ -z "$owner" ]; then
        missing="$missing $lib(no package)"
    elif [[ $depends != *" $owner "* ]]; then
        missing="$missing $owner($lib)"
    fi
done < <(ldd "$SLUICE_BUILD/sluice" | awk -v needed=" $needed" \
    '$2 == "=>" && $3 ~ /^\// && index(needed, " " $1 " ") { print $3 }')
if [ -z "$missing" ]; then
    ok "Depends names the package of every library the binary links ($needed)"
else
    not_ok "Depends names the package of every library the binary links" \
        "missing:$missing" "Depends: $(field Depends)"
fi
# And the drivers' client libraries, as this build has them.
want="libsqlite3-0 libzstd1 libdeflate0"
drivers=$("$SLUICE" --version)
[[ $drivers == *postgres* ]] && want="$want libpq5"
[[ $drivers == *mysql* ]] && want="$want libmariadb3"
absent=""
for p in $want; do
    [[ $depends == *" $p "* ]] || absent="$absent $p"
done
if [ -z "$absent" ]; then
    ok "Depends: $want"
else
    not_ok "Depends: $want" "absent:$absent"
fi

# ---- contents ----------------------------------------------------------------------
expected=$(
    echo ./usr/bin/sluice
    echo ./usr/share/bash-completion/completions/sluice
    for page in $(cd "$SLUICE_SRC/man" && ls -- *.[1-9]); do
        echo "./usr/share/man/man${page##*.}/$page.gz"
    done | sort
)
files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sort)
if [ "$files" = "$(sort <<<"$expected")" ]; then
    ok "the package holds the binary, the man pages and the completion, nothing else"
else
    not_ok "the package holds the binary, the man pages and the completion, nothing else" \
        "$(diff <(sort <<<"$expected") <(echo "$files") || true)"
fi

# ---- unpacked ----------------------------------------------------------------------
dpkg -x "$deb" "$T/root"
if [ "$("$T/root/usr/bin/sluice" --version)" = "$drivers" ]; then
    ok "unpacked with dpkg -x: sluice --version"
else
    not_ok "unpacked with dpkg -x: sluice --version" "$("$T/root/usr/bin/sluice" --version 2>&1)"
fi
sqlite3 -bail "$T/shop.db" "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (7);"
if [ "$("$T/root/usr/bin/sluice" extract "$T/shop.db" t --state "$T/state.db")" = '{"id":7}' ]; then
    ok "unpacked: sluice extracts a table"
else
    not_ok "unpacked: sluice extracts a table"
fi
if LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$T/root/usr/share/man/man1/sluice.1.gz" \
    2>"$T/man.err" | grep -q 'sluice extract SOURCE TABLE' && [ ! -s "$T/man.err" ]; then
    ok "unpacked: man -l usr/share/man/man1/sluice.1.gz renders"
else
    not_ok "unpacked: man -l usr/share/man/man1/sluice.1.gz renders" "$(cat "$T/man.err")"
fi
finish
