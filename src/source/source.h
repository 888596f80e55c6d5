/* source.h - the one interface every database driver implements.
 *
 * The core owns the loop, the checkpoints, the output and the state; a
 * driver only describes tables, builds its dialect's SQL, runs it and
 * decodes its wire values into cells. No driver touches files or state.
 *
 * Each driver is one `const struct source_driver` in the registry of
 * source.c, chosen by URL. Concrete handles embed `struct source` (and
 * `struct scan`) as their first member.
 *
 * Errors: every function returns 0 (or a count) on success and a negative
 * SOURCE_E* code on failure; the one-line message is kept on the handle by
 * source_fail(). The first error wins and is never overwritten. Messages
 * carry the server's text and the SQL that failed, never a password. */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "source/cell.h"
#include "source/key.h"

enum {
    SOURCE_ERR = -1,      /* the database refused or failed: SQL error, permission */
    SOURCE_ECONN = -2,    /* could not connect, or the connection was lost */
    SOURCE_ENOTFOUND = -3,/* the table or a named column does not exist */
    SOURCE_EUSAGE = -4,   /* the request cannot work: bad URL, unusable key */
    SOURCE_ENOMEM = -5,
};

enum paging { PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR };

struct column_desc {
    char *name;
    char *db_type;         /* the database's own type name, e.g. "numeric(12,2)" */
    const char *json_type; /* static: "integer" "number" "string" "boolean"
                              "base64" "json" "array" "date" "time" "timestamp"
                              "timestamptz" "interval" "null" */
    int nullable;
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
};

void table_desc_free(struct table_desc *d);
/* Index of the column named name, or -1. */
long table_desc_column(const struct table_desc *d, const char *name);

struct strlist {
    char **v;
    size_t n;
};
void strlist_free(struct strlist *l);
/* Appends a copy of s. 0 or -1 (out of memory). */
int strlist_add(struct strlist *l, const char *s);

struct scan_spec {
    enum paging paging;
    const struct table_desc *table;
    const char *const *columns; /* output columns, in output order */
    size_t ncolumns;
    const char *const *key;     /* ordering key: columns of table, or its
                                   implicit_key; never NULL-valued */
    size_t nkey;
    /* Bounds, each on a key PREFIX: the first b->n key columns (1 <= n <=
     * nkey), compared as a row, e.g. (k1, k2) > ($1, $2) for n 2 of 3. */
    const struct keytuple *after; /* lower bound, or NULL: exclusive, or
                                     inclusive when after_inclusive */
    int after_inclusive;
    const struct keytuple *upto;  /* inclusive upper bound, or NULL */
    uint64_t offset;              /* PAGING_OFFSET: rows of the order to skip */
    size_t page_size;             /* rows per query (keyset/offset) or fetch (cursor) */
    const char *where;            /* trusted SQL condition ANDed in, or NULL */
    int snapshot;                 /* all pages see one snapshot */
};

struct source;
struct scan;

struct source_driver {
    const char *name; /* "sqlite", "postgres", "mysql" */
    /* Nonzero when url is this driver's: by scheme, or a plain file path. */
    int (*claims)(const char *url);
    /* Connects. On failure *out may still hold a handle carrying the error
     * message: read it with source_error(), then close it. */
    int (*open)(const char *url, struct source **out);
    /* Safe on NULL and after a failed open. */
    void (*close)(struct source *src);
    /* Appends the names of user tables and views, as describe() accepts them. */
    int (*list_tables)(struct source *src, struct strlist *out);
    /* table: "name" or "schema.name" as the user wrote it; *out is owned by
     * the caller. SOURCE_ENOTFOUND when there is no such table. */
    int (*describe)(struct source *src, const char *table,
                    struct table_desc **out);
    /* Starts reading spec->columns in key order. spec and everything it
     * points to must outlive the scan. */
    int (*open_scan)(struct source *src, const struct scan_spec *spec,
                     struct scan **out);
    /* Next row: 1 and *row = ncolumns cells, borrowed until the next call
     * on this scan; 0 at the end; negative on error. */
    int (*next_row)(struct scan *scan, const struct cell **row);
    /* Copies the key of the row last returned by next_row into *key. */
    int (*row_key)(struct scan *scan, struct keytuple *key);
    /* Safe on NULL and on a scan that failed. */
    void (*close_scan)(struct scan *scan);

    /* Incremental mode: the first ncursor columns of spec->key are the
     * cursor. Among the rows that match spec->where and lie beyond
     * spec->after (as a scan would read them; upto, offset and paging are
     * ignored) finds the least and the greatest cursor prefix, as
     * ncursor-long tuples in row_key()'s syntax (n 0 when no row), and
     * counts the rows that match spec->where and hold a NULL in any cursor
     * column. */
    int (*cursor_range)(struct source *src, const struct scan_spec *spec,
                        size_t ncursor, struct keytuple *min,
                        struct keytuple *max, uint64_t *nulls);
    /* The start of the oldest transaction open on the server, other than
     * this session's, that this user can see: one KEY_TEXT value in UTC,
     * "YYYY-MM-DD HH:MM:SS[.ffffff]", or n 0 when there is none, when the
     * server hides it, or when the database has no such notion. */
    int (*oldest_transaction)(struct source *src, struct keytuple *out);
};

struct source {
    const struct source_driver *drv;
    int errcode;       /* first SOURCE_E* recorded, 0 if none */
    char errmsg[1024]; /* one line, no newline */
};

struct scan {
    struct source *src;
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
static inline int source_open_scan(struct source *src,
                                   const struct scan_spec *spec,
                                   struct scan **out)
{
    *out = NULL;
    return src->drv->open_scan(src, spec, out);
}
static inline int scan_next_row(struct scan *scan, const struct cell **row)
{
    return scan->src->drv->next_row(scan, row);
}
static inline int scan_row_key(struct scan *scan, struct keytuple *key)
{
    return scan->src->drv->row_key(scan, key);
}
static inline int source_cursor_range(struct source *src,
                                      const struct scan_spec *spec, size_t ncursor,
                                      struct keytuple *min, struct keytuple *max,
                                      uint64_t *nulls)
{
    *nulls = 0;
    return src->drv->cursor_range(src, spec, ncursor, min, max, nulls);
}
static inline int source_oldest_transaction(struct source *src,
                                            struct keytuple *out)
{
    return src->drv->oldest_transaction(src, out);
}
static inline void scan_close(struct scan *scan)
{
    if (scan)
        scan->src->drv->close_scan(scan);
}

#endif
