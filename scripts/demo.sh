#!/usr/bin/env bash
# Builds the demo SQLite database from sql/demo.sql and extracts its orders
# table to NDJSON, the way a user would. Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
demo="$build/demo"
mkdir -p "$demo"
rm -f "$demo/shop.db" "$demo/orders.ndjson" "$demo/state.db"*
sqlite3 "$demo/shop.db" < "$top/sql/demo.sql" >/dev/null
echo "\$ sluice extract $demo/shop.db orders -o $demo/orders.ndjson --state $demo/state.db -v"
"$build/sluice" extract "$demo/shop.db" orders -o "$demo/orders.ndjson" \
    --state "$demo/state.db" -v
echo "\$ head -n 3 $demo/orders.ndjson"
head -n 3 "$demo/orders.ndjson"
echo "($(wc -l < "$demo/orders.ndjson") rows in $demo/orders.ndjson)"
