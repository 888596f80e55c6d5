/* test_state.c - the state store: jobs, checkpoints, high water, history,
 * refusal of foreign files. Each test works in its own mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state/state.h"

struct fx {
    char dir[64];
    char path[128];
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **ctx)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/sluice-state-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
    *ctx = f;
    return 0;
}

static int teardown(void **ctx)
{
    struct fx *f = *ctx;
    chmod(f->path, 0600);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct state *open_ok(const char *path)
{
    struct state *st = NULL;
    int rc = state_open(&st, path);
    if (rc != 0)
        fail_msg("state_open(%s): %s", path, st ? state_error(st) : "oom");
    assert_non_null(st);
    return st;
}

#define OK(st, call) do { \
        if ((call) != 0) fail_msg("%s: %s", #call, state_error(st)); \
    } while (0)

/* A tuple with every kind: the values a round trip must give back exactly. */
static const char text_val[] = "a\0b\xc3\xa9\xe2\x82\xac"; /* NUL, é, € */
static const unsigned char blob_val[] = {0x00, 0xff, 0x10, 0x00, 0x80};

static void make_all_kinds(struct keytuple *t)
{
    assert_int_equal(key_init(t, 6), 0);
    assert_int_equal(key_set_int(t, 0, INT64_MIN), 0);
    assert_int_equal(key_set_real(t, 1, -1234.0625e-3), 0);
    assert_int_equal(key_set_text(t, 2, text_val, sizeof text_val - 1), 0);
    assert_int_equal(key_set_blob(t, 3, blob_val, sizeof blob_val), 0);
    assert_int_equal(key_set_null(t, 4), 0);
    assert_int_equal(key_set_blob(t, 5, "", 0), 0);
}

static void assert_keys_equal(const struct keytuple *a, const struct keytuple *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct keyval *x = &a->v[i], *y = &b->v[i];
        assert_int_equal(x->kind, y->kind);
        switch (x->kind) {
        case KEY_INT:
            assert_true(x->i == y->i);
            break;
        case KEY_REAL:
            if (isnan(x->r))
                assert_true(isnan(y->r));
            else
                assert_memory_equal(&x->r, &y->r, sizeof x->r);
            break;
        case KEY_TEXT:
        case KEY_BLOB:
            assert_int_equal(x->len, y->len);
            if (x->len)
                assert_memory_equal(x->s, y->s, x->len);
            assert_non_null(y->s);
            break;
        case KEY_NULL:
            break;
        }
    }
}

static void key_one_int(struct keytuple *t, int64_t v)
{
    assert_int_equal(key_init(t, 1), 0);
    assert_int_equal(key_set_int(t, 0, v), 0);
}

static void test_new_file_mode(void **ctx)
{
    struct fx *f = *ctx;
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/state.db", f->dir);
    struct state *st = open_ok(path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b", f->dir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0077, 0);
    /* A checkpoint creates the -wal file: it must not be readable by others. */
    OK(st, state_begin_job(st, "s", NULL, "fp", "out.ndjson", NULL));
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0);
    state_close(st);
}

static void test_unknown_stream(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct stream_state s = {0};
    OK(st, state_load(st, "never", "p0", &s));
    assert_int_equal(s.job_id, 0);
    assert_int_equal(s.attempt, 0);
    assert_int_equal(s.phase, PHASE_IDLE);
    assert_null(s.fingerprint);
    assert_null(s.output);
    assert_int_equal(s.key.n, 0);
    assert_int_equal(s.high_water.n, 0);
    assert_int_equal(s.rows, 0);
    stream_state_clear(&s);
    state_close(st);
}

static void test_checkpoint_round_trip(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple k = {0};
    make_all_kinds(&k);
    OK(st, state_begin_job(st, "orders", NULL, "keyset:id", "orders.ndjson", NULL));
    OK(st, state_checkpoint(st, "orders", NULL, &k, 7, 5000, 123456789012ULL, NULL));

    struct stream_state s = {0};
    OK(st, state_load(st, "orders", NULL, &s));
    assert_int_equal(s.job_id, 1);
    assert_int_equal(s.attempt, 1);
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_string_equal(s.fingerprint, "keyset:id");
    assert_string_equal(s.output, "orders.ndjson");
    assert_int_equal(s.offset, 7);
    assert_int_equal(s.rows, 5000);
    assert_true(s.bytes == 123456789012ULL);
    assert_keys_equal(&k, &s.key);
    assert_int_equal(s.high_water.n, 0);

    /* A later checkpoint replaces the key, including a shorter tuple and
     * special reals. */
    struct keytuple k2 = {0};
    assert_int_equal(key_init(&k2, 3), 0);
    assert_int_equal(key_set_real(&k2, 0, NAN), 0);
    assert_int_equal(key_set_real(&k2, 1, -INFINITY), 0);
    assert_int_equal(key_set_int(&k2, 2, INT64_MAX), 0);
    OK(st, state_checkpoint(st, "orders", NULL, &k2, 0, 6000, 200, NULL));
    OK(st, state_load(st, "orders", NULL, &s));
    assert_keys_equal(&k2, &s.key);
    assert_int_equal(s.rows, 6000);
    assert_int_equal(s.bytes, 200);

    stream_state_clear(&s);
    key_clear(&k);
    key_clear(&k2);
    state_close(st);
}

static void test_begin_attempt(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    /* No job to resume: refused with a message naming the stream. */
    assert_int_equal(state_begin_attempt(st, "t", NULL, "x"), -1);
    assert_non_null(strstr(state_error(st), "stream t"));
    state_close(st);

    st = open_ok(f->path);
    OK(st, state_begin_job(st, "t", NULL, "fp", "t.1", NULL));
    OK(st, state_begin_attempt(st, "t", NULL, "t.2"));
    OK(st, state_begin_attempt(st, "t", NULL, "t.3"));
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.job_id, 1);
    assert_int_equal(s.attempt, 3);
    assert_string_equal(s.output, "t.3");
    assert_int_equal(s.phase, PHASE_RUNNING);
    stream_state_clear(&s);
    state_close(st);
}

static void test_finish_sets_high_water(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple k = {0}, hw = {0};
    key_one_int(&k, 500);
    make_all_kinds(&hw);
    OK(st, state_begin_job(st, "t", "", "fp", "t.ndjson", NULL));
    OK(st, state_checkpoint(st, "t", "", &k, 0, 500, 9000, NULL));
    /* Only a running job can move to FINISHING. */
    assert_int_equal(state_mark_finishing(st, "other", "", 0, 1, 1, NULL), -1);
    OK(st, state_mark_finishing(st, "t", "", 3, 520, 9400, NULL));

    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.phase, PHASE_FINISHING);
    assert_int_equal(s.job_id, 1);
    /* The final counters: publishing after a crash needs the bytes. */
    assert_int_equal(s.offset, 3);
    assert_int_equal(s.rows, 520);
    assert_int_equal(s.bytes, 9400);
    /* No more checkpoints, nor a second move, once finishing. */
    assert_int_equal(state_checkpoint(st, "t", NULL, &k, 0, 501, 9001, NULL), -1);
    assert_int_equal(state_mark_finishing(st, "t", NULL, 0, 1, 1, NULL), -1);
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.rows, 520);
    assert_int_equal(s.bytes, 9400);
    /* A resumed run of a finishing job counts an attempt. */
    OK(st, state_begin_attempt(st, "t", NULL, "t.ndjson"));

    OK(st, state_finish_job(st, "t", NULL, &hw));
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.phase, PHASE_IDLE);
    assert_int_equal(s.job_id, 1);
    assert_int_equal(s.key.n, 0);
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.offset, 0);
    assert_keys_equal(&hw, &s.high_water);
    /* Finishing twice is a bug in the caller: refused. */
    assert_int_equal(state_finish_job(st, "t", NULL, NULL), -1);

    stream_state_clear(&s);
    key_clear(&k);
    key_clear(&hw);
    state_close(st);
}

static void test_second_job_keeps_high_water(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple k = {0}, hw = {0}, hw2 = {0};
    key_one_int(&k, 10);
    key_one_int(&hw, 100);
    key_one_int(&hw2, 200);
    OK(st, state_begin_job(st, "t", NULL, "fp1", "o1", NULL));
    OK(st, state_finish_job(st, "t", NULL, &hw));

    OK(st, state_begin_job(st, "t", NULL, "fp2", "o2", NULL));
    OK(st, state_begin_attempt(st, "t", NULL, "o2"));
    OK(st, state_checkpoint(st, "t", NULL, &k, 3, 10, 77, NULL));
    OK(st, state_begin_job(st, "t", NULL, "fp3", "o3", NULL));
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.job_id, 3);
    assert_int_equal(s.attempt, 1);
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_string_equal(s.fingerprint, "fp3");
    assert_string_equal(s.output, "o3");
    assert_int_equal(s.key.n, 0);
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.offset, 0);
    assert_keys_equal(&hw, &s.high_water);

    /* finish_job(NULL) keeps the old high water. */
    OK(st, state_finish_job(st, "t", NULL, NULL));
    OK(st, state_load(st, "t", NULL, &s));
    assert_keys_equal(&hw, &s.high_water);
    OK(st, state_begin_job(st, "t", NULL, "fp4", "o4", NULL));
    OK(st, state_finish_job(st, "t", NULL, &hw2));
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.job_id, 4);
    assert_keys_equal(&hw2, &s.high_water);

    stream_state_clear(&s);
    key_clear(&k);
    key_clear(&hw);
    key_clear(&hw2);
    state_close(st);
}

static void test_discard_keeps_high_water(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple k = {0}, hw = {0};
    key_one_int(&k, 10);
    key_one_int(&hw, 100);
    /* Discarding a stream never seen is a no-op. */
    OK(st, state_discard_job(st, "t", NULL));
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    OK(st, state_finish_job(st, "t", NULL, &hw));
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    OK(st, state_checkpoint(st, "t", NULL, &k, 1, 2, 3, NULL));
    OK(st, state_discard_job(st, "t", NULL));
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.phase, PHASE_IDLE);
    assert_int_equal(s.job_id, 2);
    assert_int_equal(s.key.n, 0);
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.offset, 0);
    assert_keys_equal(&hw, &s.high_water);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.job_id, 3);
    assert_keys_equal(&hw, &s.high_water);
    stream_state_clear(&s);
    key_clear(&k);
    key_clear(&hw);
    state_close(st);
}

static void test_streams_independent(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple ka = {0}, kb = {0}, kp1 = {0}, hw = {0};
    key_one_int(&ka, 1);
    key_one_int(&kb, 2);
    key_one_int(&kp1, 3);
    key_one_int(&hw, 4);
    OK(st, state_begin_job(st, "a", NULL, "fa", "oa", NULL));
    OK(st, state_begin_job(st, "b", NULL, "fb", "ob", NULL));
    OK(st, state_begin_job(st, "b", NULL, "fb", "ob", NULL));
    OK(st, state_checkpoint(st, "a", NULL, &ka, 0, 10, 100, NULL));
    OK(st, state_checkpoint(st, "b", NULL, &kb, 0, 20, 200, NULL));
    OK(st, state_begin_job(st, "p", "p0", "fp", "o0", NULL));
    OK(st, state_begin_job(st, "p", "p1", "fp", "o1", NULL));
    OK(st, state_checkpoint(st, "p", "p1", &kp1, 0, 30, 300, NULL));
    OK(st, state_finish_job(st, "p", "p0", &hw));

    struct stream_state s = {0};
    OK(st, state_load(st, "a", NULL, &s));
    assert_int_equal(s.job_id, 1);
    assert_int_equal(s.rows, 10);
    assert_keys_equal(&ka, &s.key);
    OK(st, state_load(st, "b", NULL, &s));
    assert_int_equal(s.job_id, 2);
    assert_int_equal(s.rows, 20);
    assert_keys_equal(&kb, &s.key);
    OK(st, state_load(st, "p", "p0", &s));
    assert_int_equal(s.phase, PHASE_IDLE);
    assert_int_equal(s.key.n, 0);
    assert_keys_equal(&hw, &s.high_water);
    OK(st, state_load(st, "p", "p1", &s));
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_int_equal(s.rows, 30);
    assert_string_equal(s.output, "o1");
    assert_keys_equal(&kp1, &s.key);
    assert_int_equal(s.high_water.n, 0);
    /* The unpartitioned stream "p" is a different one again. */
    OK(st, state_load(st, "p", NULL, &s));
    assert_int_equal(s.job_id, 0);

    stream_state_clear(&s);
    key_clear(&ka);
    key_clear(&kb);
    key_clear(&kp1);
    key_clear(&hw);
    state_close(st);
}

static void test_run_history(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    int64_t r1 = 0, r2 = 0;
    OK(st, state_begin_job(st, "t", "p", "fp", "o", NULL));
    OK(st, state_run_start(st, "t", "p", "/out/t.ndjson", 1000, &r1));
    OK(st, state_run_end(st, r1, "interrupted", 10, 100, 0, "killed by signal 15"));
    OK(st, state_begin_attempt(st, "t", "p", "o"));
    OK(st, state_run_start(st, "t", "p", NULL, -1, &r2));
    assert_true(r2 > r1);
    assert_int_equal(state_run_end(st, r2 + 100, "done", 0, 0, 0, NULL), -1);
    assert_non_null(strstr(state_error(st), "no run"));
    state_close(st);

    st = open_ok(f->path);
    OK(st, state_run_end(st, r2, "done", 25, 2500, 3, NULL));
    assert_int_equal(state_run_end(st, r2, "bogus", 0, 0, 0, NULL), -1);
    state_close(st);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
        "SELECT id, stream, \"partition\", job_id, attempt, status, \"rows\","
        " bytes, warnings, last_error, started_at, ended_at FROM runs ORDER BY id",
        -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), r1);
    assert_string_equal((const char *)sqlite3_column_text(q, 1), "t");
    assert_string_equal((const char *)sqlite3_column_text(q, 2), "p");
    assert_int_equal(sqlite3_column_int64(q, 3), 1);
    assert_int_equal(sqlite3_column_int64(q, 4), 1);
    assert_string_equal((const char *)sqlite3_column_text(q, 5), "interrupted");
    assert_int_equal(sqlite3_column_int64(q, 6), 10);
    assert_int_equal(sqlite3_column_int64(q, 7), 100);
    assert_string_equal((const char *)sqlite3_column_text(q, 9), "killed by signal 15");
    /* UTC ISO 8601 with milliseconds: 2024-01-02T03:04:05.678Z */
    const char *ts = (const char *)sqlite3_column_text(q, 10);
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24);
    assert_true(ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
    assert_non_null(sqlite3_column_text(q, 11));
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), r2);
    assert_int_equal(sqlite3_column_int64(q, 3), 1);
    assert_int_equal(sqlite3_column_int64(q, 4), 2);
    assert_string_equal((const char *)sqlite3_column_text(q, 5), "done");
    assert_int_equal(sqlite3_column_int64(q, 6), 25);
    assert_int_equal(sqlite3_column_int64(q, 7), 2500);
    assert_int_equal(sqlite3_column_int64(q, 8), 3);
    assert_int_equal(sqlite3_column_type(q, 9), SQLITE_NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_reopen_keeps_state(void **ctx)
{
    struct fx *f = *ctx;
    struct keytuple k = {0}, hw = {0};
    make_all_kinds(&k);
    key_one_int(&hw, -5);
    struct state *st = open_ok(f->path);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    OK(st, state_finish_job(st, "t", NULL, &hw));
    OK(st, state_begin_job(st, "t", NULL, "fp2", "o2", NULL));
    OK(st, state_checkpoint(st, "t", NULL, &k, 4, 40, 4000, NULL));
    state_close(st);

    st = open_ok(f->path);
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.job_id, 2);
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_string_equal(s.fingerprint, "fp2");
    assert_int_equal(s.offset, 4);
    assert_int_equal(s.rows, 40);
    assert_int_equal(s.bytes, 4000);
    assert_keys_equal(&k, &s.key);
    assert_keys_equal(&hw, &s.high_water);
    stream_state_clear(&s);
    state_close(st);
    key_clear(&k);
    key_clear(&hw);
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char *p = malloc(1 << 20);
    assert_non_null(p);
    *len = fread(p, 1, 1 << 20, fp);
    fclose(fp);
    return p;
}

static void write_file(const char *path, const void *p, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void assert_refused_unchanged(const char *path, const char *want)
{
    size_t before_len, after_len;
    unsigned char *before = slurp(path, &before_len);
    struct state *st = NULL;
    assert_int_equal(state_open(&st, path), -1);
    assert_non_null(st);
    const char *msg = state_error(st);
    if (!strstr(msg, path) || !strstr(msg, want))
        fail_msg("message \"%s\" lacks \"%s\" or the path", msg, want);
    assert_null(strchr(msg, '\n'));
    /* Calls on a refused handle fail instead of crashing. */
    struct stream_state s = {0};
    assert_int_equal(state_load(st, "t", NULL, &s), -1);
    state_close(st);
    unsigned char *after = slurp(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    assert_int_equal(access(side, F_OK), -1);
    free(before);
    free(after);
}

static void test_random_bytes_refused(void **ctx)
{
    struct fx *f = *ctx;
    unsigned char junk[8192];
    srand(42);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    write_file(f->path, junk, sizeof junk);
    assert_refused_unchanged(f->path, "unreadable");
    /* Shorter than a SQLite header, and a text file. */
    write_file(f->path, "garbage", 7);
    assert_refused_unchanged(f->path, "unreadable");
    const char *txt = "{\"this\": \"is a json file, not a database\"}\n";
    write_file(f->path, txt, strlen(txt));
    assert_refused_unchanged(f->path, "unreadable");
}

static void make_foreign(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_foreign_sqlite_refused(void **ctx)
{
    struct fx *f = *ctx;
    make_foreign(f->path,
                 "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
                 "INSERT INTO customers VALUES(1, 'ann'), (2, 'bob');");
    assert_refused_unchanged(f->path, "is not a sluice state store");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM customers", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void test_foreign_app_id_refused(void **ctx)
{
    struct fx *f = *ctx;
    /* No tables, but another application's id. */
    make_foreign(f->path, "PRAGMA application_id=1234;");
    assert_refused_unchanged(f->path, "is not a sluice state store");
    /* A table named like ours but without our application id. */
    assert_int_equal(unlink(f->path), 0);
    make_foreign(f->path, "CREATE TABLE sluice_meta(key, value);"
                          "INSERT INTO sluice_meta VALUES('application','sluice');");
    assert_refused_unchanged(f->path, "is not a sluice state store");
    /* Everything ours but the application id. */
    assert_int_equal(unlink(f->path), 0);
    make_foreign(f->path, "PRAGMA application_id=1234; PRAGMA user_version=1;"
                          "CREATE TABLE sluice_meta(key, value);"
                          "INSERT INTO sluice_meta VALUES('application','sluice');");
    assert_refused_unchanged(f->path, "is not a sluice state store");
    /* Our id and version, but the meta table names another application. */
    assert_int_equal(unlink(f->path), 0);
    make_foreign(f->path, "PRAGMA application_id=1397506885; PRAGMA user_version=1;"
                          "CREATE TABLE sluice_meta(key, value);"
                          "INSERT INTO sluice_meta VALUES('application','other');");
    assert_refused_unchanged(f->path, "is not a sluice state store");
}

static void test_newer_schema_refused(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    state_close(st);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA user_version=99;",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_refused_unchanged(f->path, "schema version 99");
}

static void test_empty_file_accepted(void **ctx)
{
    struct fx *f = *ctx;
    /* An existing empty file (e.g. made by touch) keeps its mode. */
    write_file(f->path, "", 0);
    assert_int_equal(chmod(f->path, 0640), 0);
    struct state *st = open_ok(f->path);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    state_close(st);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
}

/* A store file nobody may write is refused, naming it. Root ignores file
 * modes, so as root (as CI runs) the store is opened by a child that has
 * given up root for the user nobody; the child works in the store's
 * directory by a relative name, so no parent directory needs to admit
 * nobody. */
static void test_read_only_store(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    state_close(st);
    assert_int_equal(chmod(f->path, 0444), 0);
    int as_root = geteuid() == 0;
    uid_t uid = 65534;
    gid_t gid = 65534;
    if (as_root) {
        const struct passwd *pw = getpwnam("nobody");
        if (pw) {
            uid = pw->pw_uid;
            gid = pw->pw_gid;
        }
        /* nobody may create SQLite's -shm/-wal files beside the store. */
        assert_int_equal(chmod(f->dir, 0777), 0);
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(f->dir) < 0)
            _exit(10);
        if (as_root && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0))
            _exit(11);
        if (access("state.db", W_OK) == 0)
            _exit(12); /* the file is still writable: the test proves nothing */
        struct state *c = NULL;
        int rc = state_open(&c, "state.db");
        const char *msg = c ? state_error(c) : "";
        int code = rc != -1 ? 13 : !strstr(msg, "state.db") || !strstr(msg, "read-only") ? 14 : 0;
        if (code)
            fprintf(stderr, "child: state_open %d: %s\n", rc, msg);
        state_close(c);
        _exit(code);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("read-only store as %s: child exit %d (10 chdir, 11 cannot drop root, "
                 "12 still writable, 13 opened, 14 wrong message)",
                 as_root ? "nobody" : "its owner", WEXITSTATUS(status));
    /* The refusal changed nothing: the job is still there. */
    assert_int_equal(chmod(f->path, 0600), 0);
    st = open_ok(f->path);
    struct stream_state ss = {0};
    OK(st, state_load(st, "t", NULL, &ss));
    assert_int_equal(ss.phase, PHASE_RUNNING);
    stream_state_clear(&ss);
    state_close(st);
}

static void test_busy_store(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    /* Another process holds the write lock: the checkpoint waits the busy
     * timeout, then fails with SQLite's message and changes nothing. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct keytuple k = {0};
    key_one_int(&k, 1);
    assert_int_equal(state_checkpoint(st, "t", NULL, &k, 0, 1, 1, NULL), -1);
    assert_non_null(strstr(state_error(st), "database is locked"));
    assert_non_null(strstr(state_error(st), f->path));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.key.n, 0);
    stream_state_clear(&s);
    key_clear(&k);
    state_close(st);
}

/* An incremental job's bounds come back on a resume and are gone after it
 * finishes, when its upper bound is the stream's high-water mark. */
static void test_job_range_round_trip(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct job_range r = {0};
    assert_int_equal(key_init(&r.lower, 1), 0);
    assert_int_equal(key_set_text(&r.lower, 0, "2026-01-01 00:00:00", 19), 0);
    r.lower_inclusive = 1;
    assert_int_equal(key_init(&r.upper, 2), 0);
    assert_int_equal(key_set_text(&r.upper, 0, "2026-01-02 00:00:00.000001", 26), 0);
    assert_int_equal(key_set_int(&r.upper, 1, 42), 0);
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", &r));
    state_close(st);
    st = open_ok(f->path);
    struct stream_state s = {0};
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_int_equal(s.range.lower_inclusive, 1);
    assert_int_equal(s.range.lower.n, 1);
    assert_string_equal(s.range.lower.v[0].s, "2026-01-01 00:00:00");
    assert_int_equal(s.range.upper.n, 2);
    assert_string_equal(s.range.upper.v[0].s, "2026-01-02 00:00:00.000001");
    assert_int_equal(s.range.upper.v[1].i, 42);
    OK(st, state_finish_job(st, "t", NULL, &s.range.upper));
    stream_state_clear(&s);
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.range.lower.n + s.range.upper.n, 0);
    assert_int_equal(s.high_water.n, 2);
    assert_int_equal(s.high_water.v[1].i, 42);
    /* A full job after it stores no bounds and keeps the mark. */
    OK(st, state_begin_job(st, "t", NULL, "fp", "o", NULL));
    stream_state_clear(&s);
    OK(st, state_load(st, "t", NULL, &s));
    assert_int_equal(s.range.upper.n, 0);
    assert_int_equal(s.range.lower_inclusive, 0);
    assert_int_equal(s.high_water.n, 2);
    stream_state_clear(&s);
    key_clear(&r.lower);
    key_clear(&r.upper);
    state_close(st);
}

/* One process per stream: a second handle (another process, as far as the
 * lock is concerned) is refused the same stream, not another one, and gets
 * it once the first lets go. */
static void test_stream_lock(void **ctx)
{
    struct fx *f = *ctx;
    struct state *a = open_ok(f->path), *b = open_ok(f->path);
    OK(a, state_lock_stream(a, "orders", NULL));
    assert_int_equal(state_lock_stream(b, "orders", NULL), -1);
    assert_non_null(strstr(state_error(b), "stream orders is being extracted by another"));
    state_close(b);
    b = open_ok(f->path);
    OK(b, state_lock_stream(b, "orders", "p1"));
    OK(b, state_lock_stream(b, "customers", NULL));
    state_close(a);
    OK(b, state_lock_stream(b, "orders", NULL));
    state_close(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* A partitioned job's plan: recorded with its job, read back exactly (a
 * split point of no values included), replaced with the next job, which
 * also forgets the partitions of the last one; the detail can change. */
static void test_partition_plans(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct partition_plan p = {0}, got = {0};
    OK(st, state_load_plan(st, "s", &got));
    assert_int_equal(got.partitions, 0);
    p.partitions = 4;
    p.nbounds = 3;
    p.bounds = calloc(3, sizeof *p.bounds);
    assert_non_null(p.bounds);
    make_all_kinds(&p.bounds[1]);
    key_one_int(&p.bounds[2], 42);
    p.detail = strdup("{\"plan\":\"x\"}");
    struct job_range range = {0};
    key_one_int(&range.upper, 99);
    OK(st, state_begin_job(st, "s", "0002", "fp", "/o.part-0002", NULL));
    OK(st, state_begin_planned_job(st, "s", "fp partitions=4", "/o", &range, &p));
    assert_int_equal(p.job_id, 1);
    OK(st, state_load_plan(st, "s", &got));
    assert_int_equal(got.partitions, 4);
    assert_int_equal(got.job_id, 1);
    assert_int_equal(got.nbounds, 3);
    assert_int_equal(got.bounds[0].n, 0);
    assert_keys_equal(&p.bounds[1], &got.bounds[1]);
    assert_keys_equal(&p.bounds[2], &got.bounds[2]);
    assert_string_equal(got.detail, "{\"plan\":\"x\"}");
    assert_non_null(got.created_at);
    struct stream_state ss = {0};
    OK(st, state_load(st, "s", "", &ss));
    assert_int_equal(ss.phase, PHASE_RUNNING);
    assert_string_equal(ss.fingerprint, "fp partitions=4");
    assert_keys_equal(&range.upper, &ss.range.upper);
    stream_state_clear(&ss);
    /* The partition of the earlier job is gone; a new one is kept. */
    OK(st, state_load(st, "s", "0002", &ss));
    assert_int_equal(ss.job_id, 0);
    OK(st, state_begin_job(st, "s", "0001", "fp plan=x", "/o.part-0001", NULL));
    OK(st, state_plan_set_detail(st, "s", "{\"plan\":\"y\"}"));
    OK(st, state_load_plan(st, "s", &got));
    assert_string_equal(got.detail, "{\"plan\":\"y\"}");
    struct state_stream *v;
    size_t n;
    OK(st, state_list_streams(st, "s", &v, &n));
    assert_int_equal(n, 2);
    assert_string_equal(v[1].partition, "0001");
    state_streams_free(v, n);
    /* The next job replaces the plan and forgets partition 0001. */
    key_clear(&p.bounds[1]);
    partition_plan_clear(&p);
    p.partitions = 1;
    OK(st, state_finish_job(st, "s", "", NULL));
    OK(st, state_begin_planned_job(st, "s", "fp partitions=1", "/o", NULL, &p));
    assert_int_equal(p.job_id, 2);
    OK(st, state_load_plan(st, "s", &got));
    assert_int_equal(got.partitions, 1);
    assert_int_equal(got.nbounds, 0);
    assert_null(got.detail);
    OK(st, state_list_streams(st, "s", &v, &n));
    assert_int_equal(n, 1);
    state_streams_free(v, n);
    partition_plan_clear(&got);
    partition_plan_clear(&p);
    key_clear(&range.upper);
    stream_state_clear(&ss);
    state_close(st);
}

/* status reads: every stream and partition with its checkpoint, the runs
 * newest first with their outputs, and whether a stream is being run. */
static void test_status_reads(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path), *other = open_ok(f->path);
    struct keytuple k = {0};
    make_all_kinds(&k);
    int64_t r1, r2, r3;
    OK(st, state_begin_job(st, "b", "", "fp", "/o/b.ndjson", NULL));
    OK(st, state_checkpoint(st, "b", "", &k, 0, 7, 70, NULL));
    OK(st, state_begin_job(st, "a", "0001", "fp", "/o/a.part-0001", NULL));
    OK(st, state_begin_job(st, "a", "0000", "fp", "/o/a.part-0000", NULL));
    OK(st, state_run_start(st, "b", "", "/o/b-1.ndjson", 1000, &r1));
    OK(st, state_run_end(st, r1, "done", 1000, 5000, 0, NULL));
    OK(st, state_run_start(st, "b", "", "/o/b-2.ndjson", 1000, &r2));
    OK(st, state_run_end(st, r2, "failed", 7, 70, 1, "disk full"));
    OK(st, state_run_start(st, "b", "", "/o/b-3.ndjson", -1, &r3));

    struct state_stream *v;
    size_t n;
    OK(st, state_list_streams(st, NULL, &v, &n));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].stream, "a");
    assert_string_equal(v[0].partition, "0000");
    assert_string_equal(v[1].partition, "0001");
    assert_string_equal(v[2].stream, "b");
    assert_int_equal(v[2].s.phase, PHASE_RUNNING);
    assert_int_equal(v[2].s.rows, 7);
    assert_int_equal(v[2].s.bytes, 70);
    assert_int_equal(v[2].s.key.n, k.n);
    assert_string_equal(v[2].s.output, "/o/b.ndjson");
    assert_non_null(v[2].updated_at);
    state_streams_free(v, n);
    OK(st, state_list_streams(st, "a", &v, &n));
    assert_int_equal(n, 2);
    state_streams_free(v, n);

    struct state_run *runs;
    OK(st, state_list_runs(st, "b", NULL, NULL, 10, &runs, &n));
    assert_int_equal(n, 3);
    assert_int_equal(runs[0].id, r3); /* newest first */
    assert_string_equal(runs[0].status, "running");
    assert_null(runs[0].ended_at);
    assert_int_equal(runs[0].row_estimate, -1);
    assert_string_equal(runs[1].status, "failed");
    assert_string_equal(runs[1].last_error, "disk full");
    assert_int_equal(runs[1].warnings, 1);
    assert_string_equal(runs[2].output, "/o/b-1.ndjson");
    assert_int_equal(runs[2].row_estimate, 1000);
    assert_int_equal(runs[2].rows, 1000);
    assert_non_null(runs[2].ended_at);
    state_runs_free(runs, n);
    OK(st, state_list_runs(st, "b", "", "done", 10, &runs, &n));
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].output, "/o/b-1.ndjson");
    state_runs_free(runs, n);
    OK(st, state_list_runs(st, "b", NULL, NULL, 1, &runs, &n));
    assert_int_equal(n, 1);
    state_runs_free(runs, n);

    assert_int_equal(state_stream_busy(other, "b", ""), 0);
    OK(st, state_lock_stream(st, "b", ""));
    assert_int_equal(state_stream_busy(other, "b", ""), 1);
    assert_int_equal(state_stream_busy(other, "a", "0000"), 0);
    state_close(st);
    assert_int_equal(state_stream_busy(other, "b", ""), 0);
    state_close(other);
    key_clear(&k);
}

/* Segments: recorded with their checkpoints, read back in order with
 * their keys, kept by a resumed attempt, dropped by a new job. */
static void test_segments(void **ctx)
{
    struct fx *f = *ctx;
    struct state *st = open_ok(f->path);
    struct keytuple a = {0}, b = {0}, all = {0};
    assert_int_equal(key_init(&a, 1), 0);
    key_set_int(&a, 0, 1);
    assert_int_equal(key_init(&b, 1), 0);
    key_set_int(&b, 0, 10);
    make_all_kinds(&all);
    OK(st, state_begin_job(st, "s", "", "fp", "o", NULL));
    const struct state_segment s0 = {.rows = 10, .start = 0, .end = 100,
                                     .digest = "0123456789abcdef0123456789abcdef",
                                     .first = &a, .last = &b};
    OK(st, state_checkpoint(st, "s", "", &b, 10, 10, 100, &s0));
    OK(st, state_begin_attempt(st, "s", "", "o"));
    const struct state_segment s1 = {.rows = 5, .start = 100, .end = 160, .digest = "ff",
                                     .first = &all, .last = NULL};
    OK(st, state_mark_finishing(st, "s", "", 15, 15, 160, &s1));
    struct state_segment_rec *v;
    size_t n;
    OK(st, state_list_segments(st, "s", "", &v, &n));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].seq, 0);
    assert_int_equal(v[0].rows, 10);
    assert_int_equal(v[0].end, 100);
    assert_string_equal(v[0].digest, "0123456789abcdef0123456789abcdef");
    assert_int_equal(v[0].first.v[0].i, 1);
    assert_int_equal(v[0].last.v[0].i, 10);
    assert_int_equal(v[1].seq, 1);
    assert_int_equal(v[1].start, 100);
    assert_int_equal(v[1].first.n, all.n);
    assert_int_equal(v[1].first.v[1].kind, all.v[1].kind);
    assert_int_equal(v[1].last.n, 0);
    state_segments_free(v, n);
    OK(st, state_finish_job(st, "s", "", NULL));
    OK(st, state_list_segments(st, "s", "", &v, &n));
    assert_int_equal(n, 2); /* the last job's, until a new one starts */
    state_segments_free(v, n);
    OK(st, state_begin_job(st, "s", "", "fp", "o", NULL));
    OK(st, state_list_segments(st, "s", "", &v, &n));
    assert_int_equal(n, 0);
    state_segments_free(v, n);
    key_clear(&a);
    key_clear(&b);
    key_clear(&all);
    state_close(st);
}

/* A store written by sluice 6cde1d5 (schema 2): an incremental stream's
 * high-water mark and a full job killed after its first checkpoint. It
 * opens, is brought to the current schema, and keeps both. */
static void test_migrates_6cde1d5_store(void **ctx)
{
    struct fx *f = *ctx;
    const char *src = getenv("SLUICE_SRC");
    char fixture[512], cmd[1200];
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/state-6cde1d5.db",
             src && *src ? src : SLUICE_SOURCE_DIR);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", fixture, f->path);
    assert_int_equal(system(cmd), 0);
    struct state *st = open_ok(f->path);
    struct stream_state s = {0};
    OK(st, state_load(st, "src.db main.t incremental", "", &s));
    assert_int_equal(s.phase, PHASE_IDLE);
    assert_int_equal(s.high_water.n, 1);
    assert_int_equal(s.high_water.v[0].kind, KEY_TEXT);
    assert_string_equal(s.high_water.v[0].s, "2024-01-01 00:00:59");
    OK(st, state_load(st, "src.db main.t -> /tmp/fx/full.ndjson", "", &s));
    assert_int_equal(s.phase, PHASE_RUNNING);
    assert_int_equal(s.rows, 100);
    assert_int_equal(s.bytes, 4684);
    assert_int_equal(s.key.n, 1);
    assert_int_equal(s.key.v[0].kind, KEY_INT);
    assert_int_equal(s.key.v[0].i, 100);
    stream_state_clear(&s);
    struct state_run *runs;
    size_t n;
    OK(st, state_list_runs(st, "src.db main.t incremental", NULL, NULL, 5, &runs, &n));
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].status, "done");
    assert_int_equal(runs[0].rows, 5000);
    assert_null(runs[0].output); /* schema 2 did not record it */
    state_runs_free(runs, n);
    /* The job goes on in the migrated store. */
    OK(st, state_begin_attempt(st, "src.db main.t -> /tmp/fx/full.ndjson", "", "/tmp/fx/full.ndjson"));
    state_close(st);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 4); /* the current schema */
    sqlite3_finalize(q);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_file_mode),
        T(test_unknown_stream),
        T(test_checkpoint_round_trip),
        T(test_begin_attempt),
        T(test_finish_sets_high_water),
        T(test_second_job_keeps_high_water),
        T(test_discard_keeps_high_water),
        T(test_streams_independent),
        T(test_run_history),
        T(test_reopen_keeps_state),
        T(test_random_bytes_refused),
        T(test_foreign_sqlite_refused),
        T(test_foreign_app_id_refused),
        T(test_newer_schema_refused),
        T(test_empty_file_accepted),
        T(test_read_only_store),
        T(test_busy_store),
        T(test_job_range_round_trip),
        T(test_stream_lock),
        T(test_status_reads),
        T(test_partition_plans),
        T(test_migrates_6cde1d5_store),
        T(test_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
