/* query.h - a statement as the core builds it for a driver.
 *
 * The core decides what a statement reads and in which order; the driver
 * decides how to select and decode each column. So a query is: the table,
 * the output columns (decoded into cells), the key columns (read back by
 * row_key), and the text after `FROM table` - WHERE, ORDER BY, LIMIT -
 * with placeholder slots the driver fills in its own syntax ($1, ?1, or a
 * literal). A slot names the value it takes (an index into the values of
 * an execution, so one value can fill several slots) and, for a key value,
 * the column it is compared with, so a driver can give it that column's
 * type. */
#ifndef SLUICE_QUERY_H
#define SLUICE_QUERY_H

#include <stddef.h>

#include "common/buf.h"

struct table_desc;

struct sql_slot {
    size_t at;          /* byte offset in the tail where the placeholder goes */
    size_t value;       /* index of its value in execute()'s values */
    const char *column; /* the column the value is compared with, or NULL
                           for a plain integer (LIMIT, OFFSET) */
};

enum query_kind {
    QUERY_ROWS,  /* rows of columns; row_key gives their key values */
    QUERY_COUNT, /* SELECT count(*): one row of one CELL_INT cell */
};

struct query {
    enum query_kind kind;
    const struct table_desc *table;
    const char *const *columns; /* output columns, in output order */
    size_t ncolumns;
    const char *const *key;     /* key columns row_key() reads, in order */
    size_t nkey;
    struct buf tail;            /* " WHERE ... ORDER BY ... LIMIT ..." */
    struct sql_slot *slots;     /* in increasing `at` */
    size_t nslots;
    size_t nvalues;             /* values each execution binds */
    int stream;                 /* one execution reads the whole scan: the
                                   driver fetches it in batches */
    size_t fetch_rows;          /* stream: rows per batch at most */
    size_t fetch_bytes;         /* stream: about this many bytes per batch
                                   (query_next_rows); 0: no limit */
};

/* An empty query text for table t (the caller fills in the rest). */
void query_init(struct query *q, enum query_kind kind, const struct table_desc *t);
void query_free(struct query *q);
/* Appends a placeholder for value `value` compared with `column` (NULL:
 * an integer). 0 or -1 (out of memory; also sets q->tail.oom). */
int query_slot(struct query *q, size_t value, const char *column);

/* How many rows to ask for next, after a batch (page or fetch) of `rows`
 * rows that held `bytes` bytes of values and was asked as `asked` rows:
 * about `budget` bytes' worth, at most `max`, at least 1, and at most 4
 * times `asked` (so a scan that starts small grows while it learns how wide
 * the rows are). budget 0: always max. */
size_t query_next_rows(size_t asked, size_t max, size_t budget, size_t rows, size_t bytes);

/* The tail with every slot written by put(), appended to out and
 * NUL-terminated: what a driver prepares. put receives the slot and its ctx. 0 or -1 (out of memory). */
int query_render(const struct query *q, struct buf *out,
                 void (*put)(struct buf *out, const struct sql_slot *slot, void *ctx),
                 void *ctx);

#endif
