/* state.c - the state store on SQLite (see state.h).
 *
 * Layout: sluice_meta (application, schema version), streams (one row per
 * stream and partition: job, attempt, phase, checkpoint counters),
 * stream_keys (the checkpoint, the high-water mark and an incremental job's
 * frozen bounds as key tuples, one row per value, stored natively with its
 * kind), runs (history). The file carries
 * PRAGMA application_id STATE_APP_ID and user_version STATE_SCHEMA so a
 * foreign file is recognised before anything is written to it.
 *
 * A NULL partition means "" (a stream without partitions). */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state/lockfd.h"

#define STATE_APP_ID 0x534c4345 /* 'SLCE' */
#define STATE_SCHEMA 4
#define STATE_BUSY_MS 5000

#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

/* Cached statements, prepared on first use and finalized by state_close(). */
enum stmt_id {
    S_BEGIN_READ,
    S_BEGIN_WRITE,
    S_COMMIT,
    S_ROLLBACK,
    S_LOAD_STREAM,
    S_LOAD_KEYS,
    S_DEL_KEYS,
    S_INS_KEY,
    S_CHECKPOINT,
    S_BEGIN_JOB,
    S_BEGIN_ATTEMPT,
    S_FINISHING,
    S_FINISH,
    S_DISCARD,
    S_RUN_START,
    S_RUN_END,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN_READ] = "BEGIN",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_LOAD_STREAM] =
        "SELECT job_id, attempt, phase, fingerprint, output, offset_rows,"
        " \"rows\", bytes, lower_inclusive FROM streams WHERE stream=?1 AND \"partition\"=?2",
    [S_LOAD_KEYS] =
        "SELECT pos, kind, value FROM stream_keys"
        " WHERE stream=?1 AND \"partition\"=?2 AND role=?3 ORDER BY pos",
    [S_DEL_KEYS] =
        "DELETE FROM stream_keys WHERE stream=?1 AND \"partition\"=?2 AND role=?3",
    [S_INS_KEY] =
        "INSERT INTO stream_keys(stream, \"partition\", role, pos, kind, value)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CHECKPOINT] =
        "UPDATE streams SET offset_rows=?3, \"rows\"=?4, bytes=?5, updated_at=" NOW
        " WHERE stream=?1 AND \"partition\"=?2 AND phase='running'",
    [S_BEGIN_JOB] =
        "INSERT INTO streams(stream, \"partition\", job_id, attempt, phase,"
        " fingerprint, output, offset_rows, \"rows\", bytes, lower_inclusive,"
        " updated_at)"
        " VALUES(?1, ?2, 1, 1, 'running', ?3, ?4, 0, 0, 0, ?5, " NOW ")"
        " ON CONFLICT(stream, \"partition\") DO UPDATE SET job_id=job_id+1,"
        " attempt=1, phase='running', fingerprint=excluded.fingerprint,"
        " output=excluded.output, offset_rows=0, \"rows\"=0, bytes=0,"
        " lower_inclusive=excluded.lower_inclusive, updated_at=excluded.updated_at",
    [S_BEGIN_ATTEMPT] =
        "UPDATE streams SET attempt=attempt+1, output=?3, updated_at=" NOW
        " WHERE stream=?1 AND \"partition\"=?2 AND phase IN ('running','finishing')",
    [S_FINISHING] =
        "UPDATE streams SET phase='finishing', offset_rows=?3, \"rows\"=?4,"
        " bytes=?5, updated_at=" NOW
        " WHERE stream=?1 AND \"partition\"=?2 AND phase='running'",
    [S_FINISH] =
        "UPDATE streams SET phase='idle', offset_rows=0, \"rows\"=0, bytes=0,"
        " updated_at=" NOW
        " WHERE stream=?1 AND \"partition\"=?2 AND phase IN ('running','finishing')",
    [S_DISCARD] =
        "UPDATE streams SET phase='idle', offset_rows=0, \"rows\"=0, bytes=0,"
        " updated_at=" NOW " WHERE stream=?1 AND \"partition\"=?2",
    [S_RUN_START] =
        "INSERT INTO runs(stream, \"partition\", job_id, attempt, started_at,"
        " status, output, row_estimate) VALUES(?1, ?2,"
        " coalesce((SELECT job_id FROM streams WHERE stream=?1 AND \"partition\"=?2), 0),"
        " coalesce((SELECT attempt FROM streams WHERE stream=?1 AND \"partition\"=?2), 0),"
        " " NOW ", 'running', ?3, ?4)",
    [S_RUN_END] =
        "UPDATE runs SET ended_at=" NOW ", status=?2, \"rows\"=?3, bytes=?4,"
        " warnings=?5, last_error=?6 WHERE id=?1",
};

#define STREAM_KEYS_SQL                                                        \
    "CREATE TABLE stream_keys("                                                \
    " stream TEXT NOT NULL,"                                                   \
    " \"partition\" TEXT NOT NULL,"                                            \
    " role TEXT NOT NULL"                                                      \
    "  CHECK(role IN ('checkpoint','high_water','lower','upper')),"            \
    " pos INTEGER NOT NULL,"                                                   \
    " kind INTEGER NOT NULL CHECK(kind BETWEEN 0 AND 4),"                      \
    " value,"                                                                  \
    " PRIMARY KEY(stream, \"partition\", role, pos),"                          \
    " FOREIGN KEY(stream, \"partition\") REFERENCES streams(stream, \"partition\")" \
    "  ON DELETE CASCADE);"

/* Schema 1 -> 2: incremental jobs keep their frozen bounds ('lower' and
 * 'upper' keys, streams.lower_inclusive). */
static const char migrate_1_2_sql[] =
    "ALTER TABLE stream_keys RENAME TO stream_keys_1;"
    STREAM_KEYS_SQL
    "INSERT INTO stream_keys SELECT * FROM stream_keys_1;"
    "DROP TABLE stream_keys_1;"
    "ALTER TABLE streams ADD COLUMN lower_inclusive INTEGER NOT NULL DEFAULT 0;"
    "UPDATE sluice_meta SET value='2' WHERE key='schema_version';"
    "PRAGMA user_version=2;";

/* Schema 3 (added by schema 2 -> 3 as they are): a run records its output
 * and the table's row estimate (status shows the last good output and a
 * run's progress); the boundaries of a partitioned job (one plan per
 * stream, its boundaries as key tuples); and the verifications of
 * outputs. */
#define SCHEMA_3_SQL                                                           \
    "CREATE TABLE partition_plans("                                            \
    " stream TEXT NOT NULL PRIMARY KEY,"                                       \
    " job_id INTEGER NOT NULL,"                                                \
    " partitions INTEGER NOT NULL,"                                            \
    " created_at TEXT NOT NULL,"                                               \
    " detail TEXT);"                                                           \
    "CREATE TABLE plan_bounds("                                                \
    " stream TEXT NOT NULL,"                                                   \
    " idx INTEGER NOT NULL,"                                                   \
    " pos INTEGER NOT NULL,"                                                   \
    " kind INTEGER NOT NULL CHECK(kind BETWEEN 0 AND 4),"                      \
    " value,"                                                                  \
    " PRIMARY KEY(stream, idx, pos),"                                          \
    " FOREIGN KEY(stream) REFERENCES partition_plans(stream) ON DELETE CASCADE);" \
    "CREATE TABLE verifications("                                              \
    " id INTEGER PRIMARY KEY,"                                                 \
    " stream TEXT,"                                                            \
    " output TEXT NOT NULL,"                                                   \
    " verified_at TEXT NOT NULL,"                                              \
    " against TEXT NOT NULL CHECK(against IN ('sidecar','source')),"           \
    " status TEXT NOT NULL,"                                                   \
    " detail TEXT);"                                                           \
    "CREATE INDEX verifications_by_output ON verifications(output, id);"

/* Schema 4: the checkpoint segments of each stream's current job (rows,
 * byte range and digest of the output between two checkpoints, and the
 * keys of their first and last rows), for the sidecar's segment digests. */
#define SCHEMA_4_SQL                                                           \
    "CREATE TABLE segments("                                                   \
    " stream TEXT NOT NULL,"                                                   \
    " \"partition\" TEXT NOT NULL,"                                            \
    " seq INTEGER NOT NULL,"                                                   \
    " \"rows\" INTEGER NOT NULL,"                                              \
    " start_byte INTEGER NOT NULL,"                                            \
    " end_byte INTEGER NOT NULL,"                                              \
    " digest TEXT NOT NULL,"                                                   \
    " PRIMARY KEY(stream, \"partition\", seq),"                                \
    " FOREIGN KEY(stream, \"partition\") REFERENCES streams(stream, \"partition\")" \
    "  ON DELETE CASCADE);"                                                    \
    "CREATE TABLE segment_keys("                                               \
    " stream TEXT NOT NULL,"                                                   \
    " \"partition\" TEXT NOT NULL,"                                            \
    " seq INTEGER NOT NULL,"                                                   \
    " role TEXT NOT NULL CHECK(role IN ('first','last')),"                     \
    " pos INTEGER NOT NULL,"                                                   \
    " kind INTEGER NOT NULL CHECK(kind BETWEEN 0 AND 4),"                      \
    " value,"                                                                  \
    " PRIMARY KEY(stream, \"partition\", seq, role, pos),"                     \
    " FOREIGN KEY(stream, \"partition\", seq)"                                 \
    "  REFERENCES segments(stream, \"partition\", seq) ON DELETE CASCADE);"

static const char migrate_3_4_sql[] =
    SCHEMA_4_SQL
    "UPDATE sluice_meta SET value='4' WHERE key='schema_version';"
    "PRAGMA user_version=4;";

static const char migrate_2_3_sql[] =
    "ALTER TABLE runs ADD COLUMN output TEXT;"
    "ALTER TABLE runs ADD COLUMN row_estimate INTEGER;"
    SCHEMA_3_SQL
    "UPDATE sluice_meta SET value='3' WHERE key='schema_version';"
    "PRAGMA user_version=3;";

static const char schema_sql[] =
    "CREATE TABLE sluice_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO sluice_meta(key, value) VALUES('application', 'sluice'),"
    " ('schema_version', '4'), ('created_at', " NOW ");"
    "CREATE TABLE streams("
    " stream TEXT NOT NULL,"
    " \"partition\" TEXT NOT NULL,"
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " phase TEXT NOT NULL CHECK(phase IN ('idle','running','finishing')),"
    " fingerprint TEXT,"
    " output TEXT,"
    " offset_rows INTEGER NOT NULL DEFAULT 0,"
    " \"rows\" INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " updated_at TEXT NOT NULL,"
    " lower_inclusive INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(stream, \"partition\"));"
    STREAM_KEYS_SQL
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY,"
    " stream TEXT NOT NULL,"
    " \"partition\" TEXT NOT NULL,"
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " status TEXT NOT NULL"
    "  CHECK(status IN ('running','done','failed','interrupted')),"
    " \"rows\" INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " warnings INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " output TEXT,"
    " row_estimate INTEGER);"
    "CREATE INDEX runs_by_stream ON runs(stream, \"partition\", id);"
    SCHEMA_3_SQL
    SCHEMA_4_SQL;

struct state {
    sqlite3 *db;
    char *path;
    int lock_fd; /* the store again (state/lockfd.h), holding this handle's OFD locks; -1 */
    char err[1024];
    sqlite3_stmt *stmt[S_COUNT];
};

#define ROLE_CHECKPOINT "checkpoint"
#define ROLE_HIGH_WATER "high_water"
#define ROLE_LOWER "lower"
#define ROLE_UPPER "upper"

/* First error wins. */
static void fail(struct state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct state *st, const char *fmt, ...)
{
    if (st->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
}

static int fail_db(struct state *st)
{
    fail(st, "state store %s: %s", st->path, sqlite3_errmsg(st->db));
    return -1;
}

static const char *part_of(const char *partition)
{
    return partition ? partition : "";
}

static int not_open(struct state *st)
{
    if (st->db)
        return 0;
    fail(st, "state store %s: not open", st->path ? st->path : "(none)");
    return -1;
}

/* Returns the cached statement, reset and unbound, or NULL (error set). */
static sqlite3_stmt *stmt_get(struct state *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    if (!s) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
                               SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
            fail_db(st);
            return NULL;
        }
        st->stmt[id] = s;
    }
    return s;
}

/* Steps s to completion (no rows expected), then resets it. */
static int stmt_run(struct state *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fail_db(st);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return -1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return 0;
}

static int exec_id(struct state *st, enum stmt_id id)
{
    sqlite3_stmt *s = stmt_get(st, id);
    return s ? stmt_run(st, s) : -1;
}

static void bind_stream(sqlite3_stmt *s, const char *stream, const char *partition)
{
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, part_of(partition), -1, SQLITE_STATIC);
}

/* Runs the UPDATE id on (stream, partition) with an optional text ?3 and
 * returns the number of rows changed, or -1. */
static int update_stream(struct state *st, enum stmt_id id, const char *stream,
                         const char *partition, const char *text3)
{
    sqlite3_stmt *s = stmt_get(st, id);
    if (!s)
        return -1;
    bind_stream(s, stream, partition);
    if (text3)
        sqlite3_bind_text(s, 3, text3, -1, SQLITE_STATIC);
    if (stmt_run(st, s) < 0)
        return -1;
    return sqlite3_changes(st->db);
}

static int tx_begin(struct state *st)
{
    return exec_id(st, S_BEGIN_WRITE);
}

/* Ends the transaction begun by tx_begin(): commits when rc is 0, else
 * rolls back. Returns 0 only when the commit succeeded. */
static int tx_end(struct state *st, int rc)
{
    if (rc == 0 && exec_id(st, S_COMMIT) == 0)
        return 0;
    if (!sqlite3_get_autocommit(st->db))
        exec_id(st, S_ROLLBACK);
    return -1;
}

static void stream_label(char *out, size_t n, const char *stream, const char *partition)
{
    if (partition && *partition)
        snprintf(out, n, "stream %s partition %s", stream, partition);
    else
        snprintf(out, n, "stream %s", stream);
}

static int fail_no_job(struct state *st, const char *stream, const char *partition,
                       const char *what)
{
    char label[512];
    stream_label(label, sizeof label, stream, partition);
    fail(st, "state store %s: %s has no job in progress to %s", st->path, label, what);
    return -1;
}

static int keys_delete(struct state *st, const char *stream, const char *partition,
                       const char *role)
{
    sqlite3_stmt *s = stmt_get(st, S_DEL_KEYS);
    if (!s)
        return -1;
    bind_stream(s, stream, partition);
    sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
    return stmt_run(st, s);
}

static int segments_delete(struct state *st, const char *stream, const char *partition);

/* Binds v as parameters idx (its kind) and idx + 1 (its value, natively).
 * -1 for a kind that does not exist. */
static int bind_value(sqlite3_stmt *s, int idx, const struct keyval *v)
{
    /* A NULL pointer would bind SQL NULL: zero-length values use "". */
    const char *p = v->s ? v->s : "";
    sqlite3_bind_int(s, idx, (int)v->kind);
    switch (v->kind) {
    case KEY_NULL: sqlite3_bind_null(s, idx + 1); return 0;
    case KEY_INT: sqlite3_bind_int64(s, idx + 1, v->i); return 0;
    /* SQLite stores NaN as NULL; read_value turns it back. */
    case KEY_REAL: sqlite3_bind_double(s, idx + 1, v->r); return 0;
    case KEY_TEXT: sqlite3_bind_text64(s, idx + 1, p, v->len, SQLITE_STATIC, SQLITE_UTF8); return 0;
    case KEY_BLOB: sqlite3_bind_blob64(s, idx + 1, p, v->len, SQLITE_STATIC); return 0;
    }
    return -1;
}

/* Value i of t from column col of s, stored with kind. 0, or -1 (out of
 * memory). */
static int read_value(sqlite3_stmt *s, int col, int kind, struct keytuple *t, size_t i)
{
    switch ((enum key_kind)kind) {
    case KEY_NULL:
        return key_set_null(t, i);
    case KEY_INT:
        return key_set_int(t, i, sqlite3_column_int64(s, col));
    case KEY_REAL:
        return key_set_real(t, i, sqlite3_column_type(s, col) == SQLITE_NULL
                                      ? NAN : sqlite3_column_double(s, col));
    case KEY_TEXT:
    case KEY_BLOB: {
        const void *p = kind == KEY_TEXT ? (const void *)sqlite3_column_text(s, col)
                                         : sqlite3_column_blob(s, col);
        size_t len = (size_t)sqlite3_column_bytes(s, col);
        if (!p)
            p = "";
        return kind == KEY_TEXT ? key_set_text(t, i, p, len) : key_set_blob(t, i, p, len);
    }
    }
    return -1;
}

/* Replaces the key rows of role with t (NULL or n 0: none). */
static int keys_store(struct state *st, const char *stream, const char *partition,
                      const char *role, const struct keytuple *t)
{
    if (keys_delete(st, stream, partition, role) < 0)
        return -1;
    if (!t || t->n == 0)
        return 0;
    sqlite3_stmt *s = stmt_get(st, S_INS_KEY);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        bind_stream(s, stream, partition);
        sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)i);
        if (bind_value(s, 5, &t->v[i]) < 0) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            fail(st, "state store %s: key value %zu has an unknown kind %d",
                 st->path, i, (int)t->v[i].kind);
            return -1;
        }
        if (stmt_run(st, s) < 0)
            return -1;
    }
    return 0;
}

static int key_append(struct keytuple *t)
{
    struct keyval *v = realloc(t->v, (t->n + 1) * sizeof *v);
    if (!v)
        return -1;
    memset(&v[t->n], 0, sizeof *v);
    t->v = v;
    t->n++;
    return 0;
}

static int load_keys(struct state *st, const char *stream, const char *partition,
                     const char *role, struct keytuple *t)
{
    sqlite3_stmt *s = stmt_get(st, S_LOAD_KEYS);
    if (!s)
        return -1;
    bind_stream(s, stream, partition);
    sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
    int rc, bad = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t i = t->n;
        sqlite3_int64 pos = sqlite3_column_int64(s, 0);
        int kind = sqlite3_column_int(s, 1);
        if (pos != (sqlite3_int64)i || kind < KEY_NULL || kind > KEY_BLOB) {
            bad = 1;
            break;
        }
        if (key_append(t) < 0) {
            bad = 2;
            break;
        }
        int r = read_value(s, 2, kind, t, i);
        if (r < 0) {
            bad = 2;
            break;
        }
    }
    if (!bad && rc != SQLITE_DONE)
        fail_db(st);
    else if (bad == 1)
        fail(st, "state store %s: corrupt %s key of stream %s", st->path, role, stream);
    else if (bad == 2)
        fail(st, "state store %s: out of memory", st->path);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return (!bad && rc == SQLITE_DONE) ? 0 : -1;
}

static char *dup_column(sqlite3_stmt *s, int col, int *oom)
{
    const unsigned char *p = sqlite3_column_text(s, col);
    if (!p)
        return NULL;
    char *d = strdup((const char *)p);
    if (!d)
        *oom = 1;
    return d;
}

static int load_stream(struct state *st, const char *stream, const char *partition,
                       struct stream_state *out)
{
    sqlite3_stmt *s = stmt_get(st, S_LOAD_STREAM);
    if (!s)
        return -1;
    bind_stream(s, stream, partition);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        const char *phase = (const char *)sqlite3_column_text(s, 2);
        int oom = 0;
        out->job_id = sqlite3_column_int64(s, 0);
        out->attempt = sqlite3_column_int64(s, 1);
        out->fingerprint = dup_column(s, 3, &oom);
        out->output = dup_column(s, 4, &oom);
        out->offset = (uint64_t)sqlite3_column_int64(s, 5);
        out->rows = (uint64_t)sqlite3_column_int64(s, 6);
        out->bytes = (uint64_t)sqlite3_column_int64(s, 7);
        out->range.lower_inclusive = sqlite3_column_int(s, 8);
        if (phase && strcmp(phase, "running") == 0)
            out->phase = PHASE_RUNNING;
        else if (phase && strcmp(phase, "finishing") == 0)
            out->phase = PHASE_FINISHING;
        else
            out->phase = PHASE_IDLE;
        if (oom) {
            fail(st, "state store %s: out of memory", st->path);
            ret = -1;
        }
    } else if (rc != SQLITE_DONE) {
        ret = fail_db(st);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;
}

void stream_state_clear(struct stream_state *s)
{
    free(s->fingerprint);
    free(s->output);
    key_clear(&s->key);
    key_clear(&s->high_water);
    key_clear(&s->range.lower);
    key_clear(&s->range.upper);
    memset(s, 0, sizeof *s);
    s->phase = PHASE_IDLE;
}

int state_load(struct state *st, const char *stream, const char *partition,
               struct stream_state *out)
{
    stream_state_clear(out);
    if (not_open(st) < 0)
        return -1;
    /* One read transaction: the row and its keys come from one snapshot. */
    if (exec_id(st, S_BEGIN_READ) < 0)
        return -1;
    int rc = load_stream(st, stream, partition, out);
    if (rc == 0)
        rc = load_keys(st, stream, partition, ROLE_CHECKPOINT, &out->key);
    if (rc == 0)
        rc = load_keys(st, stream, partition, ROLE_HIGH_WATER, &out->high_water);
    if (rc == 0)
        rc = load_keys(st, stream, partition, ROLE_LOWER, &out->range.lower);
    if (rc == 0)
        rc = load_keys(st, stream, partition, ROLE_UPPER, &out->range.upper);
    if (tx_end(st, rc) < 0) {
        stream_state_clear(out);
        return -1;
    }
    return 0;
}

/* The body of state_begin_job(), inside the caller's transaction. */
static int begin_job_rows(struct state *st, const char *stream, const char *partition,
                          const char *fingerprint, const char *output,
                          const struct job_range *range)
{
    int rc = -1;
    sqlite3_stmt *s = stmt_get(st, S_BEGIN_JOB);
    if (s) {
        bind_stream(s, stream, partition);
        sqlite3_bind_text(s, 3, fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, output, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 5, range ? range->lower_inclusive : 0);
        rc = stmt_run(st, s);
    }
    if (rc == 0)
        rc = keys_delete(st, stream, partition, ROLE_CHECKPOINT);
    if (rc == 0)
        rc = segments_delete(st, stream, partition);
    if (rc == 0)
        rc = keys_store(st, stream, partition, ROLE_LOWER, range ? &range->lower : NULL);
    if (rc == 0)
        rc = keys_store(st, stream, partition, ROLE_UPPER, range ? &range->upper : NULL);
    return rc;
}

int state_begin_job(struct state *st, const char *stream, const char *partition,
                    const char *fingerprint, const char *output,
                    const struct job_range *range)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    return tx_end(st, begin_job_rows(st, stream, partition, fingerprint, output, range));
}

int state_begin_attempt(struct state *st, const char *stream,
                        const char *partition, const char *output)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int n = update_stream(st, S_BEGIN_ATTEMPT, stream, partition, output ? output : "");
    if (n == 0)
        fail_no_job(st, stream, partition, "resume");
    return tx_end(st, n > 0 ? 0 : -1);
}

/* The shared body of state_checkpoint() and state_mark_finishing(): the
 * UPDATE id with the counters, refused unless the job is RUNNING. */
static int update_counters(struct state *st, enum stmt_id id, const char *stream,
                           const char *partition, uint64_t offset, uint64_t rows,
                           uint64_t bytes, const char *what)
{
    sqlite3_stmt *s = stmt_get(st, id);
    if (!s)
        return -1;
    bind_stream(s, stream, partition);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)offset);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)rows);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)bytes);
    if (stmt_run(st, s) < 0)
        return -1;
    if (sqlite3_changes(st->db) == 0)
        return fail_no_job(st, stream, partition, what);
    return 0;
}

static int segment_keys_insert(struct state *st, const char *stream, const char *partition,
                               sqlite3_int64 seq, const char *role, const struct keytuple *t)
{
    static const char sql[] =
        "INSERT INTO segment_keys(stream, \"partition\", seq, role, pos, kind, value)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if (!t || t->n == 0)
        return 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        bind_stream(s, stream, partition);
        sqlite3_bind_int64(s, 3, seq);
        sqlite3_bind_text(s, 4, role, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)i);
        if (bind_value(s, 6, &t->v[i]) < 0) {
            fail(st, "state store %s: key value %zu has an unknown kind", st->path, i);
            rc = -1;
        } else if (sqlite3_step(s) != SQLITE_DONE) {
            rc = fail_db(st);
        }
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Appends seg as the next segment of the stream's job. */
static int segment_insert(struct state *st, const char *stream, const char *partition,
                          const struct state_segment *seg)
{
    static const char sql[] =
        "INSERT INTO segments(stream, \"partition\", seq, \"rows\", start_byte, end_byte, digest)"
        " VALUES(?1, ?2, (SELECT coalesce(max(seq), -1) + 1 FROM segments"
        " WHERE stream=?1 AND \"partition\"=?2), ?3, ?4, ?5, ?6) RETURNING seq";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    bind_stream(s, stream, partition);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)seg->rows);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)seg->start);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)seg->end);
    sqlite3_bind_text(s, 6, seg->digest, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : fail_db(st);
    sqlite3_int64 seq = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        ;
    sqlite3_finalize(s);
    if (rc == 0)
        rc = segment_keys_insert(st, stream, partition, seq, "first", seg->first);
    if (rc == 0)
        rc = segment_keys_insert(st, stream, partition, seq, "last", seg->last);
    return rc;
}

static int segments_delete(struct state *st, const char *stream, const char *partition)
{
    static const char sql[] = "DELETE FROM segments WHERE stream=?1 AND \"partition\"=?2";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    bind_stream(s, stream, partition);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail_db(st);
    sqlite3_finalize(s);
    return rc;
}

int state_checkpoint(struct state *st, const char *stream, const char *partition,
                     const struct keytuple *key, uint64_t offset, uint64_t rows,
                     uint64_t bytes, const struct state_segment *seg)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int rc = update_counters(st, S_CHECKPOINT, stream, partition, offset, rows,
                             bytes, "checkpoint");
    if (rc == 0)
        rc = keys_store(st, stream, partition, ROLE_CHECKPOINT, key);
    if (rc == 0 && seg)
        rc = segment_insert(st, stream, partition, seg);
    return tx_end(st, rc);
}

int state_mark_finishing(struct state *st, const char *stream,
                         const char *partition, uint64_t offset, uint64_t rows,
                         uint64_t bytes, const struct state_segment *seg)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int rc = update_counters(st, S_FINISHING, stream, partition, offset, rows,
                             bytes, "finish");
    if (rc == 0 && seg)
        rc = segment_insert(st, stream, partition, seg);
    return tx_end(st, rc);
}

/* The rows of a statement: 1 with a row, 0 at the end, -1 (error set). */
static int step_row(struct state *st, sqlite3_stmt *s)
{
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : fail_db(st);
}

/* A new zeroed element at the end of the growing array *v of *n elements
 * of size bytes (room for *cap), or NULL (out of memory: error set). */
static void *append_slot(struct state *st, void **v, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        void *nv = realloc(*v, ncap * size);
        if (!nv) {
            fail(st, "state store %s: out of memory", st->path);
            return NULL;
        }
        *v = nv;
        *cap = ncap;
    }
    void *e = (char *)*v + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

void state_segments_free(struct state_segment_rec *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        key_clear(&v[i].first);
        key_clear(&v[i].last);
    }
    free(v);
}

int state_list_segments(struct state *st, const char *stream, const char *partition,
                        struct state_segment_rec **out, size_t *n)
{
    static const char sql[] =
        "SELECT seq, \"rows\", start_byte, end_byte, digest FROM segments"
        " WHERE stream=?1 AND \"partition\"=?2 ORDER BY seq";
    static const char keys_sql[] =
        "SELECT seq, role, pos, kind, value FROM segment_keys"
        " WHERE stream=?1 AND \"partition\"=?2 ORDER BY seq, role, pos";
    *out = NULL;
    *n = 0;
    if (not_open(st) < 0 || exec_id(st, S_BEGIN_READ) < 0)
        return -1;
    struct state_segment_rec *v = NULL;
    size_t cap = 0;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK ? 0 : fail_db(st);
    if (rc == 0)
        bind_stream(s, stream, partition);
    while (rc == 0 && (rc = step_row(st, s)) > 0) {
        struct state_segment_rec *r = append_slot(st, (void **)&v, n, &cap, sizeof *r);
        if (!r) {
            rc = -1;
            break;
        }
        rc = 0;
        r->seq = sqlite3_column_int64(s, 0);
        r->rows = (uint64_t)sqlite3_column_int64(s, 1);
        r->start = (uint64_t)sqlite3_column_int64(s, 2);
        r->end = (uint64_t)sqlite3_column_int64(s, 3);
        const unsigned char *d = sqlite3_column_text(s, 4);
        snprintf(r->digest, sizeof r->digest, "%s", d ? (const char *)d : "");
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == 0)
        rc = sqlite3_prepare_v2(st->db, keys_sql, -1, &s, NULL) == SQLITE_OK ? 0 : fail_db(st);
    if (rc == 0)
        bind_stream(s, stream, partition);
    /* Segments are few and in seq order: find each key's by a moving index. */
    size_t at = 0;
    while (rc == 0 && (rc = step_row(st, s)) > 0) {
        rc = 0;
        sqlite3_int64 seq = sqlite3_column_int64(s, 0);
        while (at < *n && v[at].seq < seq)
            at++;
        if (at == *n || v[at].seq != seq)
            continue;
        const char *role = (const char *)sqlite3_column_text(s, 1);
        struct keytuple *t = role && strcmp(role, "first") == 0 ? &v[at].first : &v[at].last;
        size_t i = t->n;
        if ((sqlite3_int64)i != sqlite3_column_int64(s, 2) || key_append(t) < 0 ||
            read_value(s, 4, sqlite3_column_int(s, 3), t, i) < 0) {
            fail(st, "state store %s: corrupt or unreadable segment key of stream %s",
                 st->path, stream);
            rc = -1;
        }
    }
    sqlite3_finalize(s);
    if (tx_end(st, rc) < 0) {
        state_segments_free(v, *n);
        *n = 0;
        return -1;
    }
    *out = v;
    return 0;
}

/* The keys that belong to one job: its checkpoint and its bounds. */
static int clear_job_keys(struct state *st, const char *stream, const char *partition)
{
    if (keys_delete(st, stream, partition, ROLE_CHECKPOINT) < 0 ||
        keys_delete(st, stream, partition, ROLE_LOWER) < 0)
        return -1;
    return keys_delete(st, stream, partition, ROLE_UPPER);
}

int state_finish_job(struct state *st, const char *stream, const char *partition,
                     const struct keytuple *high_water)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int n = update_stream(st, S_FINISH, stream, partition, NULL);
    if (n == 0)
        fail_no_job(st, stream, partition, "finish");
    int rc = n > 0 ? 0 : -1;
    if (rc == 0)
        rc = clear_job_keys(st, stream, partition);
    if (rc == 0 && high_water)
        rc = keys_store(st, stream, partition, ROLE_HIGH_WATER, high_water);
    return tx_end(st, rc);
}

int state_discard_job(struct state *st, const char *stream, const char *partition)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    /* A stream never seen has nothing to discard: not an error. */
    int rc = update_stream(st, S_DISCARD, stream, partition, NULL) < 0 ? -1 : 0;
    if (rc == 0)
        rc = clear_job_keys(st, stream, partition);
    return tx_end(st, rc);
}

int state_run_start(struct state *st, const char *stream, const char *partition,
                    const char *output, int64_t row_estimate, int64_t *run_id)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int rc = -1;
    sqlite3_stmt *s = stmt_get(st, S_RUN_START);
    if (s) {
        bind_stream(s, stream, partition);
        if (output)
            sqlite3_bind_text(s, 3, output, -1, SQLITE_STATIC);
        if (row_estimate >= 0)
            sqlite3_bind_int64(s, 4, row_estimate);
        rc = stmt_run(st, s);
        if (rc == 0)
            *run_id = sqlite3_last_insert_rowid(st->db);
    }
    return tx_end(st, rc);
}

int state_run_end(struct state *st, int64_t run_id, const char *status,
                  uint64_t rows, uint64_t bytes, uint64_t warnings,
                  const char *last_error)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int rc = -1;
    sqlite3_stmt *s = stmt_get(st, S_RUN_END);
    if (s) {
        sqlite3_bind_int64(s, 1, run_id);
        sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)rows);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)bytes);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)warnings);
        if (last_error)
            sqlite3_bind_text(s, 6, last_error, -1, SQLITE_STATIC);
        rc = stmt_run(st, s);
        if (rc == 0 && sqlite3_changes(st->db) == 0) {
            fail(st, "state store %s: no run %lld", st->path, (long long)run_id);
            rc = -1;
        }
    }
    return tx_end(st, rc);
}

/* ---- reading for status ---- */

static off_t lock_offset(const char *stream, const char *partition);

void state_streams_free(struct state_stream *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].stream);
        free(v[i].partition);
        free(v[i].updated_at);
        stream_state_clear(&v[i].s);
    }
    free(v);
}

int state_list_streams(struct state *st, const char *stream, struct state_stream **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    if (not_open(st) < 0 || exec_id(st, S_BEGIN_READ) < 0)
        return -1;
    static const char sql[] =
        "SELECT stream, \"partition\", updated_at FROM streams"
        " WHERE ?1 IS NULL OR stream=?1 ORDER BY stream, \"partition\"";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK ? 0 : fail_db(st);
    struct state_stream *v = NULL;
    size_t cap = 0;
    if (rc == 0 && stream)
        sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    while (rc == 0 && (rc = step_row(st, s)) > 0) {
        struct state_stream *e = append_slot(st, (void **)&v, n, &cap, sizeof *e);
        if (!e) {
            rc = -1;
            break;
        }
        rc = 0;
        int oom = 0;
        e->stream = dup_column(s, 0, &oom);
        e->partition = dup_column(s, 1, &oom);
        e->updated_at = dup_column(s, 2, &oom);
        if (oom) {
            fail(st, "state store %s: out of memory", st->path);
            rc = -1;
        }
    }
    sqlite3_finalize(s);
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        struct state_stream *e = &v[i];
        rc = load_stream(st, e->stream, e->partition, &e->s);
        if (rc == 0)
            rc = load_keys(st, e->stream, e->partition, ROLE_CHECKPOINT, &e->s.key);
        if (rc == 0)
            rc = load_keys(st, e->stream, e->partition, ROLE_HIGH_WATER, &e->s.high_water);
        if (rc == 0)
            rc = load_keys(st, e->stream, e->partition, ROLE_LOWER, &e->s.range.lower);
        if (rc == 0)
            rc = load_keys(st, e->stream, e->partition, ROLE_UPPER, &e->s.range.upper);
    }
    if (tx_end(st, rc) < 0) {
        state_streams_free(v, *n);
        *n = 0;
        return -1;
    }
    *out = v;
    return 0;
}

void state_runs_free(struct state_run *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].stream);
        free(v[i].partition);
        free(v[i].started_at);
        free(v[i].ended_at);
        free(v[i].status);
        free(v[i].last_error);
        free(v[i].output);
    }
    free(v);
}

int state_list_runs(struct state *st, const char *stream, const char *partition,
                    const char *status, size_t limit, struct state_run **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (not_open(st) < 0)
        return -1;
    static const char sql[] =
        "SELECT id, stream, \"partition\", job_id, attempt, started_at, ended_at, status,"
        " \"rows\", bytes, warnings, last_error, output, row_estimate FROM runs"
        " WHERE stream=?1 AND (?2 IS NULL OR \"partition\"=?2) AND (?3 IS NULL OR status=?3)"
        " ORDER BY id DESC LIMIT ?4";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    if (partition)
        sqlite3_bind_text(s, 2, partition, -1, SQLITE_STATIC);
    if (status)
        sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)limit);
    struct state_run *v = limit ? calloc(limit, sizeof *v) : NULL;
    int rc = 0;
    if (limit && !v) {
        fail(st, "state store %s: out of memory", st->path);
        rc = -1;
    }
    while (rc == 0 && *n < limit) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = fail_db(st);
            break;
        }
        struct state_run *r = &v[(*n)++];
        int oom = 0;
        r->id = sqlite3_column_int64(s, 0);
        r->stream = dup_column(s, 1, &oom);
        r->partition = dup_column(s, 2, &oom);
        r->job_id = sqlite3_column_int64(s, 3);
        r->attempt = sqlite3_column_int64(s, 4);
        r->started_at = dup_column(s, 5, &oom);
        r->ended_at = dup_column(s, 6, &oom);
        r->status = dup_column(s, 7, &oom);
        r->rows = (uint64_t)sqlite3_column_int64(s, 8);
        r->bytes = (uint64_t)sqlite3_column_int64(s, 9);
        r->warnings = (uint64_t)sqlite3_column_int64(s, 10);
        r->last_error = dup_column(s, 11, &oom);
        r->output = dup_column(s, 12, &oom);
        r->row_estimate = sqlite3_column_type(s, 13) == SQLITE_NULL ? -1
                                                                   : sqlite3_column_int64(s, 13);
        if (oom) {
            fail(st, "state store %s: out of memory", st->path);
            rc = -1;
        }
    }
    sqlite3_finalize(s);
    if (rc < 0) {
        state_runs_free(v, *n);
        *n = 0;
        return -1;
    }
    *out = v;
    return 0;
}

int state_stream_busy(struct state *st, const char *stream, const char *partition)
{
    if (not_open(st) < 0)
        return -1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = lock_offset(stream, partition), .l_len = 1};
    if (fcntl(st->lock_fd, F_OFD_GETLK, &fl) < 0) {
        fail(st, "state store %s: cannot test a lock: %s", st->path, strerror(errno));
        return -1;
    }
    return fl.l_type != F_UNLCK;
}

int state_current_job(struct state *st, const char *stream, const char *partition,
                      int64_t *job_id, int64_t *attempt, char *started_at, size_t n)
{
    *job_id = *attempt = 0;
    if (n)
        *started_at = '\0';
    if (not_open(st) < 0)
        return -1;
    static const char sql[] =
        "SELECT s.job_id, s.attempt, (SELECT min(r.started_at) FROM runs r"
        " WHERE r.stream=s.stream AND r.\"partition\"=s.\"partition\" AND r.job_id=s.job_id)"
        " FROM streams s WHERE s.stream=?1 AND s.\"partition\"=?2";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    bind_stream(s, stream, partition);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(s, 0);
        *attempt = sqlite3_column_int64(s, 1);
        const unsigned char *t = sqlite3_column_text(s, 2);
        if (t && n)
            snprintf(started_at, n, "%s", (const char *)t);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : fail_db(st);
}

void state_verification_clear(struct state_verification *v)
{
    free(v->verified_at);
    free(v->against);
    free(v->status);
    free(v->detail);
    memset(v, 0, sizeof *v);
}

int state_record_verification(struct state *st, const char *stream, const char *output,
                              const char *against, const char *status, const char *detail)
{
    static const char sql[] =
        "INSERT INTO verifications(stream, output, verified_at, against, status, detail)"
        " VALUES(?1, ?2, " NOW ", ?3, ?4, ?5)";
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK ? 0 : fail_db(st);
    if (rc == 0) {
        sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, output, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, against, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
        if (detail)
            sqlite3_bind_text(s, 5, detail, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail_db(st);
    }
    sqlite3_finalize(s);
    return tx_end(st, rc);
}

int state_last_verification(struct state *st, const char *output,
                            struct state_verification *out)
{
    memset(out, 0, sizeof *out);
    if (not_open(st) < 0)
        return -1;
    static const char sql[] =
        "SELECT verified_at, against, status, detail FROM verifications"
        " WHERE output=?1 ORDER BY id DESC LIMIT 1";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    sqlite3_bind_text(s, 1, output, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), found = 0, oom = 0;
    if (rc == SQLITE_ROW) {
        out->verified_at = dup_column(s, 0, &oom);
        out->against = dup_column(s, 1, &oom);
        out->status = dup_column(s, 2, &oom);
        out->detail = dup_column(s, 3, &oom);
        found = 1;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return fail_db(st);
    if (oom) {
        state_verification_clear(out);
        fail(st, "state store %s: out of memory", st->path);
        return -1;
    }
    return found;
}

/* ---- opening ---- */

/* mkdir -p of the directory part of path, new directories mode 0700. */
static int make_parent(struct state *st, const char *path)
{
    char *dir = strdup(path);
    if (!dir) {
        fail(st, "state store %s: out of memory", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; rc == 0; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                fail(st, "state store %s: cannot create directory %s: %s",
                     path, dir, strerror(errno));
                rc = -1;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    free(dir);
    return rc;
}

/* Integer result of a one-row query, or -1 (error set). */
static int query_int(struct state *st, const char *sql, sqlite3_int64 *out, int *code)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    *code = rc;
    return rc == SQLITE_OK ? 0 : -1;
}

enum store_kind { STORE_FRESH, STORE_OLD, STORE_OURS };

/* Classifies the open file using reads only. -1 (error set): foreign,
 * unreadable, newer schema. */
static int classify(struct state *st, enum store_kind *kind)
{
    sqlite3_int64 tables = 0, app = 0, version = 0, meta = 0;
    int code = SQLITE_OK;
    if (query_int(st, "SELECT count(*) FROM sqlite_master", &tables, &code) < 0 ||
        query_int(st, "PRAGMA application_id", &app, &code) < 0 ||
        query_int(st, "PRAGMA user_version", &version, &code) < 0) {
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
            fail(st, "%s: state store is unreadable: %s", st->path,
                 sqlite3_errmsg(st->db));
        else
            fail_db(st);
        return -1;
    }
    if (tables == 0 && app == 0 && version == 0) {
        *kind = STORE_FRESH;
        return 0;
    }
    if (app != STATE_APP_ID)
        goto foreign;
    if (version > STATE_SCHEMA) {
        fail(st, "%s: state store has schema version %lld, newer than this sluice"
                 " supports (%d)", st->path, (long long)version, STATE_SCHEMA);
        return -1;
    }
    if (version < 1 ||
        query_int(st, "SELECT count(*) FROM sluice_meta WHERE"
                      " key='application' AND value='sluice'", &meta, &code) < 0 ||
        meta != 1)
        goto foreign;
    /* A damaged page must be found before anything is written. */
    sqlite3_stmt *chk = NULL;
    int checked = sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &chk, NULL) == SQLITE_OK &&
                  sqlite3_step(chk) == SQLITE_ROW;
    const char *verdict = checked ? (const char *)sqlite3_column_text(chk, 0) : NULL;
    if (!verdict || strcmp(verdict, "ok") != 0) {
        char why[200];
        snprintf(why, sizeof why, "%s", verdict ? verdict : sqlite3_errmsg(st->db));
        for (char *c = why; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        fail(st, "%s: state store is damaged: %s", st->path, why);
        sqlite3_finalize(chk);
        return -1;
    }
    sqlite3_finalize(chk);
    *kind = version < STATE_SCHEMA ? STORE_OLD : STORE_OURS;
    return 0;
foreign:
    fail(st, "%s is not a sluice state store", st->path);
    return -1;
}

static int exec_sql(struct state *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail(st, "state store %s: %s", st->path,
             msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int create_schema(struct state *st)
{
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             STATE_APP_ID, STATE_SCHEMA);
    if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    /* Another process may have created it while we waited for the lock. */
    enum store_kind kind;
    int rc = classify(st, &kind);
    if (rc == 0 && kind == STORE_FRESH) {
        rc = exec_sql(st, schema_sql);
        if (rc == 0)
            rc = exec_sql(st, pragmas);
    }
    if (rc == 0)
        return exec_sql(st, "COMMIT");
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Brings an older store to the current schema, one version after the
 * other, in one transaction. */
static int migrate(struct state *st)
{
    if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    enum store_kind kind;
    sqlite3_int64 version = 0;
    int code, rc = classify(st, &kind);
    if (rc == 0 && kind == STORE_OLD)
        rc = query_int(st, "PRAGMA user_version", &version, &code) < 0 ? fail_db(st) : 0;
    if (rc == 0 && kind == STORE_OLD && version < 2)
        rc = exec_sql(st, migrate_1_2_sql);
    if (rc == 0 && kind == STORE_OLD && version < 3)
        rc = exec_sql(st, migrate_2_3_sql);
    if (rc == 0 && kind == STORE_OLD && version < 4)
        rc = exec_sql(st, migrate_3_4_sql);
    if (rc == 0)
        return exec_sql(st, "COMMIT");
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* The byte of the state file that serialises opening it (classify, the
 * switch to WAL, creating or migrating the schema) among threads and
 * processes: SQLite answers a connection that changes the journal mode
 * while another opens the file with an immediate "database is locked". */
#define OPEN_LOCK_BYTE ((off_t)1 << 42)

static int open_lock(struct state *st, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = OPEN_LOCK_BYTE,
                       .l_len = 1};
    while (fcntl(st->lock_fd, F_OFD_SETLKW, &fl) < 0)
        if (errno != EINTR) {
            fail(st, "state store %s: cannot lock: %s", st->path, strerror(errno));
            return -1;
        }
    return 0;
}

static int open_db_locked(struct state *st);

static int open_db(struct state *st)
{
    const char *path = st->path;
    if (make_parent(st, path) < 0)
        return -1;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        fail(st, "%s is not a sluice state store (not a regular file)", path);
        return -1;
    }
    /* Creates the file if need be; never closed (lockfd.h says why). */
    if (lockfd_acquire(path, &st->lock_fd) < 0) {
        st->lock_fd = -1;
        if (errno == EACCES || errno == EROFS)
            fail(st, "state store %s: cannot open for writing (read-only file)", path);
        else
            fail(st, "state store %s: %s", path, strerror(errno));
        return -1;
    }
    if (open_lock(st, F_WRLCK) < 0)
        return -1;
    int rc = open_db_locked(st);
    open_lock(st, F_UNLCK);
    return rc;
}

static int open_db_locked(struct state *st)
{
    const char *path = st->path;
    /* NOMUTEX: the checkpointer's worker uses the connection only while
     * the opener's thread waits for it (pthread_join orders them). */
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        if (st->db)
            fail_db(st);
        else
            fail(st, "state store %s: out of memory", path);
        return -1;
    }
    sqlite3_busy_timeout(st->db, STATE_BUSY_MS);
    /* Nothing below writes to the file before classify() accepts it. Its
     * reads share one snapshot: another process creating the store at
     * this moment must not show half of its header. */
    enum store_kind kind;
    if (exec_sql(st, "BEGIN") < 0)
        return -1;
    int rc = classify(st, &kind);
    sqlite3_exec(st->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc < 0)
        return -1;
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        fail(st, "state store %s: cannot open for writing (read-only file)", path);
        return -1;
    }
    /* A small WAL: a store never grows far beyond its content, so a file
     * size limit or a nearly full disk meets the output first. */
    if (exec_sql(st, "PRAGMA journal_mode=WAL") < 0 ||
        exec_sql(st, "PRAGMA wal_autocheckpoint=64") < 0 ||
        exec_sql(st, "PRAGMA synchronous=FULL") < 0 ||
        exec_sql(st, "PRAGMA foreign_keys=ON") < 0)
        return -1;
    if (kind == STORE_FRESH && create_schema(st) < 0)
        return -1;
    if (kind == STORE_OLD && migrate(st) < 0)
        return -1;
    return 0;
}

int state_open(struct state **out, const char *path)
{
    struct state *st = calloc(1, sizeof *st);
    *out = st;
    if (!st)
        return -1;
    st->lock_fd = -1;
    st->path = strdup(path);
    if (!st->path) {
        fail(st, "state store: out of memory");
        return -1;
    }
    if (open_db(st) < 0) {
        /* Keep only the message: later calls fail with "not open". */
        sqlite3_close(st->db);
        st->db = NULL;
        return -1;
    }
    return 0;
}

void state_close(struct state *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    if (st->lock_fd >= 0)
        lockfd_release(st->lock_fd, OPEN_LOCK_BYTE); /* releases the stream locks */
    free(st->path);
    free(st);
}

/* The byte of the state file a stream locks: FNV-1a of stream and
 * partition, placed far above the bytes SQLite itself locks (around 1 GiB),
 * so the two kinds of lock never meet. */
static off_t lock_offset(const char *stream, const char *partition)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = stream; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* separator: no byte of UTF-8 text */
    for (const char *p = part_of(partition); *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (off_t)((1ULL << 42) + 1 + (h & ((1ULL << 40) - 1)));
}

int state_lock_stream(struct state *st, const char *stream, const char *partition)
{
    if (not_open(st) < 0)
        return -1;
    /* An open-file-description lock on one byte per stream: held until the
     * handle closes (or the process dies), and unlike a POSIX lock not
     * dropped when SQLite closes a descriptor of the same file. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = lock_offset(stream, partition), .l_len = 1};
    if (fcntl(st->lock_fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    char label[512];
    stream_label(label, sizeof label, stream, partition);
    if (errno == EAGAIN || errno == EACCES)
        fail(st, "%s is being extracted by another sluice process (state store %s)",
             label, st->path);
    else
        fail(st, "state store %s: cannot lock %s: %s", st->path, label, strerror(errno));
    return -1;
}

const char *state_file(const struct state *st)
{
    return st->path;
}

const char *state_error(const struct state *st)
{
    if (!st)
        return "state store: out of memory";
    return st->err;
}

/* ---- partitioned jobs ---- */

void partition_plan_clear(struct partition_plan *p)
{
    free(p->detail);
    free(p->created_at);
    for (size_t i = 0; p->bounds && i < p->nbounds; i++)
        key_clear(&p->bounds[i]);
    free(p->bounds);
    memset(p, 0, sizeof *p);
}

/* Runs sql (no rows expected) with stream as ?1. */
static int exec_stream_sql(struct state *st, const char *sql, const char *stream)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail_db(st);
    sqlite3_finalize(s);
    return rc;
}

static int store_plan(struct state *st, const char *stream, const struct partition_plan *p)
{
    static const char plan_sql[] =
        "INSERT INTO partition_plans(stream, job_id, partitions, created_at, detail)"
        " VALUES(?1, ?2, ?3, " NOW ", ?4)";
    static const char bound_sql[] =
        "INSERT INTO plan_bounds(stream, idx, pos, kind, value) VALUES(?1, ?2, ?3, ?4, ?5)";
    if (exec_stream_sql(st, "DELETE FROM partition_plans WHERE stream=?1", stream) < 0)
        return -1;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, plan_sql, -1, &s, NULL) != SQLITE_OK)
        return fail_db(st);
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, p->job_id);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)p->partitions);
    if (p->detail)
        sqlite3_bind_text(s, 4, p->detail, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail_db(st);
    sqlite3_finalize(s);
    if (rc < 0 || sqlite3_prepare_v2(st->db, bound_sql, -1, &s, NULL) != SQLITE_OK)
        return rc < 0 ? rc : fail_db(st);
    for (size_t i = 0; rc == 0 && i < p->nbounds; i++)
        for (size_t j = 0; rc == 0 && j < p->bounds[i].n; j++) {
            const struct keyval *v = &p->bounds[i].v[j];
            const char *text = v->s ? v->s : "";
            sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)j);
            sqlite3_bind_int(s, 4, (int)v->kind);
            switch (v->kind) {
            case KEY_NULL: sqlite3_bind_null(s, 5); break;
            case KEY_INT: sqlite3_bind_int64(s, 5, v->i); break;
            case KEY_REAL: sqlite3_bind_double(s, 5, v->r); break;
            case KEY_TEXT: sqlite3_bind_text64(s, 5, text, v->len, SQLITE_STATIC, SQLITE_UTF8); break;
            case KEY_BLOB: sqlite3_bind_blob64(s, 5, text, v->len, SQLITE_STATIC); break;
            }
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = fail_db(st);
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
    sqlite3_finalize(s);
    return rc;
}

int state_begin_planned_job(struct state *st, const char *stream, const char *fingerprint,
                            const char *output, const struct job_range *range,
                            struct partition_plan *plan)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    int rc = begin_job_rows(st, stream, "", fingerprint, output, range);
    if (rc == 0) {
        struct stream_state now = {0};
        rc = load_stream(st, stream, "", &now);
        plan->job_id = now.job_id;
        stream_state_clear(&now);
    }
    /* The partitions of earlier jobs: rows and keys (ON DELETE CASCADE). */
    if (rc == 0)
        rc = exec_stream_sql(st, "DELETE FROM streams WHERE stream=?1 AND \"partition\"<>''",
                             stream);
    if (rc == 0)
        rc = store_plan(st, stream, plan);
    return tx_end(st, rc);
}

int state_load_plan(struct state *st, const char *stream, struct partition_plan *out)
{
    partition_plan_clear(out);
    if (not_open(st) < 0 || exec_id(st, S_BEGIN_READ) < 0)
        return -1;
    sqlite3_stmt *s = NULL;
    int rc = 0, oom = 0;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT job_id, partitions, detail, created_at FROM partition_plans"
                           " WHERE stream=?1", -1, &s, NULL) != SQLITE_OK) {
        rc = fail_db(st);
        goto out;
    }
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        out->job_id = sqlite3_column_int64(s, 0);
        sqlite3_int64 n = sqlite3_column_int64(s, 1);
        out->detail = dup_column(s, 2, &oom);
        out->created_at = dup_column(s, 3, &oom);
        if (n < 1 || n > 1000000) {
            fail(st, "state store %s: corrupt partition plan of stream %s", st->path, stream);
            rc = -1;
        } else {
            out->partitions = (uint64_t)n;
            out->nbounds = (size_t)n - 1;
            out->bounds = out->nbounds ? calloc(out->nbounds, sizeof *out->bounds) : NULL;
            oom |= out->nbounds && !out->bounds;
        }
    } else if (step != SQLITE_DONE) {
        rc = fail_db(st);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == 0 && !oom && out->partitions) {
        if (sqlite3_prepare_v2(st->db,
                               "SELECT idx, pos, kind, value FROM plan_bounds WHERE stream=?1"
                               " ORDER BY idx, pos", -1, &s, NULL) != SQLITE_OK) {
            rc = fail_db(st);
            goto out;
        }
        sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
        while (rc == 0 && !oom && (step = sqlite3_step(s)) == SQLITE_ROW) {
            sqlite3_int64 idx = sqlite3_column_int64(s, 0), pos = sqlite3_column_int64(s, 1);
            int kind = sqlite3_column_int(s, 2);
            if (idx < 0 || (uint64_t)idx >= out->nbounds || pos != (sqlite3_int64)out->bounds[idx].n ||
                kind < KEY_NULL || kind > KEY_BLOB) {
                fail(st, "state store %s: corrupt partition plan of stream %s", st->path, stream);
                rc = -1;
                break;
            }
            struct keytuple *t = &out->bounds[idx];
            size_t i = t->n;
            if (key_append(t) < 0) {
                oom = 1;
                break;
            }
            const void *p = kind == KEY_BLOB ? sqlite3_column_blob(s, 3)
                                             : (const void *)sqlite3_column_text(s, 3);
            size_t len = (size_t)sqlite3_column_bytes(s, 3);
            int r = 0;
            switch ((enum key_kind)kind) {
            case KEY_NULL: r = key_set_null(t, i); break;
            case KEY_INT: r = key_set_int(t, i, sqlite3_column_int64(s, 3)); break;
            case KEY_REAL:
                r = key_set_real(t, i, sqlite3_column_type(s, 3) == SQLITE_NULL
                                           ? NAN : sqlite3_column_double(s, 3));
                break;
            case KEY_TEXT: r = key_set_text(t, i, p ? p : "", len); break;
            case KEY_BLOB: r = key_set_blob(t, i, p ? p : "", len); break;
            }
            oom |= r < 0;
        }
        if (rc == 0 && !oom && step != SQLITE_DONE)
            rc = fail_db(st);
    }
out:
    sqlite3_finalize(s);
    if (oom && rc == 0) {
        fail(st, "state store %s: out of memory", st->path);
        rc = -1;
    }
    if (tx_end(st, rc) < 0) {
        partition_plan_clear(out);
        return -1;
    }
    return 0;
}

int state_plan_set_detail(struct state *st, const char *stream, const char *detail)
{
    if (not_open(st) < 0 || tx_begin(st) < 0)
        return -1;
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(st->db, "UPDATE partition_plans SET detail=?2 WHERE stream=?1", -1,
                           &s, NULL) != SQLITE_OK) {
        rc = fail_db(st);
    } else {
        sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, detail, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail_db(st);
    }
    sqlite3_finalize(s);
    return tx_end(st, rc);
}
