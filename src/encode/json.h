/* json.h - the JSON encoder of the type contract (README, "Types").
 *
 * Every function appends to a struct buf and returns 0, or -1 when the
 * buffer's cap or memory ran out (the buffer's oom flag is then set). No
 * function allocates or calls stdio per value beyond growing the buffer. */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "source/cell.h"

struct json_stats {
    uint64_t invalid_utf8; /* strings in which invalid UTF-8 was replaced */
};

/* A quoted JSON string: ", \ and control characters escaped, U+2028 and
 * U+2029 escaped, each invalid UTF-8 sequence replaced by U+FFFD (counted
 * once per string in st, which may be NULL). */
int json_quoted(struct buf *out, const char *s, size_t n, struct json_stats *st);
/* A quoted string of standard base64 (RFC 4648, with padding). */
int json_base64(struct buf *out, const void *p, size_t n);
int json_int(struct buf *out, int64_t v);
int json_uint(struct buf *out, uint64_t v);
/* Shortest text that reads back as the same double; "NaN", "Infinity",
 * "-Infinity" as strings. */
int json_double(struct buf *out, double d);
/* Exact decimal text from a database: emitted as a number when it is valid
 * JSON number syntax, "NaN"/"Infinity"/"-Infinity" as strings, anything else
 * as a string. */
int json_number_text(struct buf *out, const char *s, size_t n);
/* A JSON value from the database (json, jsonb, MySQL JSON, or one built
 * by a driver), trusted to be valid JSON syntax, copied with every U+2028
 * and U+2029 written as \u2028 / \u2029, as json_quoted writes them, and
 * invalid UTF-8 (a SQL_ASCII database's bytes) replaced by U+FFFD and
 * counted in st (may be NULL). */
int json_embedded(struct buf *out, const char *s, size_t n, struct json_stats *st);
/* One cell as JSON, per its kind; CELL_JSON through json_embedded. */
int json_cell(struct buf *out, const struct cell *c, struct json_stats *st);

/* Encodes rows as one JSON object per line, keys in column order. The keys
 * are encoded once by json_row_init. */
struct json_row {
    size_t ncols;
    char **prefix;     /* per column: `{"name":` for the first, `,"name":` after */
    size_t *prefix_len;
};

int json_row_init(struct json_row *r, const char *const *names, size_t n);
void json_row_free(struct json_row *r);
/* Appends `{...}\n` for one row of r->ncols cells. */
int json_row(struct buf *out, const struct json_row *r, const struct cell *cells,
             struct json_stats *st);

#endif
