/* test_pump.c - the row loop and its checkpoints, driven by a fake driver
 * with scripted rows, a real sink and a real state store in a temp dir.
 *
 * The fake table has rows (id INT, name TEXT) with ids 1..N. A scan honours
 * spec->after (keyset/cursor) and spec->offset (offset paging), can fail
 * with SOURCE_ECONN when row K is due, and can raise the stop flag as it
 * returns row K. Each test checks what a user relies on: the checkpoint
 * never points past durable output, and a resume from it yields the file an
 * uninterrupted run writes, byte for byte.
 *
 * This test is linked with -Wl,--wrap for fsync, fdatasync,
 * state_checkpoint and state_mark_finishing (tests/CMakeLists.txt): every
 * state commit of every run here is checked to point only at bytes of the
 * output that an fsync already covered, and a script can make an fsync of
 * the output fail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "encode/json.h"
#include "source/key.h"
#include "job/pump.h"
#include "output/sink.h"
#include "source/scan.h"
#include "source/source.h"
#include "state/state.h"

#define STREAM "fake.t"
#define PARTITION ""

/* ---- the order of fsyncs and state commits ------------------------------ */

/* The linker sends the core's calls of these to __wrap_NAME, and
 * __real_NAME reaches the real one. SQLite is a shared library: its own
 * fsyncs of the state store are not seen here. */
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_state_checkpoint(struct state *st, const char *stream, const char *partition,
                            const struct keytuple *key, uint64_t offset, uint64_t rows,
                            uint64_t bytes, const struct state_segment *seg);
int __real_state_mark_finishing(struct state *st, const char *stream, const char *partition,
                                uint64_t offset, uint64_t rows, uint64_t bytes,
                                const struct state_segment *seg);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_state_checkpoint(struct state *st, const char *stream, const char *partition,
                            const struct keytuple *key, uint64_t offset, uint64_t rows,
                            uint64_t bytes, const struct state_segment *seg);
int __wrap_state_mark_finishing(struct state *st, const char *stream, const char *partition,
                                uint64_t offset, uint64_t rows, uint64_t bytes,
                                const struct state_segment *seg);

/* What one run did, reset by run_job. The checkpointer's worker thread
 * writes it too, hence the lock; failures are recorded, not asserted
 * (cmocka cannot fail a test from another thread), and checked after the
 * run. */
static struct {
    pthread_mutex_t lock;
    char path[160];      /* the output watched (the sink's partial file) */
    unsigned fail_sync;  /* that fsync of the output (1-based) fails */
    uint64_t synced;     /* bytes of the output a successful fsync covered */
    unsigned syncs;      /* fsyncs of the output, failed ones included */
    unsigned commits;    /* state_checkpoint and state_mark_finishing calls */
    unsigned early;      /* commits that pointed past the synced bytes */
    char first_early[256];
} order = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void order_reset(const char *path, unsigned fail_sync)
{
    pthread_mutex_lock(&order.lock);
    snprintf(order.path, sizeof order.path, "%s", path);
    order.fail_sync = fail_sync;
    order.synced = 0;
    order.syncs = order.commits = order.early = 0;
    order.first_early[0] = '\0';
    pthread_mutex_unlock(&order.lock);
}

/* An fsync of fd: when fd is the watched output, the bytes it held when
 * the fsync began are durable once it succeeds. */
static int order_sync(int (*real)(int), int fd)
{
    struct stat fst, pst;
    pthread_mutex_lock(&order.lock);
    int watched = order.path[0] && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) &&
                  stat(order.path, &pst) == 0 && fst.st_dev == pst.st_dev &&
                  fst.st_ino == pst.st_ino;
    int fail = watched && ++order.syncs == order.fail_sync;
    pthread_mutex_unlock(&order.lock);
    if (fail) {
        errno = EIO;
        return -1;
    }
    int rc = real(fd);
    if (rc == 0 && watched) {
        pthread_mutex_lock(&order.lock);
        if ((uint64_t)fst.st_size > order.synced)
            order.synced = (uint64_t)fst.st_size;
        pthread_mutex_unlock(&order.lock);
    }
    return rc;
}

static void order_commit(const char *what, uint64_t rows, uint64_t bytes)
{
    pthread_mutex_lock(&order.lock);
    order.commits++;
    if (bytes > order.synced && order.early++ == 0)
        snprintf(order.first_early, sizeof order.first_early,
                 "%s of %llu rows, %llu bytes, when fsyncs covered %llu bytes", what,
                 (unsigned long long)rows, (unsigned long long)bytes,
                 (unsigned long long)order.synced);
    pthread_mutex_unlock(&order.lock);
}

int __wrap_fsync(int fd) { return order_sync(__real_fsync, fd); }
int __wrap_fdatasync(int fd) { return order_sync(__real_fdatasync, fd); }

int __wrap_state_checkpoint(struct state *st, const char *stream, const char *partition,
                            const struct keytuple *key, uint64_t offset, uint64_t rows,
                            uint64_t bytes, const struct state_segment *seg)
{
    order_commit("state_checkpoint", rows, bytes);
    return __real_state_checkpoint(st, stream, partition, key, offset, rows, bytes, seg);
}

int __wrap_state_mark_finishing(struct state *st, const char *stream, const char *partition,
                                uint64_t offset, uint64_t rows, uint64_t bytes,
                                const struct state_segment *seg)
{
    order_commit("state_mark_finishing", rows, bytes);
    return __real_state_mark_finishing(st, stream, partition, offset, rows, bytes, seg);
}

/* ---- the fake driver ---------------------------------------------------- */

struct fake_script {
    uint64_t nrows;   /* ids 1..nrows */
    uint64_t fail_at; /* 0: never; else next_row fails when this id is due */
    uint64_t stop_at; /* 0: never; else *stop is raised returning this id */
    size_t pad;       /* 'x' characters appended to every name (big rows) */
    unsigned fsync_fail; /* 0: never; else the Nth fsync of the output fails (EIO) */
};

/* The script the next scan follows, and the stop flag it may raise. */
static struct fake_script fake_next;
static atomic_int fake_stop;

/* What the fake handed out over a whole scan (all its pages). */
static struct {
    uint64_t first_id;        /* id of the first row returned; 0: none */
    uint64_t returned;        /* rows returned */
    int calls_after_end;      /* next_row calls past the table's last row */
} fake_seen;

/* One execution: rows after the lower bound, at most LIMIT, skipping
 * OFFSET. */
struct fake_result {
    struct result base;
    uint64_t next_id, end_id; /* ids next_id .. end_id-1 remain */
    uint64_t last_id;         /* id of the row last returned; 0: none */
    struct cell cells[2];
    char *name;
};

static const struct source_driver fake_driver;

static int fake_claims(const char *url) { return strncmp(url, "fake:", 5) == 0; }

static int fake_open(const char *url, struct source **out)
{
    (void)url;
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return SOURCE_ENOMEM;
    s->drv = &fake_driver;
    *out = s;
    return 0;
}

static void fake_close(struct source *src) { free(src); }

static int fake_list_tables(struct source *src, struct strlist *out)
{
    (void)src;
    return strlist_add(out, "t");
}

static int fake_describe(struct source *src, const char *table, struct table_desc **out)
{
    (void)table; (void)out;
    return source_fail(src, SOURCE_EUSAGE, "the fake driver describes nothing");
}

static void fake_column_ref(struct buf *b, const struct table_desc *t, const char *name)
{
    (void)t;
    buf_puts(b, name);
}

static const struct sql_dialect fake_dialect = {.column_ref = fake_column_ref, .row_values = 1};

static int fake_prepare(struct source *src, const struct query *q, struct stmt **out)
{
    struct stmt *st = calloc(1, sizeof *st);
    if (!st)
        return SOURCE_ENOMEM;
    st->src = src;
    st->q = q;
    *out = st;
    assert_int_equal(q->ncolumns, 2);
    assert_int_equal(q->nkey, 1);
    return 0;
}

static void fake_finalize(struct stmt *st) { free(st); }

/* Reads the query's slots: the key value is the lower bound (exclusive),
 * the integers are LIMIT then OFFSET. */
static int fake_execute(struct stmt *st, const struct keyval *values, struct result **out)
{
    struct fake_result *r = calloc(1, sizeof *r);
    if (!r)
        return SOURCE_ENOMEM;
    r->base.st = st;
    r->name = malloc(64 + fake_next.pad);
    *out = &r->base;
    if (!r->name)
        return SOURCE_ENOMEM;
    uint64_t after = 0, limit = 0, offset = 0;
    int ints = 0;
    const struct query *q = st->q;
    for (size_t i = 0; i < q->nslots; i++) {
        const struct keyval *v = &values[q->slots[i].value];
        /* The checkpointed key must come back as it was written. */
        assert_int_equal(v->kind, KEY_INT);
        if (q->slots[i].column)
            after = (uint64_t)v->i;
        else if (ints++ == 0)
            limit = (uint64_t)v->i;
        else
            offset = (uint64_t)v->i;
    }
    r->next_id = after + offset + 1;
    r->end_id = limit ? r->next_id + limit : UINT64_MAX;
    return 0;
}

static int fake_next_row(struct result *res, const struct cell **row)
{
    struct fake_result *r = (struct fake_result *)res;
    uint64_t id = r->next_id;
    if (id > fake_next.nrows) {
        fake_seen.calls_after_end++;
        return 0;
    }
    if (id >= r->end_id)
        return 0;
    if (id == fake_next.fail_at)
        return source_fail(res->st->src, SOURCE_ECONN,
                           "server closed the connection unexpectedly at row %llu",
                           (unsigned long long)id);
    int n = snprintf(r->name, 64, "name-%llu \"\xc3\xa9\"", (unsigned long long)id);
    memset(r->name + n, 'x', fake_next.pad);
    r->cells[0] = (struct cell){.kind = CELL_INT, .v.i = (int64_t)id};
    r->cells[1] = (struct cell){.kind = CELL_TEXT, .len = (size_t)n + fake_next.pad,
                                .v.s = r->name};
    *row = r->cells;
    r->next_id++;
    r->last_id = id;
    if (!fake_seen.first_id)
        fake_seen.first_id = id;
    fake_seen.returned++;
    if (id == fake_next.stop_at)
        atomic_store(&fake_stop, 1);
    return 1;
}

static int fake_row_key(struct result *res, struct keytuple *key)
{
    struct fake_result *r = (struct fake_result *)res;
    assert_true(r->last_id > 0); /* asked only after a row */
    key_clear(key);
    if (key_init(key, 1) < 0)
        return source_fail(res->st->src, SOURCE_ENOMEM, "out of memory");
    return key_set_int(key, 0, (int64_t)r->last_id);
}

static void fake_close_result(struct result *res)
{
    struct fake_result *r = (struct fake_result *)res;
    if (!r)
        return;
    free(r->name);
    free(r);
}

static int fake_read(struct source *src) { (void)src; return 0; }

static const struct source_driver fake_driver = {
    .name = "fake",
    .dialect = &fake_dialect,
    .claims = fake_claims,
    .open = fake_open,
    .close = fake_close,
    .list_tables = fake_list_tables,
    .describe = fake_describe,
    .prepare = fake_prepare,
    .execute = fake_execute,
    .next_row = fake_next_row,
    .row_key = fake_row_key,
    .close_result = fake_close_result,
    .finalize = fake_finalize,
    .begin_read = fake_read,
    .end_read = fake_read,
};

/* ---- expected output ---------------------------------------------------- */

/* The NDJSON of rows from..to, written independently of the encoder. */
static char *expected(uint64_t from, uint64_t to, size_t pad, size_t *len)
{
    size_t cap = (to >= from ? (size_t)(to - from + 1) : 0) * (64 + pad) + 1, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '\0';
    for (uint64_t id = from; id <= to; id++) {
        n += (size_t)snprintf(s + n, cap - n, "{\"id\":%llu,\"name\":\"name-%llu \\\"\xc3\xa9\\\"",
                              (unsigned long long)id, (unsigned long long)id);
        memset(s + n, 'x', pad);
        n += pad;
        n += (size_t)snprintf(s + n, cap - n, "\"}\n");
    }
    *len = n;
    return s;
}

static size_t expected_len(uint64_t from, uint64_t to, size_t pad)
{
    size_t n;
    free(expected(from, to, pad, &n));
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    char *s = malloc((size_t)st.st_size + 1);
    assert_non_null(s);
    *len = fread(s, 1, (size_t)st.st_size, f);
    assert_int_equal(*len, (size_t)st.st_size);
    fclose(f);
    return s;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("cannot stat %s", path);
    return (uint64_t)st.st_size;
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    char dir[64];
    char out[128];     /* the output path given to the sink */
    char partial[160]; /* what the sink writes until publish */
    char state[128];
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
    snprintf(f->dir, sizeof f->dir, "%s/sluice-pump-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->out, sizeof f->out, "%s/out.ndjson", f->dir);
    snprintf(f->partial, sizeof f->partial, "%s.partial", f->out);
    snprintf(f->state, sizeof f->state, "%s/state.db", f->dir);
    *ctx = f;
    return 0;
}

static int teardown(void **ctx)
{
    struct fx *f = *ctx;
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- one run, wired as src/extract.c wires it --------------------------- */

struct run {
    enum pump_status st;
    uint64_t rows, bytes, offset, run_rows; /* the pump's counters after */
    char err[1024];                         /* pump err, or the source's */
    uint64_t first_id, returned;            /* what the fake handed out */
    int calls_after_end;
    struct stream_state ss;                 /* the store after the run */
};

/* A fresh job (resume 0) or the next attempt of the running one (resume 1):
 * the sink is cut back to the checkpointed bytes and the scan continues
 * after the checkpointed key or offset. Returns 0, or -1 with a message in
 * r->err when the wiring itself failed (no cmocka calls: it also runs in a
 * forked child). */
static int run_job(const struct fx *f, const struct fake_script *script,
                   enum paging paging, uint64_t every, int resume, struct run *r)
{
    static const char *const cols[] = {"id", "name"};
    static const char *const keycols[] = {"id"};
    struct state *st = NULL;
    struct sink *sink = NULL;
    struct source *src = NULL;
    struct scan *scan = NULL;
    struct json_row enc = {0};
    struct stream_state before = {0};
    int rc = -1;

    memset(r, 0, sizeof *r);
    fake_next = *script;
    atomic_store(&fake_stop, 0);
    memset(&fake_seen, 0, sizeof fake_seen);
    order_reset(f->partial, script->fsync_fail);
    if (state_open(&st, f->state) < 0 ||
        state_load(st, STREAM, PARTITION, &before) < 0) {
        snprintf(r->err, sizeof r->err, "state: %s", st ? state_error(st) : "oom");
        goto out;
    }
    if (resume && before.phase != PHASE_RUNNING) {
        snprintf(r->err, sizeof r->err, "resume: the stream is not RUNNING");
        goto out;
    }
    uint64_t resume_bytes = resume ? before.bytes : 0;
    if (sink_open(&sink, f->out, SINK_PLAIN, 0, resume_bytes) < 0) {
        snprintf(r->err, sizeof r->err, "sink: %s", sink ? sink_error(sink) : "oom");
        goto out;
    }
    if ((resume ? state_begin_attempt(st, STREAM, PARTITION, f->out)
                : state_begin_job(st, STREAM, PARTITION, "fingerprint", f->out, NULL)) < 0 ||
        state_load(st, STREAM, PARTITION, &before) < 0) {
        snprintf(r->err, sizeof r->err, "state: %s", state_error(st));
        goto out;
    }
    if (source_open(&fake_driver, "fake:", &src) < 0) {
        snprintf(r->err, sizeof r->err, "fake open failed");
        goto out;
    }
    struct table_desc table = {.name = "t"};
    struct scan_spec spec = {
        .paging = paging, .table = &table, .columns = cols, .ncolumns = 2, .key = keycols,
        .nkey = 1, .page_size = 7,
    };
    if (paging == PAGING_OFFSET)
        spec.offset = before.offset;
    else if (before.key.n)
        spec.after = &before.key;
    if (scan_open(src, &spec, &scan) < 0 || json_row_init(&enc, cols, 2) < 0) {
        snprintf(r->err, sizeof r->err, "scan: %.900s", source_error(src));
        goto out;
    }
    struct pump p = {
        .scan = scan, .sink = sink, .state = st, .stream = STREAM,
        .partition = PARTITION, .encoder = &enc, .checkpoint_every = every,
        .stop = &fake_stop,
        .offset = before.offset, .rows = before.rows, .bytes = before.bytes,
    };
    r->st = pump_run(&p);
    r->rows = p.rows;
    r->bytes = p.bytes;
    r->offset = p.offset;
    r->run_rows = p.run_rows;
    snprintf(r->err, sizeof r->err, "%s",
             r->st == PUMP_ESOURCE ? source_error(src) : p.err);
    r->first_id = fake_seen.first_id;
    r->returned = fake_seen.returned;
    r->calls_after_end = fake_seen.calls_after_end;
    if (state_load(st, STREAM, PARTITION, &r->ss) < 0) {
        snprintf(r->err, sizeof r->err, "state: %s", state_error(st));
        goto out;
    }
    rc = 0;
out:
    scan_close(scan);
    source_close(src);
    json_row_free(&enc);
    sink_close(sink);
    stream_state_clear(&before);
    state_close(st);
    return rc;
}

static void run_ok(const struct fx *f, const struct fake_script *script,
                   enum paging paging, uint64_t every, int resume, struct run *r)
{
    if (run_job(f, script, paging, every, resume, r) < 0)
        fail_msg("run_job: %s", r->err);
    if (order.early)
        fail_msg("%u state commit(s) before the output's fsync, the first: %s", order.early,
                 order.first_early);
}

static const char *status_name(enum pump_status s)
{
    static const char *const names[] = {"DONE", "STOPPED", "ESOURCE", "EOUTPUT",
                                        "ESTATE", "ENOMEM"};
    return (unsigned)s < 6 ? names[s] : "?";
}

static void assert_status(const struct run *r, enum pump_status want)
{
    if (r->st != want)
        fail_msg("pump_run: %s, want %s (%s)", status_name(r->st), status_name(want), r->err);
}

/* The store holds a RUNNING job checkpointed after row `rows` (ids 1..rows):
 * key = that id, bytes = exactly those rows' lines, which are durable. */
static void assert_checkpoint(const struct fx *f, const struct run *r, uint64_t rows,
                              size_t pad)
{
    const struct stream_state *ss = &r->ss;
    assert_int_equal(ss->phase, PHASE_RUNNING);
    assert_int_equal(ss->rows, rows);
    assert_int_equal(ss->offset, rows);
    assert_int_equal(ss->bytes, expected_len(1, rows, pad));
    if (rows == 0) {
        assert_int_equal(ss->key.n, 0);
    } else {
        assert_int_equal(ss->key.n, 1);
        assert_int_equal(ss->key.v[0].kind, KEY_INT);
        assert_int_equal(ss->key.v[0].i, (int64_t)rows);
    }
    /* The pump's view agrees with the store. */
    assert_int_equal(r->rows, rows);
    assert_int_equal(r->bytes, ss->bytes);
    /* Durable: the file holds at least those bytes, and they are the rows. */
    size_t len, want_len;
    char *got = slurp(f->partial, &len);
    char *want = expected(1, rows, pad, &want_len);
    assert_true(len >= want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
}

/* The job's segments tile the file: contiguous byte ranges from 0 to its
 * end, rows adding up to n, each digest the XXH3-128 of its bytes, each
 * first key the id of its first row and each last key that of its last
 * (none for the last segment, which ends with the job). */
static void assert_segments(const struct fx *f, uint64_t n)
{
    struct state *st = NULL;
    if (state_open(&st, f->state) < 0)
        fail_msg("state: %s", state_error(st));
    struct state_segment_rec *seg;
    size_t nseg;
    if (state_list_segments(st, STREAM, PARTITION, &seg, &nseg) < 0)
        fail_msg("segments: %s", state_error(st));
    size_t len;
    char *file = slurp(f->partial, &len);
    uint64_t at = 0, rows = 0;
    for (size_t i = 0; i < nseg; i++) {
        assert_int_equal(seg[i].seq, (int64_t)i);
        assert_int_equal(seg[i].start, at);
        assert_true(seg[i].end >= seg[i].start && seg[i].end <= len);
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(file + seg[i].start, seg[i].end - seg[i].start));
        char hex[33];
        for (size_t b = 0; b < 16; b++)
            snprintf(hex + 2 * b, 3, "%02x", c.digest[b]);
        assert_string_equal(seg[i].digest, hex);
        uint64_t lines = 0;
        for (uint64_t b = seg[i].start; b < seg[i].end; b++)
            lines += file[b] == '\n';
        assert_int_equal(seg[i].rows, lines);
        if (lines) {
            assert_int_equal(seg[i].first.n, 1);
            assert_int_equal(seg[i].first.v[0].i, (int64_t)(rows + 1));
        }
        if (i + 1 < nseg) {
            assert_int_equal(seg[i].last.n, 1);
            assert_int_equal(seg[i].last.v[0].i, (int64_t)(rows + lines));
        } else {
            assert_int_equal(seg[i].last.n, 0);
        }
        rows += lines;
        at = seg[i].end;
    }
    assert_int_equal(at, len);
    assert_int_equal(rows, n);
    free(file);
    state_segments_free(seg, nseg);
    state_close(st);
}

/* The job is FINISHING with all n rows, and the file is exactly their NDJSON. */
static void assert_complete(const struct fx *f, const struct run *r, uint64_t n, size_t pad)
{
    assert_status(r, PUMP_DONE);
    assert_int_equal(r->ss.phase, PHASE_FINISHING);
    assert_int_equal(r->ss.rows, n);
    assert_int_equal(r->ss.offset, n);
    assert_int_equal(r->rows, n);
    size_t len, want_len;
    char *got = slurp(f->partial, &len);
    char *want = expected(1, n, pad, &want_len);
    assert_int_equal(r->ss.bytes, file_size(f->partial));
    assert_int_equal(r->bytes, r->ss.bytes);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
    assert_segments(f, n);
}

/* ---- tests -------------------------------------------------------------- */

static void test_full_run(void **ctx)
{
    struct fx *f = *ctx;
    struct fake_script s = {.nrows = 95};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(r.run_rows, 95);
    assert_int_equal(r.first_id, 1);
    assert_int_equal(r.returned, 95);
    assert_int_equal(r.calls_after_end, 1); /* the end is read once, not past */
    stream_state_clear(&r.ss);

    /* The first line, spelled out. */
    size_t len;
    char *got = slurp(f->partial, &len);
    const char *first = "{\"id\":1,\"name\":\"name-1 \\\"\xc3\xa9\\\"\"}\n";
    assert_memory_equal(got, first, strlen(first));
    free(got);
}

static void test_full_run_edges(void **ctx)
{
    struct fx *f = *ctx;
    struct run r;
    /* Rows a multiple of the cadence: the last checkpoint is the end. */
    struct fake_script s = {.nrows = 30};
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_complete(f, &r, 30, 0);
    stream_state_clear(&r.ss);
    /* An empty table: a finished job with an empty file. */
    s.nrows = 0;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_complete(f, &r, 0, 0);
    assert_int_equal(file_size(f->partial), 0);
    stream_state_clear(&r.ss);
    /* A cadence larger than the table: only the final counters. */
    s.nrows = 12;
    run_ok(f, &s, PAGING_KEYSET, 1000, 0, &r);
    assert_complete(f, &r, 12, 0);
    stream_state_clear(&r.ss);
    /* Every row its own checkpoint. */
    s.nrows = 9;
    run_ok(f, &s, PAGING_KEYSET, 1, 0, &r);
    assert_complete(f, &r, 9, 0);
    stream_state_clear(&r.ss);
}

/* Fails at row `fail`, checks the checkpoint at `cp` rows, resumes. */
static void fail_and_resume(struct fx *f, enum paging paging, uint64_t n, uint64_t every,
                            uint64_t fail, uint64_t cp, size_t pad)
{
    struct fake_script s = {.nrows = n, .fail_at = fail, .pad = pad};
    struct run r;
    run_ok(f, &s, paging, every, 0, &r);
    assert_status(&r, PUMP_ESOURCE);
    if (!strstr(r.err, "at row"))
        fail_msg("source message lost: [%s]", r.err);
    assert_int_equal(r.returned, fail - 1);
    assert_checkpoint(f, &r, cp, pad);
    stream_state_clear(&r.ss);

    /* The resume: same command, no failure. */
    s.fail_at = 0;
    run_ok(f, &s, paging, every, 1, &r);
    assert_complete(f, &r, n, pad);
    assert_int_equal(r.first_id, cp + 1);
    assert_int_equal(r.returned, n - cp);
    assert_int_equal(r.run_rows, n - cp);
    assert_int_equal(r.ss.attempt, 2);
    stream_state_clear(&r.ss);
}

static void test_keyset_failure_resume(void **ctx)
{
    fail_and_resume(*ctx, PAGING_KEYSET, 95, 10, 35, 30, 0);
}

static void test_cursor_failure_resume(void **ctx)
{
    fail_and_resume(*ctx, PAGING_CURSOR, 95, 10, 35, 30, 0);
}

static void test_offset_failure_resume(void **ctx)
{
    fail_and_resume(*ctx, PAGING_OFFSET, 95, 10, 35, 30, 0);
}

/* Failure right after a checkpoint, and at the very first row. */
static void test_failure_at_boundaries(void **ctx)
{
    fail_and_resume(*ctx, PAGING_KEYSET, 50, 10, 31, 30, 0);
}

static void test_failure_at_first_row(void **ctx)
{
    fail_and_resume(*ctx, PAGING_KEYSET, 50, 10, 1, 0, 0);
}

/* Rows large enough that the sink writes rows past the checkpoint before
 * the failure: the resume must cut them off. */
static void test_big_rows_failure_resume(void **ctx)
{
    struct fx *f = *ctx;
    const size_t pad = 100000;
    struct fake_script s = {.nrows = 50, .fail_at = 35, .pad = pad};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 20, 0, &r);
    assert_status(&r, PUMP_ESOURCE);
    assert_checkpoint(f, &r, 20, pad);
    /* Written but not checkpointed: the file is longer than the checkpoint. */
    assert_true(file_size(f->partial) > r.ss.bytes);
    stream_state_clear(&r.ss);
    s.fail_at = 0;
    run_ok(f, &s, PAGING_KEYSET, 20, 1, &r);
    assert_complete(f, &r, 50, pad);
    assert_int_equal(r.first_id, 21);
    stream_state_clear(&r.ss);
}

/* Two failures in a row, then a resume: each attempt continues the last. */
static void test_repeated_failures(void **ctx)
{
    struct fx *f = *ctx;
    struct fake_script s = {.nrows = 95, .fail_at = 35};
    struct run r;
    run_ok(f, &s, PAGING_OFFSET, 10, 0, &r);
    assert_status(&r, PUMP_ESOURCE);
    stream_state_clear(&r.ss);
    s.fail_at = 78;
    run_ok(f, &s, PAGING_OFFSET, 10, 1, &r);
    assert_status(&r, PUMP_ESOURCE);
    assert_int_equal(r.first_id, 31);
    assert_checkpoint(f, &r, 70, 0);
    stream_state_clear(&r.ss);
    s.fail_at = 0;
    run_ok(f, &s, PAGING_OFFSET, 10, 1, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(r.first_id, 71);
    assert_int_equal(r.ss.attempt, 3);
    stream_state_clear(&r.ss);
}

static void stop_and_resume(struct fx *f, uint64_t stop_at)
{
    struct fake_script s = {.nrows = 95, .stop_at = stop_at};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_status(&r, PUMP_STOPPED);
    assert_int_equal(r.returned, stop_at); /* no row read after the stop */
    assert_checkpoint(f, &r, stop_at, 0);
    /* Nothing past the checkpoint was left in the file. */
    assert_int_equal(file_size(f->partial), r.ss.bytes);
    stream_state_clear(&r.ss);
    s.stop_at = 0;
    run_ok(f, &s, PAGING_KEYSET, 10, 1, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(r.first_id, stop_at + 1);
    stream_state_clear(&r.ss);
}

static void test_stop_mid_page(void **ctx) { stop_and_resume(*ctx, 17); }
static void test_stop_at_checkpoint(void **ctx) { stop_and_resume(*ctx, 20); }
static void test_stop_at_first_row(void **ctx) { stop_and_resume(*ctx, 1); }

/* Stopped on the last row: checkpointed, not finished; the resume reads
 * only the end of the scan and finishes the job. */
static void test_stop_at_last_row(void **ctx)
{
    struct fx *f = *ctx;
    struct fake_script s = {.nrows = 5, .stop_at = 5};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_status(&r, PUMP_STOPPED);
    assert_int_equal(r.calls_after_end, 0); /* the end was never read */
    assert_checkpoint(f, &r, 5, 0);
    stream_state_clear(&r.ss);
    s.stop_at = 0;
    run_ok(f, &s, PAGING_KEYSET, 10, 1, &r);
    assert_complete(f, &r, 5, 0);
    assert_int_equal(r.returned, 0);
    assert_int_equal(r.run_rows, 0);
    stream_state_clear(&r.ss);
}

static void test_checkpoint_every_zero(void **ctx)
{
    struct fx *f = *ctx;
    struct fake_script s = {.nrows = 95, .fail_at = 35};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 0, 0, &r);
    assert_status(&r, PUMP_ESOURCE);
    assert_checkpoint(f, &r, 0, 0); /* the failure loses every row */
    stream_state_clear(&r.ss);
    s.fail_at = 0;
    run_ok(f, &s, PAGING_KEYSET, 0, 1, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(r.first_id, 1); /* started over */
    assert_int_equal(r.run_rows, 95);
    stream_state_clear(&r.ss);

    /* A stop with no cadence still checkpoints where it stopped. */
    s.stop_at = 40;
    run_ok(f, &s, PAGING_KEYSET, 0, 0, &r);
    assert_status(&r, PUMP_STOPPED);
    assert_checkpoint(f, &r, 40, 0);
    stream_state_clear(&r.ss);
}

/* What the child of test_write_failure reports through a pipe. */
struct child_report {
    enum pump_status st;
    uint64_t rows, bytes, offset; /* the pump's counters after the run */
    unsigned early;               /* state commits before the fsync */
    char err[1024];
};

/* The output hits RLIMIT_FSIZE in a forked child between the checkpoints
 * at 20 and 30 rows: the pump reports an output error and the checkpoint
 * stays at 20, the last durable one. A resume then completes the file. */
static void test_write_failure(void **ctx)
{
    struct fx *f = *ctx;
    const size_t pad = 20000;
    struct fake_script s = {.nrows = 60, .pad = pad};
    const rlim_t limit = (rlim_t)expected_len(1, 25, pad);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct run r;
        struct rlimit rl = {limit, limit};
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(101);
        if (run_job(f, &s, PAGING_KEYSET, 10, 0, &r) < 0) {
            fprintf(stderr, "child: %s\n", r.err);
            _exit(100);
        }
        struct child_report rep = {.st = r.st, .rows = r.rows, .bytes = r.bytes,
                                   .offset = r.offset, .early = order.early};
        memcpy(rep.err, r.err, sizeof rep.err);
        if (write(fds[1], &rep, sizeof rep) != (ssize_t)sizeof rep)
            _exit(102);
        stream_state_clear(&r.ss);
        _exit(0);
    }
    close(fds[1]);
    struct child_report rep;
    ssize_t got = read(fds[0], &rep, sizeof rep);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof rep)
        fail_msg("child: exit %d, report of %zd bytes", WEXITSTATUS(status), got);
    if (rep.st != PUMP_EOUTPUT)
        fail_msg("child: pump_run %s, want EOUTPUT (%s)", status_name(rep.st), rep.err);
    if (!strstr(rep.err, "out.ndjson.partial"))
        fail_msg("the message does not name the file: %s", rep.err);
    assert_int_equal(rep.early, 0);
    /* The partial write reached the limit; the checkpoint did not follow. */
    assert_int_equal(file_size(f->partial), limit);

    /* The pump's own counters, known independently of the store: the
     * checkpoint after row 20, and exactly those rows' bytes. */
    assert_int_equal(rep.rows, 20);
    assert_int_equal(rep.offset, 20);
    assert_int_equal(rep.bytes, expected_len(1, 20, pad));
    struct state *st = NULL;
    struct stream_state ss = {0};
    if (state_open(&st, f->state) < 0 || state_load(st, STREAM, PARTITION, &ss) < 0)
        fail_msg("state: %s", st ? state_error(st) : "oom");
    struct run r = {.ss = ss, .rows = rep.rows, .bytes = rep.bytes};
    state_close(st);
    assert_checkpoint(f, &r, 20, pad);
    stream_state_clear(&r.ss);

    run_ok(f, &s, PAGING_KEYSET, 10, 1, &r);
    assert_complete(f, &r, 60, pad);
    assert_int_equal(r.first_id, 21);
    stream_state_clear(&r.ss);
}

/* Every state commit follows an fsync of the bytes it points to (checked
 * by run_ok for every run of this file); here the wrapping is shown to be
 * in place: each checkpoint and the end commit were seen, after fsyncs of
 * the output that cover the whole file. */
static void test_commit_after_fsync(void **ctx)
{
    struct fx *f = *ctx;
    struct fake_script s = {.nrows = 95};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(order.commits, 10); /* 9 checkpoints and FINISHING */
    assert_true(order.syncs >= 10);
    assert_int_equal(order.synced, file_size(f->partial));
    stream_state_clear(&r.ss);
}

/* An fsync of the output fails: the pump reports an output error naming
 * the file (the command exits 5), the stored checkpoint stays the last one
 * whose fsync succeeded, and a resume completes the file. */
static void fsync_failure(struct fx *f, unsigned fail, uint64_t cp)
{
    struct fake_script s = {.nrows = 95, .fsync_fail = fail};
    struct run r;
    run_ok(f, &s, PAGING_KEYSET, 10, 0, &r);
    assert_status(&r, PUMP_EOUTPUT);
    assert_int_equal(order.syncs, fail); /* nothing fsynced after the failure */
    if (!strstr(r.err, "cannot fsync") || !strstr(r.err, "out.ndjson.partial") ||
        !strstr(r.err, strerror(EIO)))
        fail_msg("fsync failure message: [%s]", r.err);
    assert_checkpoint(f, &r, cp, 0);
    stream_state_clear(&r.ss);

    s.fsync_fail = 0;
    run_ok(f, &s, PAGING_KEYSET, 10, 1, &r);
    assert_complete(f, &r, 95, 0);
    assert_int_equal(r.first_id, cp + 1);
    stream_state_clear(&r.ss);
}

/* The fsync of the checkpoint after row 30 (the third) fails. */
static void test_fsync_failure_checkpoint(void **ctx) { fsync_failure(*ctx, 3, 20); }
/* The fsync at the end of the scan (the tenth) fails: not FINISHING. */
static void test_fsync_failure_end(void **ctx) { fsync_failure(*ctx, 10, 90); }
/* The first fsync fails: nothing was ever committed. */
static void test_fsync_failure_first(void **ctx) { fsync_failure(*ctx, 1, 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_run_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyset_failure_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_failure_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_failure_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_at_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_at_first_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_rows_failure_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_mid_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_at_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_at_first_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_at_last_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_every_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_after_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
