/* test_manifest.c - the manifest parser: every key lands where it should,
 * defaults apply and yield to a stream's own keys, password files join
 * URLs, and every kind of bad input is refused with its exact
 * FILE:LINE: KEY: message, never showing a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "manifest/password.h"

static char dir[PATH_MAX];
static char cwd_before[PATH_MAX];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **ctx)
{
    (void)ctx;
    const char *tmp = getenv("TMPDIR");
    /* A '%' and braces in the directory: templates must take it literally. */
    snprintf(dir, sizeof dir, "%s/sluice-manifest-%%{x}-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir) || !getcwd(cwd_before, sizeof cwd_before) || chdir(dir) < 0)
        return -1;
    char *real = realpath(".", NULL);
    if (!real)
        return -1;
    snprintf(dir, sizeof dir, "%s", real);
    free(real);
    setenv("XDG_STATE_HOME", dir, 1);
    return 0;
}

static int teardown(void **ctx)
{
    (void)ctx;
    if (chdir(cwd_before) < 0)
        return -1;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct manifest *load_ok(const char *text)
{
    write_file("sluice.yml", text);
    struct manifest *m = NULL;
    char err[2048] = "";
    if (manifest_load(&m, "sluice.yml", err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    return m;
}

/* The manifest must be refused with exactly `want`. */
static void expect_error(const char *text, const char *want)
{
    write_file("sluice.yml", text);
    struct manifest *m = NULL;
    char err[2048] = "";
    if (manifest_load(&m, "sluice.yml", err, sizeof err) == 0) {
        manifest_free(m);
        fail_msg("accepted; wanted: %s", want);
    }
    assert_null(m);
    if (strcmp(err, want) != 0)
        fail_msg("error\n  [%s]\nwanted\n  [%s]", err, want);
    assert_null(strchr(err, '\n'));
}

/* The manifest must be refused with an error that starts with `want`. */
static void expect_error_prefix(const char *text, const char *want)
{
    write_file("sluice.yml", text);
    struct manifest *m = NULL;
    char err[2048] = "";
    if (manifest_load(&m, "sluice.yml", err, sizeof err) == 0) {
        manifest_free(m);
        fail_msg("accepted; wanted: %s", want);
    }
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error\n  [%s]\ndoes not start with\n  [%s]", err, want);
}

/* ---- good manifests ------------------------------------------------- */

static void test_every_key(void **ctx)
{
    (void)ctx;
    struct manifest *m = load_ok(
        "version: 1\n"
        "state: var/state.db\n"
        "timezone: Europe/Berlin\n"
        "concurrency: 3\n"
        "defaults:\n"
        "  page_size: 500\n"
        "  keep: 4\n"
        "  output: out/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst\n"
        "  retries: 2\n"
        "sources:\n"
        "  shop: sqlite:shop.db\n"
        "streams:\n"
        "  - name: orders\n"
        "    source: shop\n"
        "    table: main.orders\n"
        "    mode: incremental\n"
        "    cursor_field: [updated_at, seq]\n"
        "    key: id\n"
        "    columns: id,updated_at,seq,total\n"
        "    where: \"total > 0\"\n"
        "    paging: cursor\n"
        "    page_size: 250\n"
        "    page_bytes: 1M\n"
        "    checkpoint_every: 5000\n"
        "    start: \"2025-01-01\"\n"
        "    end: \"2030-01-01\"\n"
        "    lookback: PT15M\n"
        "    step: P1D\n"
        "    granularity: PT1H\n"
        "    retries: 5\n"
        "    retry_wait: 0.5\n"
        "    snapshot: true\n"
        "    schedule: \"*/15 * * * *\"\n"
        "    output: \"/abs/{schema}/{table}-%F.ndjson\"\n"
        "    compress: zstd:19\n"
        "    threads: 3\n"
        "    keep: 7\n"
        "    enabled: false\n"
        "    verify: true\n"
        "  - name: customers\n"
        "    source: shop\n"
        "    table: customers\n"
        "    partitions: 8\n"
        "    parallel: 2\n");
    assert_int_equal(m->nstreams, 2);
    assert_int_equal(m->concurrency, 3);
    assert_string_equal(m->timezone, "Europe/Berlin");
    char want[3 * PATH_MAX];
    snprintf(want, sizeof want, "%s/var/state.db", dir);
    assert_string_equal(m->state_path, want);

    const struct manifest_stream *o = manifest_stream(m, "orders");
    assert_non_null(o);
    assert_int_equal(o->line, 13);
    assert_string_equal(o->source_name, "shop");
    assert_string_equal(o->spec.name, "orders");
    assert_string_equal(o->spec.source, "sqlite:shop.db");
    assert_string_equal(o->spec.table, "main.orders");
    assert_int_equal(o->spec.mode, MODE_INCREMENTAL);
    assert_int_equal(o->spec.cursor.n, 2);
    assert_string_equal(o->spec.cursor.v[1], "seq");
    assert_int_equal(o->spec.key.n, 1);
    assert_int_equal(o->spec.columns.n, 4);
    assert_string_equal(o->spec.columns.v[3], "total");
    assert_string_equal(o->spec.where, "total > 0");
    assert_int_equal(o->spec.paging, PAGING_CURSOR);
    assert_int_equal(o->spec.page_size, 250);
    assert_int_equal(o->spec.page_bytes, 1 << 20);
    assert_int_equal(o->spec.checkpoint_every, 5000);
    assert_string_equal(o->spec.start, "2025-01-01");
    assert_string_equal(o->spec.end, "2030-01-01");
    assert_true(o->spec.lookback.set);
    assert_string_equal(o->spec.step.text, "P1D");
    assert_string_equal(o->spec.granularity.text, "PT1H");
    assert_int_equal(o->spec.retries, 5);
    assert_int_equal(o->spec.retry_wait_ms, 500);
    assert_true(o->spec.snapshot);
    assert_string_equal(o->schedule, "*/15 * * * *");
    assert_true(o->cron.minutes & 1);
    assert_false(o->cron.minutes & 2);
    assert_string_equal(o->output, "/abs/{schema}/{table}-%F.ndjson");
    assert_int_equal(o->spec.compress, 2); /* zstd */
    assert_int_equal(o->spec.compress_level, 19);
    assert_int_equal(o->spec.threads, 3);
    assert_int_equal(o->keep, 7);
    assert_false(o->enabled);
    assert_true(o->verify);
    assert_true(o->spec.meta);
    assert_string_equal(o->spec.state_path, m->state_path);

    /* The defaults fill what a stream leaves out. */
    const struct manifest_stream *c = manifest_stream(m, "customers");
    assert_int_equal(c->spec.page_size, 500);
    assert_int_equal(c->spec.partitions, 8);
    assert_int_equal(c->spec.parallel, 2);
    assert_int_equal(c->keep, 4);
    assert_int_equal(c->spec.retries, 2);
    assert_true(c->enabled);
    assert_false(c->verify);
    assert_null(c->schedule);
    assert_int_equal(c->spec.mode, MODE_FULL);
    assert_int_equal(c->spec.compress, -1); /* from the suffix */
    assert_string_equal(c->output_text, "out/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst");
    /* The directory's '%' and braces are doubled, so the template reads
     * them as text; its own fields stay fields. */
    char esc[2 * PATH_MAX];
    size_t k = 0;
    for (const char *p = dir; *p; p++) {
        if (*p == '%' || *p == '{' || *p == '}')
            esc[k++] = *p;
        esc[k++] = *p;
    }
    esc[k] = '\0';
    snprintf(want, sizeof want, "%s/out/{stream}/%%Y%%m%%dT%%H%%M%%SZ.ndjson.zst", esc);
    assert_string_equal(c->output, want);
    assert_null(manifest_stream(m, "order"));
    assert_string_equal(manifest_suggest_stream(m, "order"), "orders");
    manifest_free(m);
}

static void test_defaults_and_forms(void **ctx)
{
    (void)ctx;
    setenv("SLUICE_TEST_HOST", "db.internal", 1);
    unsetenv("SLUICE_TEST_PORT");
    struct manifest *m = load_ok(
        "sources:\n"
        "  pg: \"postgresql://app@${SLUICE_TEST_HOST}:${SLUICE_TEST_PORT:-5432}/shop\"\n"
        "  other: {url: \"mysql://app@h/db\"}\n"
        "defaults:\n"
        "  source: pg\n"
        "  output: \"b/{stream}.ndjson\"\n"
        "streams:\n"
        "  - {name: a, table: t1}\n"
        "  - name: b\n"
        "    table: t2\n"
        "    source: other\n"
        "    columns:\n"
        "      - x\n"
        "      - y\n");
    assert_int_equal(m->nstreams, 2);
    assert_int_equal(m->concurrency, 1);
    assert_string_equal(m->timezone, "UTC");
    char want[3 * PATH_MAX];
    snprintf(want, sizeof want, "%s/sluice/state.db", dir);
    assert_string_equal(m->state_path, want); /* extract's default */
    assert_string_equal(m->streams[0].spec.source, "postgresql://app@db.internal:5432/shop");
    assert_string_equal(m->streams[1].spec.source, "mysql://app@h/db");
    assert_int_equal(m->streams[1].spec.columns.n, 2);
    assert_string_equal(m->streams[1].spec.columns.v[1], "y");
    manifest_free(m);
}

static void test_password_join(void **ctx)
{
    (void)ctx;
    write_file("pg.secret", "s:cret@x/\n");
    write_file("my.secret", "p w\r\n");
    write_file("ci.secret", "it's\\");
    struct manifest *m = load_ok(
        "sources:\n"
        "  pg: {url: \"postgresql://app@db/shop?sslmode=require\", password_file: pg.secret}\n"
        "  my: {url: \"mysql://h:3306/db\", password_file: my.secret}\n"
        "  ci: {url: \"postgres:host=db dbname=shop\", password_file: ci.secret}\n"
        "defaults: {output: \"{stream}.ndjson\"}\n"
        "streams:\n"
        "  - {name: a, source: pg, table: t}\n"
        "  - {name: b, source: my, table: t}\n"
        "  - {name: c, source: ci, table: t}\n");
    assert_string_equal(m->streams[0].spec.source,
                        "postgresql://app:s%3Acret%40x%2F@db/shop?sslmode=require");
    assert_string_equal(m->streams[1].spec.source, "mysql://:p%20w@h:3306/db");
    assert_string_equal(m->streams[2].spec.source,
                        "postgres:host=db dbname=shop password='it\\'s\\\\'");
    manifest_free(m);

    char *out = NULL, err[256];
    assert_int_equal(password_join_url(&out, "sqlite:x.db", "pw", err, sizeof err), -1);
    assert_string_equal(err, "password_file is for PostgreSQL and MySQL/MariaDB sources (postgres://, postgresql://, mysql://, mariadb://)");
    assert_int_equal(password_join_url(&out, "mariadb://u:old@h/db", "pw", err, sizeof err), -1);
    assert_int_equal(password_join_url(&out, "postgresql://u@h/db?password=old", "pw", err,
                                       sizeof err), -1);
    assert_string_equal(err, "the url holds a password already: give it in one place, the url or password_file");
    assert_int_equal(password_join_url(&out, "mariadb://u@[::1]:3306/db", "pw", err, sizeof err), 0);
    assert_string_equal(out, "mariadb://u:pw@[::1]:3306/db");
    free(out);
}

/* ---- bad manifests -------------------------------------------------- */

#define HEAD "sources:\n  shop: sqlite:shop.db\ndefaults:\n  output: \"{stream}/%Y%m%dT%H%M%SZ.ndjson\"\nstreams:\n"
/* HEAD is 5 lines: the first stream starts on line 6. */

static void test_cron_error_names_line_and_key(void **ctx)
{
    (void)ctx;
    expect_error(HEAD
                 "  - name: a\n"              /* 6 */
                 "    source: shop\n"
                 "    table: a\n"
                 "  - name: b\n"              /* 9 */
                 "    source: shop\n"
                 "    table: b\n"
                 "  - name: c\n"              /* 12 */
                 "    source: shop\n"
                 "    schedule: \"61 * * * *\"\n" /* 14 */
                 "    table: c\n",
                 "sluice.yml:14: streams[2].schedule: minute: 61 is out of range 0-59");
    expect_error(HEAD "  - {name: a, source: shop, table: a, schedule: \"@reboot\"}\n",
                 "sluice.yml:6: streams[0].schedule: @reboot is not supported: it names no time (use @daily or a 5-field schedule)");
}

static void test_yaml_syntax(void **ctx)
{
    (void)ctx;
    expect_error_prefix(HEAD "  - name: a\n    schedule: */15 * * * *\n",
                        "sluice.yml:7: YAML: ");
    write_file("sluice.yml", HEAD "  - name: a\n    schedule: */15 * * * *\n");
    struct manifest *m;
    char err[1024];
    assert_int_equal(manifest_load(&m, "sluice.yml", err, sizeof err), -1);
    assert_non_null(strstr(err, "must be quoted"));
    expect_error_prefix("streams: [\n", "sluice.yml:2: YAML: ");
    expect_error("", "sluice.yml:1: manifest: the file is empty: a manifest needs streams");
    expect_error(HEAD "  - {name: a, source: shop, table: a}\n---\nother: 1\n",
                 "sluice.yml:8: manifest: a second YAML document; a manifest is one");
    expect_error("- a\n- b\n", "sluice.yml:1: manifest: expected a mapping (KEY: VALUE lines), got a list");
    struct manifest *none;
    assert_int_equal(manifest_load(&none, "no-such.yml", err, sizeof err), -1);
    assert_string_equal(err, "no-such.yml: cannot read: No such file or directory");
}

static void test_unknown_keys(void **ctx)
{
    (void)ctx;
    expect_error("stat: x.db\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: stat: unknown key; did you mean 'state'?");
    expect_error("colour: red\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: colour: unknown key");
    expect_error(HEAD "  - name: a\n    source: shop\n    table: a\n    shedule: \"@daily\"\n",
                 "sluice.yml:9: streams[0].shedule: unknown key in a stream; did you mean 'schedule'?");
    expect_error("defaults:\n  chekpoint_every: 5\nsources: {shop: x.db}\nstreams:\n  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:2: defaults.chekpoint_every: unknown key in defaults; did you mean 'checkpoint_every'?");
    expect_error("schedule: \"@daily\"\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: schedule: unknown key at the top; stream options go in a stream or in defaults");
    expect_error("defaults: {name: x}\nsources: {shop: x.db}\nstreams:\n  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: defaults.name: belongs to each stream, not to defaults");
    expect_error("sources:\n  shop: {url: \"sqlite:x.db\", pasword_file: p}\nstreams:\n  - {name: a, source: shop, table: a, output: x}\n",
                 "sluice.yml:2: sources.shop.pasword_file: unknown key in a source; did you mean 'password_file'?");
    expect_error(HEAD "  - {name: a, source: shop, table: a, table: b}\n",
                 "sluice.yml:6: streams[0].table: given twice (first on line 6)");
    expect_error("state: a\nstate: b\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:2: state: given twice (first on line 1)");
}

static void test_streams(void **ctx)
{
    (void)ctx;
    expect_error(HEAD "  - {name: a, source: shop, table: a}\n  - {name: a, source: shop, table: b}\n",
                 "sluice.yml:7: streams[1]: stream name 'a' is used twice (first on line 6)");
    expect_error(HEAD "  - {name: a, source: shpo, table: a}\n",
                 "sluice.yml:6: streams[0].source: no source 'shpo' in sources; did you mean 'shop'?");
    expect_error(HEAD "  - {name: a, source: crm, table: a}\n",
                 "sluice.yml:6: streams[0].source: no source 'crm' in sources");
    expect_error(HEAD "  - {source: shop, table: a}\n", "sluice.yml:6: streams[0]: needs name");
    expect_error(HEAD "  - {name: a, source: shop}\n", "sluice.yml:6: streams[0]: needs table");
    expect_error("streams:\n  - {name: a, table: a}\n",
                 "sluice.yml:2: streams[0]: needs source (here or in defaults)");
    expect_error("sources: {s: x.db}\nstreams:\n  - {name: a, source: s, table: a}\n",
                 "sluice.yml:3: streams[0]: needs output (a path template, here or in defaults)");
    expect_error(HEAD "  - {name: \"a b\", source: shop, table: a}\n",
                 "sluice.yml:6: streams[0].name: 'a b' is not a stream name: use letters, digits, '_', '-' and '.', not first '-' or '.', at most 128");
    expect_error(HEAD, "sluice.yml:5: streams: expected a list of streams (- name: ...), got nothing");
    expect_error(HEAD "  a: {source: shop}\n",
                 "sluice.yml:6: streams: expected a list of streams (- name: ...), got a mapping");
    expect_error("sources: {s: x.db}\n", "sluice.yml:1: streams: missing: a manifest needs at least one stream");
    expect_error("sources: {s: x.db}\nstreams: []\n",
                 "sluice.yml:2: streams: an empty list: a manifest needs at least one stream");
    expect_error(HEAD "  - just-a-name\n",
                 "sluice.yml:6: streams[0]: expected a mapping (KEY: VALUE lines), got a value");
    expect_error("sources: {s: x.db}\nstreams:\n  - {name: a, source: s, table: a, output: \"x/%Y.ndjson\"}\n"
                 "  - {name: b, source: s, table: b, output: \"x/%Y.ndjson\"}\n",
                 "sluice.yml:4: streams[1].output: writes the same files as stream 'a' (line 3): put {stream} in the template");
    expect_error(HEAD "  - {name: a, source: shop, table: \"x.\"}\n",
                 "sluice.yml:6: streams[0].table: table 'x.': empty name");
}

static void test_bad_values(void **ctx)
{
    (void)ctx;
    expect_error(HEAD "  - {name: a, source: shop, table: a, page_size: 0}\n",
                 "sluice.yml:6: streams[0].page_size: 0 is out of range 1-1000000");
    expect_error(HEAD "  - {name: a, source: shop, table: a, page_size: 10k}\n",
                 "sluice.yml:6: streams[0].page_size: expected a whole number, got '10k'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, paging: fast}\n",
                 "sluice.yml:6: streams[0].paging: expected one of keyset, offset, cursor, got 'fast'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, enabled: yes}\n",
                 "sluice.yml:6: streams[0].enabled: expected true or false, got 'yes'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, verify: 1}\n",
                 "sluice.yml:6: streams[0].verify: expected true or false, got '1'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, keep: 0}\n",
                 "sluice.yml:6: streams[0].keep: 0 is out of range 1-1000000");
    expect_error(HEAD "  - {name: a, source: shop, table: a, where: }\n",
                 "sluice.yml:6: streams[0].where: needs a value");
    expect_error(HEAD "  - {name: a, source: shop, table: a, key: [id, [x]]}\n",
                 "sluice.yml:6: streams[0].key[1]: expected a value, got a list");
    expect_error(HEAD "  - {name: a, source: shop, table: a, columns: \"a,,b\"}\n",
                 "sluice.yml:6: streams[0].columns: empty column name in 'a,,b'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, lookback: 15m}\n",
                 "sluice.yml:6: streams[0].lookback: duration '15m' is neither an ISO 8601 duration (PT15M, P1D) nor a positive count");
    expect_error(HEAD "  - {name: a, source: shop, table: a, retry_wait: 0}\n",
                 "sluice.yml:6: streams[0].retry_wait: expected seconds from 0.001 to 3600, got '0'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, page_bytes: 5T}\n",
                 "sluice.yml:6: streams[0].page_bytes: expected a size from 0 to 4G (K, M, G suffixes), got '5T'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, compress: lz4}\n",
                 "sluice.yml:6: streams[0].compress: expected none, gzip[:LEVEL] or zstd[:LEVEL], got 'lz4'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, compress: \"gzip:13\"}\n",
                 "sluice.yml:6: streams[0].compress: gzip level: expected 1 to 12, got '13'");
    expect_error(HEAD "  - {name: a, source: shop, table: a, threads: 0}\n",
                 "sluice.yml:6: streams[0].threads: 0 is out of range 1-256");
    expect_error(HEAD "  - {name: a, source: shop, table: a, partitions: 0}\n",
                 "sluice.yml:6: streams[0].partitions: 0 is out of range 1-10000");
    expect_error(HEAD "  - {name: a, source: shop, table: a, parallel: 2}\n",
                 "sluice.yml:6: streams[0]: parallel needs partitions N");
    expect_error(HEAD "  - {name: a, source: shop, table: a, partitions: 2, parallel: 3}\n",
                 "sluice.yml:6: streams[0]: parallel 3 is more than partitions 2: at most one worker per partition");
    expect_error(HEAD "  - {name: a, source: shop, table: a, output: \"{strem}.ndjson\"}\n",
                 "sluice.yml:6: streams[0].output: unknown field {strem}, did you mean {stream}?");
    expect_error(HEAD "  - {name: a, source: shop, table: a, mode: incremental}\n",
                 "sluice.yml:6: streams[0]: mode incremental needs cursor_field COL[,COL]");
    expect_error(HEAD "  - {name: a, source: shop, table: a, lookback: PT1H}\n",
                 "sluice.yml:6: streams[0]: lookback needs mode incremental");
    expect_error(HEAD "  - name: a\n    source: shop\n    table: a\n    mode: incremental\n"
                 "    cursor_field: ts\n    output: \"{stream}.ndjson\"\n",
                 "sluice.yml:11: streams[0].output: an incremental stream writes a new file every run: the template needs the run's time, e.g. %Y%m%dT%H%M%SZ");
    expect_error("concurrency: 100\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: concurrency: 100 is out of range 1-64");
    expect_error("version: 2\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: version: version 2 is not one this sluice reads (1)");
    expect_error("timezone: Mars/Olympus\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: timezone: unknown time zone 'Mars/Olympus' (no file /usr/share/zoneinfo/Mars/Olympus: No such file or directory)");
    expect_error("state: [a]\n" HEAD "  - {name: a, source: shop, table: a}\n",
                 "sluice.yml:1: state: expected a value, got a list");
}

static void test_sources(void **ctx)
{
    (void)ctx;
    unsetenv("SLUICE_TEST_UNSET");
    expect_error("sources:\n  s: \"postgresql://u@${SLUICE_TEST_UNSET}/db\"\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 "sluice.yml:2: sources.s: environment variable SLUICE_TEST_UNSET is not set (write ${SLUICE_TEST_UNSET:-default} for a default)");
    expect_error("sources:\n  s: {password_file: p}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 "sluice.yml:2: sources.s: needs url");
    expect_error("sources:\n  \"a b\": x.db\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 "sluice.yml:2: sources.a b: 'a b' is not a source name: use letters, digits, '_', '-' and '.'");
    char want[3 * PATH_MAX];
    snprintf(want, sizeof want,
             "sluice.yml:2: sources.s.password_file: cannot read %s/missing.secret: No such file or directory",
             dir);
    expect_error("sources:\n  s: {url: \"mysql://u@h/db\", password_file: missing.secret}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 want);
    write_file("empty.secret", "\n");
    snprintf(want, sizeof want, "sluice.yml:2: sources.s.password_file: %s/empty.secret is empty", dir);
    expect_error("sources:\n  s: {url: \"mysql://u@h/db\", password_file: empty.secret}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 want);
    write_file("two.secret", "line1\nline2\n");
    snprintf(want, sizeof want,
             "sluice.yml:2: sources.s.password_file: %s/two.secret holds more than one line (or a NUL byte): not a password",
             dir);
    expect_error("sources:\n  s: {url: \"mysql://u@h/db\", password_file: two.secret}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
                 want);
}

/* No error shows a password, a password file's content or an env value. */
static void test_no_secret_in_errors(void **ctx)
{
    (void)ctx;
    write_file("pw.secret", "FILESECRET\n");
    setenv("SLUICE_TEST_PW", "ENVSECRET", 1);
    static const char *const manifests[] = {
        /* a password in the URL, an error elsewhere */
        "sources:\n  s: \"postgresql://u:URLSECRET@h/db\"\nstreams:\n  - {name: a, source: s, table: a, output: x, page_size: -1}\n",
        /* a password file for SQLite */
        "sources:\n  s: {url: \"sqlite:x.db\", password_file: pw.secret}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
        /* an env value holding a password, and a password file too */
        "sources:\n  s: {url: \"mysql://u:${SLUICE_TEST_PW}@h/db\", password_file: pw.secret}\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
        /* a password file, an unknown source */
        "sources:\n  s: {url: \"mysql://u@h/db\", password_file: pw.secret}\nstreams:\n  - {name: a, source: t, table: a, output: x}\n",
        /* an env value in a bad URL */
        "sources:\n  s: \"${SLUICE_TEST_PW}$x\"\nstreams:\n  - {name: a, source: s, table: a, output: x}\n",
    };
    for (size_t i = 0; i < sizeof manifests / sizeof *manifests; i++) {
        write_file("sluice.yml", manifests[i]);
        struct manifest *m = NULL;
        char err[2048] = "";
        assert_int_equal(manifest_load(&m, "sluice.yml", err, sizeof err), -1);
        if (strstr(err, "SECRET"))
            fail_msg("manifest %zu: the error shows a secret: %s", i, err);
        assert_true(strlen(err) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_defaults_and_forms),
        cmocka_unit_test(test_password_join),
        cmocka_unit_test(test_cron_error_names_line_and_key),
        cmocka_unit_test(test_yaml_syntax),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_no_secret_in_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
