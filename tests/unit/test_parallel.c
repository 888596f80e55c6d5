/* test_parallel.c - a partitioned job in one process: K partitions on K
 * threads write the bytes one job writes, the progress hooks see one
 * summed count (started and finished once, never more rows than the
 * table), and a stop raised mid-run leaves a job that the next run
 * completes with the same bytes. Also built under ThreadSanitizer
 * (scripts/tsan-check.sh). */
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
#include <time.h>

#include <sqlite3.h>

#include "common/exitcode.h"
#include "job/job.h"
#include "job/parallel.h"

#define ROWS 40000

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
    snprintf(dir, sizeof dir, "%s/sluice-parallel-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char db[128];
    snprintf(db, sizeof db, "%s/src.db", dir);
    sqlite3 *h;
    if (sqlite3_open(db, &h) != SQLITE_OK)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE orders(id INTEGER PRIMARY KEY, who TEXT, total REAL);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO orders SELECT i * 2, 'customer ' || (i %% 97), i / 7.0 FROM n;",
             ROWS);
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int teardown(void **ctx)
{
    (void)ctx;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void spec_for(struct stream_spec *s, const char *out, const char *state)
{
    char path[256];
    stream_spec_init(s);
    snprintf(path, sizeof path, "sqlite:%s/src.db", dir);
    s->source = strdup(path);
    s->table = strdup("orders");
    snprintf(path, sizeof path, "%s/%s", dir, out);
    s->output = strdup(path);
    snprintf(path, sizeof path, "%s/%s", dir, state);
    s->state_path = strdup(path);
    s->page_size = 333;
    s->checkpoint_every = 1000;
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

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

/* What the hooks saw; called from the partitions' threads. */
struct seen {
    atomic_int started, finished, calls;
    _Atomic uint64_t max_rows;
    atomic_int stop;  /* the job's stop flag */
    uint64_t stop_at; /* raise it once the sum passes this (0: never) */
};

static void on_started(void *ctx, const char *label, int64_t estimate, uint64_t before)
{
    struct seen *s = ctx;
    (void)label; (void)estimate; (void)before;
    atomic_fetch_add(&s->started, 1);
}

static void on_progress(uint64_t rows, uint64_t bytes, void *ctx)
{
    struct seen *s = ctx;
    (void)bytes;
    atomic_fetch_add(&s->calls, 1);
    uint64_t m = atomic_load(&s->max_rows);
    while (rows > m && !atomic_compare_exchange_weak(&s->max_rows, &m, rows))
        ;
    if (s->stop_at && rows >= s->stop_at)
        atomic_store(&s->stop, 1);
}

static void on_finished(void *ctx)
{
    struct seen *s = ctx;
    atomic_fetch_add(&s->finished, 1);
}

static int run_parallel(const struct stream_spec *spec, struct seen *seen, struct job_result *res)
{
    const struct job_hooks hooks = {.started = on_started, .progress = on_progress,
                                    .finished = on_finished, .ctx = seen};
    const struct job_env env = {.stop = &seen->stop, .hooks = &hooks, .names = names};
    return parallel_run(spec, &env, res);
}

static void test_parallel_same_bytes(void **ctx)
{
    (void)ctx;
    struct stream_spec one, many;
    struct job_result r1, r2;
    atomic_int stop = 0;
    spec_for(&one, "one.ndjson", "one.db");
    const struct job_env env = {.stop = &stop, .names = names};
    if (job_run(&one, &env, &r1) != EXIT_OK)
        fail_msg("one job: %s", r1.error);
    spec_for(&many, "many.ndjson", "many.db");
    many.partitions = 6;
    many.parallel = 3;
    struct seen seen = {0};
    if (run_parallel(&many, &seen, &r2) != EXIT_OK)
        fail_msg("partitions: %s", r2.error);
    assert_string_equal(r2.status, "done");
    assert_int_equal(r2.rows, ROWS);
    assert_int_equal(r2.run_rows, ROWS);
    assert_int_equal(r2.bytes, r1.bytes);
    assert_same_file("one.ndjson", "many.ndjson");
    /* One progress display for the job: started and finished once, the
     * sum never more than the table. */
    assert_int_equal(atomic_load(&seen.started), 1);
    assert_int_equal(atomic_load(&seen.finished), 1);
    assert_true(atomic_load(&seen.max_rows) <= ROWS);
    stream_spec_free(&one);
    stream_spec_free(&many);
}

/* Stopped by its caller mid-run: interrupted with checkpoints; the next
 * run resumes and writes the same bytes. */
static void test_parallel_stop_and_resume(void **ctx)
{
    (void)ctx;
    struct stream_spec one, many;
    struct job_result r1, r2;
    atomic_int stop = 0;
    spec_for(&one, "ref.ndjson", "ref.db");
    const struct job_env env = {.stop = &stop, .names = names};
    if (job_run(&one, &env, &r1) != EXIT_OK)
        fail_msg("one job: %s", r1.error);
    spec_for(&many, "stopped.ndjson", "stopped.db");
    many.partitions = 4;
    many.parallel = 2;
    struct seen seen = {.stop_at = 1};
    int code = run_parallel(&many, &seen, &r2);
    if (code != EXIT_INTERRUPTED)
        fail_msg("stopped run: exit %d (%s)", code, r2.error);
    assert_string_equal(r2.status, "interrupted");
    assert_true(r2.rows < ROWS);
    struct seen again = {0};
    if (run_parallel(&many, &again, &r2) != EXIT_OK)
        fail_msg("resumed run: %s", r2.error);
    assert_int_equal(r2.resumed, 1);
    assert_int_equal(r2.rows, ROWS);
    assert_same_file("ref.ndjson", "stopped.ndjson");
    stream_spec_free(&one);
    stream_spec_free(&many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_same_bytes),
        cmocka_unit_test(test_parallel_stop_and_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
