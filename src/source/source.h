/* source.h - the one interface every database driver implements.
 *
 * The core owns the loop, the checkpoints, the output, the state and the
 * paging rules (scan.h): which statements a scan runs, their bounds, the
 * --where wrapping, the NULL-key policy, the guard that every keyset page
 * moves forward. It writes the SQL after `FROM table` itself, in the
 * driver's small dialect (struct sql_dialect). A driver connects, describes
 * tables, prepares and executes the statements the core built (struct
 * query), and decodes its wire values into cells and key values. No driver
 * touches files or state.
 *
 * Each driver is one `const struct source_driver` in the registry of
 * source.c, chosen by URL. Concrete handles embed `struct source`,
 * `struct stmt` and `struct result` as their first member.
 *
 * Errors: every function returns 0 (or a count) on success and a negative
 * SOURCE_E* code on failure; the one-line message is kept on the source
 * handle by source_fail(). The first error wins and is never overwritten.
 * Messages carry the server's text and the SQL that failed, never a
 * password. */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "source/cell.h"
#include "source/key.h"
#include "source/query.h"

enum {
    SOURCE_ERR = -1,      /* the database refused or failed: SQL error, permission */
    SOURCE_ECONN = -2,    /* could not connect, or the connection was lost */
    SOURCE_ENOTFOUND = -3,/* the table or a named column does not exist */
    SOURCE_EUSAGE = -4,   /* the request cannot work: bad URL, unusable key */
    SOURCE_ENOMEM = -5,
};

struct column_desc {
    char *name;
    char *db_type;         /* the database's own type name, e.g. "numeric(12,2)" */
    const char *json_type; /* static: "integer" "number" "string" "boolean"
                              "base64" "json" "array" "date" "time" "timestamp"
                              "timestamptz" "interval" "null" */
    int nullable;
    /* Static text saying why this column cannot order and bound a keyset
     * ("its order and its comparisons differ"), or NULL when it can. */
    const char *not_a_key;
};

struct unique_key {
    char **cols;
    size_t n;
};

/* A described table. Allocated by the driver with malloc; every string and
 * array is owned by it; free with table_desc_free(). */
struct table_desc {
    char *schema; /* NULL where the database has none to name */
    char *name;
    int is_view;
    struct column_desc *cols;
    size_t ncols;
    char **pk; /* primary key columns in key order; npk 0 when none */
    size_t npk;
    struct unique_key *uniq; /* unique indexes whose columns are all NOT NULL */
    size_t nuniq;
    /* A key the database always has when none is declared ("rowid" for
     * SQLite, "ctid" for PostgreSQL), or NULL. Never in cols. */
    const char *implicit_key;
    int64_t row_estimate; /* -1: unknown */
    int64_t blocks;       /* storage blocks, for block-addressed implicit
                             keys (sql_dialect.block_of); -1: unknown */
};

void table_desc_free(struct table_desc *d);
/* Index of the column named name, or -1. */
long table_desc_column(const struct table_desc *d, const char *name);
/* "schema.name", or "name" when the table has no schema, into out, with
 * the quoting of tablename.h where a part needs it. */
void table_desc_name(const struct table_desc *d, char *out, size_t n);

struct strlist {
    char **v;
    size_t n;
};
void strlist_free(struct strlist *l);
/* Appends a copy of s. 0 or -1 (out of memory). */
int strlist_add(struct strlist *l, const char *s);

/* How the core writes SQL for one database. */
struct sql_dialect {
    /* Appends, in WHERE and ORDER BY, the reference to column `name` of t
     * (a column of t, or its implicit key), quoted as the database needs. */
    void (*column_ref)(struct buf *b, const struct table_desc *t, const char *name);
    /* 1: a row comparison (a, b) > (x, y) is answered from an index; 0:
     * the core writes the expanded form a >= x AND (a > x OR (a = x AND
     * b > y)), which every range optimizer understands. */
    int row_values;
    /* Optional (both or neither): the implicit key is a (block, item)
     * address no index orders, so a keyset over it reads block ranges:
     * block_bound() gives the first address of a block as a key value,
     * block_of() the block of an address. 0 or -1 (out of memory, or a
     * value that is no address). */
    int (*block_bound)(uint64_t block, struct keyval *out);
    int (*block_of)(const struct keyval *v, uint64_t *block);
    /* Optional: the ability to sample a table, which partition planning
     * needs (a dialect with neither cannot split a table, block-addressed
     * keys apart). sample_from appends what follows the table's name to
     * read about `percent` % of its rows at random (" TABLESAMPLE SYSTEM
     * (0.5)"); sample_where appends a condition true for about `percent` %
     * of the rows ("RAND() < 0.005"). */
    void (*sample_from)(struct buf *b, double percent);
    void (*sample_where)(struct buf *b, double percent);
};

struct source;
struct stmt;
struct result;

struct source_driver {
    const char *name; /* "sqlite", "postgres", "mysql" */
    const struct sql_dialect *dialect;
    /* Nonzero when url is this driver's: by scheme, or a plain file path. */
    int (*claims)(const char *url);
    /* Connects. On failure *out may still hold a handle carrying the error
     * message: read it with source_error(), then close it. */
    int (*open)(const char *url, struct source **out);
    /* Safe on NULL and after a failed open. */
    void (*close)(struct source *src);
    /* Appends the names of user tables and views, as describe() accepts them. */
    int (*list_tables)(struct source *src, struct strlist *out);
    /* table: TABLE as the user wrote it (source/tablename.h: "name" or
     * "schema.name", parts optionally double-quoted); *out is owned by the
     * caller. SOURCE_ENOTFOUND when there is no such table. */
    int (*describe)(struct source *src, const char *table,
                    struct table_desc **out);

    /* Prepares q: the driver writes `SELECT <its select list> FROM <table>`
     * (q->columns decoded into cells, then whatever it needs to give
     * q->key's values), then q->tail with a placeholder at every slot.
     * SQL errors in the tail (a bad --where, a missing column) are
     * reported here, before anything runs. q and everything it points to
     * outlive the statement. *out may hold a statement after a failure:
     * finalize it. */
    int (*prepare)(struct source *src, const struct query *q, struct stmt **out);
    /* Starts one execution with values[0 .. q->nvalues). A driver may send
     * it and return before the server answers. Another result of the
     * source may be open only if it is buffered (rows_in_hand() >= 0). *out
     * may hold a result after a failure: close it. */
    int (*execute)(struct stmt *st, const struct keyval *values, struct result **out);
    /* Next row: 1 and *row = q->ncolumns cells, borrowed until the next call
     * on this result; 0 at the end; negative on error (also after the end
     * of a stream whose server reported an error). */
    int (*next_row)(struct result *r, const struct cell **row);
    /* Copies q->key's values of the row last returned into *key, in a form
     * execute() binds back to the same values. */
    int (*row_key)(struct result *r, struct keytuple *key);
    /* Optional: a result that holds all its rows once the first next_row
     * returned: their count (then key_of_row reads any of them), or -1. */
    long (*rows_in_hand)(struct result *r);
    int (*key_of_row)(struct result *r, size_t row, struct keytuple *key);
    /* Safe on NULL. An unfinished result is abandoned (cancelled). */
    void (*close_result)(struct result *r);
    /* Safe on NULL and after a failed prepare. */
    void (*finalize)(struct stmt *st);

    /* Every statement between begin_read and end_read sees one snapshot
     * (a read-only repeatable-read transaction). end_read is safe when no
     * read is open. */
    int (*begin_read)(struct source *src);
    int (*end_read)(struct source *src);

    /* Optional: the start of the oldest transaction open on the server,
     * other than this session's, that this user can see: one KEY_TEXT
     * value in UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]", or n 0 when there is
     * none or the server hides it. Not while a result is open. */
    int (*oldest_transaction)(struct source *src, struct keytuple *out);

    /* Optional, both or neither: one snapshot for several connections (the
     * partitions of one job). export_snapshot: inside a read begun with
     * begin_read, names its snapshot; *token is owned by the caller
     * (free()). begin_read_at: begin_read, reading in the snapshot another
     * connection exported, while that read is still open. */
    int (*export_snapshot)(struct source *src, char **token);
    int (*begin_read_at)(struct source *src, const char *token);
    /* Optional, where a snapshot cannot be handed from one connection to
     * another: begin_read on each of the n connections srcs (of one
     * database, none reading yet) so that they read one snapshot. lock:
     * first block writes through coord (FLUSH TABLES WITH READ LOCK, a
     * privilege), so the snapshot is exactly one; without it the reads
     * begin one right after the other, and a write committed in between is
     * seen by the later ones only. On failure none is left reading and the
     * message is on coord. */
    int (*begin_reads_together)(struct source *coord, struct source *const *srcs, size_t n,
                                int lock);
};

struct source {
    const struct source_driver *drv;
    int errcode;       /* first SOURCE_E* recorded, 0 if none */
    char errmsg[1024]; /* one line, no newline */
};

struct stmt {
    struct source *src;
    const struct query *q;
};

struct result {
    struct stmt *st;
    uint64_t warnings; /* values the driver had to degrade (MySQL zero dates) */
};

/* Records the first error on src and returns code. The message is one line:
 * newlines in it become spaces. */
int source_fail(struct source *src, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline const char *source_error(const struct source *src)
{
    return src && src->errmsg[0] ? src->errmsg : "unknown source error";
}

/* The driver that claims url, or NULL. */
const struct source_driver *source_find(const char *url);
/* Comma-separated names of the compiled-in drivers, for --version. */
const char *source_driver_names(void);

/* Calls through the handle, so callers never write src->drv->fn(...). */
static inline int source_open(const struct source_driver *drv, const char *url,
                              struct source **out)
{
    *out = NULL;
    return drv->open(url, out);
}
static inline void source_close(struct source *src)
{
    if (src)
        src->drv->close(src);
}
static inline int source_list_tables(struct source *src, struct strlist *out)
{
    return src->drv->list_tables(src, out);
}
static inline int source_describe(struct source *src, const char *table,
                                  struct table_desc **out)
{
    *out = NULL;
    return src->drv->describe(src, table, out);
}
static inline const struct sql_dialect *source_dialect(const struct source *src)
{
    return src->drv->dialect;
}
static inline int source_prepare(struct source *src, const struct query *q,
                                 struct stmt **out)
{
    *out = NULL;
    return src->drv->prepare(src, q, out);
}
static inline void stmt_finalize(struct source *src, struct stmt *st)
{
    if (st)
        src->drv->finalize(st);
}
static inline int stmt_execute(struct stmt *st, const struct keyval *values,
                               struct result **out)
{
    *out = NULL;
    return st->src->drv->execute(st, values, out);
}
static inline int result_next_row(struct result *r, const struct cell **row)
{
    return r->st->src->drv->next_row(r, row);
}
static inline int result_row_key(struct result *r, struct keytuple *key)
{
    return r->st->src->drv->row_key(r, key);
}
/* -1 when the driver streams results. */
static inline long result_rows_in_hand(struct result *r)
{
    const struct source_driver *d = r->st->src->drv;
    return d->rows_in_hand ? d->rows_in_hand(r) : -1;
}
static inline int result_key_of_row(struct result *r, size_t row, struct keytuple *key)
{
    return r->st->src->drv->key_of_row(r, row, key);
}
static inline void result_close(struct source *src, struct result *r)
{
    if (r)
        src->drv->close_result(r);
}
static inline int source_begin_read(struct source *src)
{
    return src->drv->begin_read(src);
}
static inline int source_end_read(struct source *src)
{
    return src->drv->end_read(src);
}
static inline int source_has_oldest_transaction(const struct source *src)
{
    return src->drv->oldest_transaction != NULL;
}
static inline int source_oldest_transaction(struct source *src, struct keytuple *out)
{
    return src->drv->oldest_transaction(src, out);
}
static inline int source_has_shared_snapshot(const struct source *src)
{
    return src->drv->export_snapshot && src->drv->begin_read_at;
}
static inline int source_export_snapshot(struct source *src, char **token)
{
    *token = NULL;
    return src->drv->export_snapshot(src, token);
}
static inline int source_begin_read_at(struct source *src, const char *token)
{
    return src->drv->begin_read_at(src, token);
}
static inline int source_has_reads_together(const struct source *src)
{
    return src->drv->begin_reads_together != NULL;
}
static inline int source_begin_reads_together(struct source *coord, struct source *const *srcs,
                                              size_t n, int lock)
{
    return coord->drv->begin_reads_together(coord, srcs, n, lock);
}
static inline int source_can_sample(const struct source *src)
{
    const struct sql_dialect *d = src->drv->dialect;
    return d->sample_from || d->sample_where;
}

#endif
