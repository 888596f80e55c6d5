/* test_job_threads.c - job units of two streams run at once on two threads
 * of one process write exactly the bytes each writes alone, share one
 * state store, and report their own results. Also built under
 * ThreadSanitizer (scripts/sanitize-check.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "common/exitcode.h"
#include "job/job.h"

static const char *const names[SPEC_FIELD_COUNT] = {
    [SPEC_CURSOR] = "cursor_field", [SPEC_START] = "start", [SPEC_END] = "end",
    [SPEC_LOOKBACK] = "lookback", [SPEC_STEP] = "step", [SPEC_GRANULARITY] = "granularity",
    [SPEC_MODE] = "mode", [SPEC_PAGING] = "paging", [SPEC_KEY] = "key",
    [SPEC_COLUMNS] = "columns",
};

static char dir[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **ctx)
{
    (void)ctx;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sluice-jobs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char db[128];
    snprintf(db, sizeof db, "%s/src.db", dir);
    sqlite3 *h;
    if (sqlite3_open(db, &h) != SQLITE_OK)
        return -1;
    const char *sql =
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, who TEXT, total REAL);"
        "CREATE TABLE events(a INTEGER NOT NULL, b TEXT NOT NULL, v BLOB, PRIMARY KEY(a, b));"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)"
        " INSERT INTO orders SELECT i, 'customer ' || (i % 97), i / 7.0 FROM n;"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
        " INSERT INTO events SELECT i % 50, 'k' || i, randomblob(20) FROM n;";
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int teardown(void **ctx)
{
    (void)ctx;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void spec_for(struct stream_spec *s, const char *table, const char *out,
                     const char *state)
{
    char path[256];
    stream_spec_init(s);
    snprintf(path, sizeof path, "sqlite:%s/src.db", dir);
    s->source = strdup(path);
    s->table = strdup(table);
    snprintf(path, sizeof path, "%s/%s", dir, out);
    s->output = strdup(path);
    snprintf(path, sizeof path, "%s/%s", dir, state);
    s->state_path = strdup(path);
    s->page_size = 777;
    s->checkpoint_every = 1000;
}

struct worker {
    const struct stream_spec *spec;
    atomic_int stop;
    struct job_result res;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    const struct job_env env = {.stop = &w->stop, .names = names, .log_stream = 1};
    job_run(w->spec, &env, &w->res);
    return NULL;
}

static char *slurp(const char *out, size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, out);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    char *s = malloc((size_t)st.st_size + 1);
    assert_non_null(s);
    *n = fread(s, 1, (size_t)st.st_size, f);
    fclose(f);
    return s;
}

static void test_two_streams_two_threads(void **ctx)
{
    (void)ctx;
    static const char *const tables[2] = {"orders", "events"};
    static const char *const alone[2] = {"orders-alone.ndjson", "events-alone.ndjson"};
    static const char *const together[2] = {"orders.ndjson.zst", "events.ndjson.gz"};
    struct stream_spec specs[4];
    struct worker w[4];
    memset(w, 0, sizeof w);
    /* Alone: one after the other, each with a store of its own. */
    for (int i = 0; i < 2; i++) {
        spec_for(&specs[i], tables[i], alone[i], i ? "alone-1.db" : "alone-0.db");
        w[i].spec = &specs[i];
        run(&w[i]);
        if (w[i].res.code)
            fail_msg("alone %s: %s", tables[i], w[i].res.error);
    }
    /* Together: two threads, one store, compressed outputs. */
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        spec_for(&specs[2 + i], tables[i], together[i], "shared.db");
        w[2 + i].spec = &specs[2 + i];
        assert_int_equal(pthread_create(&t[i], NULL, run, &w[2 + i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        const struct job_result *r = &w[2 + i].res;
        if (r->code)
            fail_msg("together %s: %s", tables[i], r->error);
        assert_string_equal(r->status, "done");
        assert_int_equal(r->rows, i ? 20000 : 30000);
        assert_int_equal(r->rows, w[i].res.rows);
        assert_non_null(strstr(r->stream, tables[i]));
    }
    /* Same rows, byte for byte, once decompressed. */
    for (int i = 0; i < 2; i++) {
        char cmd[512], plain[64];
        snprintf(plain, sizeof plain, "%s.plain", together[i]);
        snprintf(cmd, sizeof cmd, "%s -dc '%s/%s' > '%s/%s'", i ? "gzip" : "zstd -q", dir,
                 together[i], dir, plain);
        assert_int_equal(system(cmd), 0);
        size_t na, nb;
        char *a = slurp(alone[i], &na), *b = slurp(plain, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        free(a);
        free(b);
    }
    for (int i = 0; i < 4; i++)
        stream_spec_free(&specs[i]);
}

/* A stop raised for one job interrupts that job only. */
static void test_stop_one_of_two(void **ctx)
{
    (void)ctx;
    struct stream_spec specs[2];
    struct worker w[2];
    memset(w, 0, sizeof w);
    spec_for(&specs[0], "orders", "stop-orders.ndjson", "stop.db");
    spec_for(&specs[1], "events", "stop-events.ndjson", "stop.db");
    atomic_store(&w[0].stop, 1); /* stopped before its first row */
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i].spec = &specs[i];
        assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    if (w[0].res.code != EXIT_INTERRUPTED)
        fail_msg("the stopped job: exit %d: %s", w[0].res.code, w[0].res.error);
    assert_string_equal(w[0].res.status, "interrupted");
    if (w[1].res.code != EXIT_OK)
        fail_msg("the other job: exit %d: %s", w[1].res.code, w[1].res.error);
    assert_int_equal(w[1].res.rows, 20000);
    /* The interrupted one resumes and completes. */
    atomic_store(&w[0].stop, 0);
    run(&w[0]);
    if (w[0].res.code)
        fail_msg("resume: %s", w[0].res.error);
    assert_int_equal(w[0].res.rows, 30000);
    for (int i = 0; i < 2; i++)
        stream_spec_free(&specs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_streams_two_threads),
        cmocka_unit_test(test_stop_one_of_two),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
