# deploy_manifests.sh - the manifests that ship with the deployment
# examples (docker compose profile "backup", the Kubernetes CronJobs, the
# systemd units) and the README walkthrough load and say what they would
# run: `sluice run --dry-run`, which connects to nothing and writes nothing.
# No Docker, Kubernetes or systemd runs here; the streams each example
# names must exist in its manifest.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
T=$SLUICE_TMP
S=$SLUICE_SRC
export SLUICE_SECRETS=$T/secrets
mkdir -p "$SLUICE_SECRETS"
for f in db_password password shop.password crm.password; do
    printf 'not-the-real-one\n' >"$SLUICE_SECRETS/$f"
done

# dry NAME MANIFEST STREAMS...: the dry run lists exactly these streams as
# would-run, and leaves no state store.
dry() {
    local name=$1 m=$2
    shift 2
    expect_exit 0 "$name: run --dry-run exits 0" "$SLUICE" run "$m" --dry-run
    local s missing=""
    for s in "$@"; do
        grep -q "^$s: would run: " "$E2E_OUT" || missing="$missing $s"
    done
    if [ -z "$missing" ] && [ "$(grep -c ': would run: ' "$E2E_OUT")" -eq $# ]; then
        ok "$name: every stream would run"
    else
        not_ok "$name: every stream would run" "missing:$missing" "$(cat "$E2E_OUT" "$E2E_ERR")"
    fi
    expect_exit 0 "$name: status exits 0" "$SLUICE" status "$m"
    grep -q "not-the-real-one" "$E2E_OUT" "$E2E_ERR" &&
        not_ok "$name: the password is not shown" || ok "$name: the password is not shown"
}

dry "compose" "$S/docker/sluice.yml" pg-types maria-types
grep -q '"daemon", "/etc/sluice/sluice.yml"' "$S/docker/compose.yml" &&
    grep -q './sluice.yml:/etc/sluice/sluice.yml:ro' "$S/docker/compose.yml" &&
    grep -q 'profiles: \["backup"\]' "$S/docker/compose.yml" &&
    ok "compose: the backup profile runs the daemon on this manifest" ||
    not_ok "compose: the backup profile runs the daemon on this manifest"

dry "kubernetes" "$S/deploy/kubernetes/sluice.yml" orders customers
# Every CronJob runs a stream of the manifest.
mapfile -t jobs < <(grep -o '"run", "/etc/sluice/sluice.yml", "[^"]*"' "$S/deploy/kubernetes/cronjob.yaml" |
                    sed 's/.*, "\([^"]*\)"$/\1/')
[ "${#jobs[@]}" -eq 2 ] && ok "kubernetes: two CronJobs" || not_ok "kubernetes: two CronJobs" "${jobs[*]}"
for j in "${jobs[@]}"; do
    expect_exit 0 "kubernetes: the CronJob's stream $j is in the manifest" \
        "$SLUICE" run "$S/deploy/kubernetes/sluice.yml" "$j" --dry-run
done

dry "systemd" "$S/deploy/systemd/sluice.yml" orders contacts
for u in sluice-daemon.service sluice-run.service sluice-status.service; do
    grep -q '^ExecStart=/usr/local/bin/sluice [a-z]* /etc/sluice/sluice.yml' "$S/deploy/systemd/$u" &&
        ok "systemd: $u runs sluice on /etc/sluice/sluice.yml" ||
        not_ok "systemd: $u runs sluice on /etc/sluice/sluice.yml"
done

# The README walkthrough: the manifest after the marker.
awk '/<!-- walkthrough manifest -->/ {on = 1; next} on && /^```yaml/ {inside = 1; next}
     inside && /^```/ {exit} inside {print}' "$S/README.md" >"$T/walkthrough.yml"
if [ -s "$T/walkthrough.yml" ]; then
    ok "README: the walkthrough manifest is found"
    mkdir -p "$T/walk"
    cp "$T/walkthrough.yml" "$T/walk/sluice.yml"
    sqlite3 "$T/walk/shop.db" 'CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO orders VALUES (1, 9.5); INSERT INTO customers VALUES (1, '"'"'Ada'"'"');'
    cd "$T/walk"
    export SHOP_DB=sqlite:shop.db
    dry "README walkthrough" sluice.yml orders customers
    # And it really runs, here against SQLite.
    expect_exit 0 "README walkthrough: run" "$SLUICE" run sluice.yml
    cd "$T"
    n=$(find "$T/walk/backups" -name '*.ndjson.zst' 2>/dev/null | wc -l)
    [ "$n" -eq 2 ] && ok "README walkthrough: two backups" || not_ok "README walkthrough: two backups" "$n"
else
    not_ok "README: the walkthrough manifest is found"
fi

finish
