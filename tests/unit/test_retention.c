/* test_retention.c - keep: exactly `keep` of a stream's finished outputs
 * stay, the oldest go with their sidecars, and nothing sluice did not
 * write for this stream is touched. */
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

#include "output/sidecar.h"
#include "schedule/retention.h"

static char dir[256];
static char tpl[512];
static const struct template_vars ORDERS = {.stream = "orders", .table = "orders"};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **ctx)
{
    (void)ctx;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sluice-retention-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(tpl, sizeof tpl, "%s/{stream}/%%Y%%m%%dT%%H%%M%%SZ.ndjson", dir);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/orders", dir);
    return mkdir(sub, 0700);
}

static int teardown(void **ctx)
{
    (void)ctx;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/orders/%s", dir, name);
}

static void touch(const char *name)
{
    char p[1024];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"id\":1}\n", f);
    fclose(f);
}

/* A data file and its sidecar, naming `stream` (version `version`). */
static void output(const char *name, const char *stream, int version)
{
    touch(name);
    char p[1024], json[512], err[256];
    path_of(p, sizeof p, name);
    snprintf(json, sizeof json, "{\"version\": %d, \"file\": \"%s\", \"stream\": \"%s\"}\n",
             version, name, stream);
    assert_int_equal(sidecar_write(p, json, strlen(json), err, sizeof err), 0);
}

static int exists(const char *name)
{
    char p[1024];
    path_of(p, sizeof p, name);
    return access(p, F_OK) == 0;
}

static void prune(unsigned keep, const char *kept_name, unsigned want_deleted)
{
    char kept[1024], err[512] = "";
    unsigned deleted = 99;
    path_of(kept, sizeof kept, kept_name);
    if (retention_prune(tpl, &ORDERS, "orders", keep, kept, &deleted, err, sizeof err) != 0)
        fail_msg("prune failed: %s", err);
    assert_int_equal(deleted, want_deleted);
}

static void test_keeps_exactly_keep(void **ctx)
{
    (void)ctx;
    static const char *const names[] = {
        "20250101T000000Z.ndjson", "20250101T001500Z.ndjson", "20250101T003000Z.ndjson",
        "20250101T004500Z.ndjson", "20250101T010000Z.ndjson",
    };
    for (size_t i = 0; i < 5; i++)
        output(names[i], "orders", 1);
    /* Never touched: */
    touch("20241231T000000Z.ndjson");              /* no sidecar: a person put it there */
    output("20241231T001500Z.ndjson", "customers", 1); /* another stream's */
    output("20241231T003000Z.ndjson", "orders", 2); /* a sidecar version this sluice cannot read */
    touch("notes.txt");
    touch("20241231T004500Z.ndjson.partial");
    output("20241231T010000Z.ndjson", "orders", 1);
    char p[1024], side[1100];
    path_of(p, sizeof p, "20241231T010000Z.ndjson");
    sidecar_path(p, side, sizeof side);
    {   /* a sidecar naming another file than the one it sits beside */
        FILE *f = fopen(side, "w");
        fputs("{\"version\": 1, \"file\": \"other.ndjson\", \"stream\": \"orders\"}\n", f);
        fclose(f);
    }
    output("20241230T000000Z.ndjson", "orders", 1); /* an orphan sidecar, below */
    path_of(p, sizeof p, "20241230T000000Z.ndjson");
    unlink(p);

    prune(2, names[4], 3); /* the 3 oldest of ours; the orphan sidecar goes too */
    assert_true(exists(names[4]) && exists(names[3]));
    assert_true(exists("20250101T010000Z.ndjson.meta.json"));
    for (size_t i = 0; i < 3; i++) {
        char s[128];
        snprintf(s, sizeof s, "%s.meta.json", names[i]);
        assert_false(exists(names[i]));
        assert_false(exists(s));
    }
    assert_false(exists("20241230T000000Z.ndjson.meta.json"));
    assert_true(exists("20241231T000000Z.ndjson"));
    assert_true(exists("20241231T001500Z.ndjson"));
    assert_true(exists("20241231T003000Z.ndjson"));
    assert_true(exists("notes.txt"));
    assert_true(exists("20241231T004500Z.ndjson.partial"));
    assert_true(exists("20241231T010000Z.ndjson"));
    /* Again: nothing more to do. */
    prune(2, names[4], 0);
    /* keep 0: keep everything. */
    prune(0, names[4], 0);
    assert_true(exists(names[3]));
}

/* The output just written stays even when its name sorts older (the
 * clock went back): it takes one of the places. */
static void test_new_output_always_stays(void **ctx)
{
    (void)ctx;
    output("20260101T000000Z.ndjson", "orders", 1);
    output("20260101T010000Z.ndjson", "orders", 1);
    output("20260101T020000Z.ndjson", "orders", 1);
    output("20200101T000000Z.ndjson", "orders", 1); /* the new one */
    prune(2, "20200101T000000Z.ndjson", 4); /* 3 of this test, 1 left by the one before */
    assert_true(exists("20200101T000000Z.ndjson"));
    assert_true(exists("20260101T020000Z.ndjson"));
    assert_false(exists("20260101T010000Z.ndjson"));
    assert_false(exists("20260101T000000Z.ndjson"));
    prune(1, "20200101T000000Z.ndjson", 1);
    assert_true(exists("20200101T000000Z.ndjson"));
    assert_false(exists("20260101T020000Z.ndjson"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_exactly_keep),
        cmocka_unit_test(test_new_output_always_stays),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
