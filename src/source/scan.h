/* scan.h - the paging rules, written once for every database.
 *
 * A scan reads spec->columns of one table in key order, page by page, and
 * hands out one row at a time. It builds every statement itself, in the
 * driver's dialect:
 *
 *   SELECT ... FROM t
 *   WHERE <lower bound> AND <upper bound> AND <cursor IS NOT NULL>
 *     AND (
 *   <--where, on lines of its own>
 *   )
 *   ORDER BY k1, k2 LIMIT n [OFFSET m]
 *
 * Bounds are on key PREFIXES compared as rows: after (exclusive, or
 * inclusive) on its first after->n key columns, upto (inclusive) on its
 * first upto->n. keyset reads the first page after spec->after, then each
 * page after the full key of the previous page's last row; offset keeps
 * both bounds and skips spec->offset rows inside them; cursor reads one
 * statement as a stream. An implicit key the dialect addresses by block
 * (PostgreSQL's ctid) is read in block ranges, then a tail for rows past
 * the table's size at the start.
 *
 * A page holds at most page_size rows and, after the first pages, about
 * page_bytes of values: the LIMIT adapts to the rows' width (pages start
 * small and grow), so wide rows do not multiply memory by the page size.
 *
 * The guard: a keyset page must move the key strictly forward. A page
 * whose first row repeats the key it started after, or whose last key is
 * not beyond that key, stops the scan with SOURCE_ERR and a message that
 * names --where; the scan never loops.
 *
 * NULLs: key columns must be NOT NULL (the plan refuses nullable ones,
 * views excepted). A row whose key holds NULL anyway stops the scan with
 * SOURCE_ERR naming the column. The first ncursor key columns are an
 * incremental cursor, which may be nullable: rows with a NULL cursor are
 * not read (incremental jobs refuse to start while they exist).
 *
 * Errors are on the source handle (source_error); the first one sticks. */
#ifndef SLUICE_SCAN_H
#define SLUICE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "source/source.h"

enum paging { PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR };

struct scan_spec {
    enum paging paging;
    const struct table_desc *table;
    const char *const *columns; /* output columns, in output order */
    size_t ncolumns;
    const char *const *key;     /* ordering key: columns of table, or its
                                   implicit_key */
    size_t nkey;
    size_t ncursor;             /* the first ncursor key columns are a cursor */
    const struct keytuple *after; /* lower bound, or NULL: exclusive, or
                                     inclusive when after_inclusive */
    int after_inclusive;
    const struct keytuple *upto;  /* inclusive upper bound, or NULL */
    uint64_t offset;              /* PAGING_OFFSET: rows of the order to skip */
    size_t page_size;             /* rows per query (keyset/offset) or fetch (cursor) */
    size_t page_bytes;            /* about this many bytes of values per page; 0: no limit */
    const char *where;            /* trusted SQL condition ANDed in, or NULL */
    int snapshot;                 /* all pages see one snapshot */
    const char *snapshot_at;      /* with snapshot: the snapshot another
                                     connection exported (its token), or NULL */
};

struct scan;

/* Prepares the statements a scan of spec would run, and nothing else: a
 * bad --where or a missing column fails here, before anything is written
 * or recorded. Bounds need only their lengths. 0 or SOURCE_E*. */
int scan_check(struct source *src, const struct scan_spec *spec);

/* Starts reading. spec and everything it points to must outlive the scan.
 * *out may hold a scan after a failure: close it. */
int scan_open(struct source *src, const struct scan_spec *spec, struct scan **out);
/* 1 and *row = ncolumns cells, borrowed until the next call; 0 at the end;
 * SOURCE_E* on error (and on every call after one). */
int scan_next_row(struct scan *s, const struct cell **row);
/* The key of the row last returned, into *key. */
int scan_row_key(struct scan *s, struct keytuple *key);
/* Values the driver had to degrade so far (MySQL zero dates). */
uint64_t scan_warnings(const struct scan *s);
/* Safe on NULL. Ends the snapshot, if any. */
void scan_close(struct scan *s);

/* Partition planning: reads the full keys of the rows spec would read
 * (its --where and bounds; its columns, offset and paging are ignored) in
 * key order, from a random sample of about `percent` % of them (100: every
 * row; less needs source_can_sample()), and calls fn with each key
 * (borrowed for the call). fn returns 0, or a negative code that stops the
 * read and is returned. 0 or SOURCE_E*. */
int scan_sample(struct source *src, const struct scan_spec *spec, double percent,
                int (*fn)(const struct keytuple *key, void *ctx), void *ctx);

/* Incremental mode: the first ncursor columns of spec->key are the cursor.
 * Among the rows that match spec->where and lie beyond spec->after (upto,
 * offset and paging are ignored) finds the least and the greatest cursor
 * prefix, as ncursor-long tuples (n 0 when no row), and counts the rows
 * that match spec->where and hold a NULL in any cursor column. */
int scan_cursor_range(struct source *src, const struct scan_spec *spec, size_t ncursor,
                      struct keytuple *min, struct keytuple *max, uint64_t *nulls);

#endif
