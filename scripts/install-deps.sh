#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build and test, only when one
# is missing. Safe to run repeatedly; does nothing on a ready machine.
# Usage: scripts/install-deps.sh [build|demo|test]   (default: test, the superset)
set -euo pipefail

what=${1:-test}
# dpkg-dev and file: `make deb` (CPack's dpkg-shlibdeps step); man-db and
# groff-base: the tests render the man pages with `man -l`.
build_pkgs=(build-essential cmake pkg-config libsqlite3-dev libpq-dev
            libmariadb-dev libcmocka-dev libxxhash-dev zlib1g-dev libzstd-dev libdeflate-dev libyaml-dev
            libjansson-dev libssl-dev dpkg-dev file)
test_pkgs=(sqlite3 gzip zstd python3 postgresql mariadb-server mariadb-client procps parallel
           clang libclang-rt-14-dev tzdata man-db groff-base
           python3-prometheus-client)

pkgs=("${build_pkgs[@]}")
case "$what" in
    build) ;;
    demo) pkgs+=(sqlite3) ;;
    test) pkgs+=("${test_pkgs[@]}") ;;
    *) echo "usage: $0 [build|demo|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The server packages must not start a system-wide service: the tests start
# their own throwaway servers. policy-rc.d tells invoke-rc.d to skip starts.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
