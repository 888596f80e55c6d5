/* pg_types.h - decoding PostgreSQL wire values into cells.
 *
 * The driver asks for binary results. Types decoded here arrive in their
 * binary send format; every other type is selected through its output
 * function as text (`textin(inet_out(col))`, `textin(array_out(col))`) and
 * arrives as its text form, decoded as PGDEC_TEXT / PGDEC_TEXTARRAY. The JSON each type becomes is documented in pg_types.c. */
#ifndef SLUICE_PG_TYPES_H
#define SLUICE_PG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "source/cell.h"

enum pgsrc_dec {
    PGDEC_TEXT,   /* text, varchar, bpchar, name, "char", enums, ::text casts */
    PGDEC_BOOL,
    PGDEC_INT2,
    PGDEC_INT4,
    PGDEC_INT8,
    PGDEC_OID,
    PGDEC_FLOAT4,
    PGDEC_FLOAT8,
    PGDEC_NUMERIC,
    PGDEC_BYTEA,
    PGDEC_UUID,
    PGDEC_DATE,
    PGDEC_TIME,
    PGDEC_TIMESTAMP,
    PGDEC_TIMESTAMPTZ,
    PGDEC_JSON,
    PGDEC_JSONB,
    PGDEC_TID,
    PGDEC_ARRAY, /* a binary array of elements of a decoder above */
    PGDEC_TEXTARRAY, /* an array's text form ("{a,\"b c\",NULL}"), elements
                        become strings */
};

/* How to decode one result column. */
struct pgsrc_decoder {
    enum pgsrc_dec dec;
    enum pgsrc_dec elem; /* PGDEC_ARRAY: the elements' decoder */
    char delim;           /* PGDEC_TEXTARRAY: the element delimiter (',') */
};

/* The decoder of a built-in, non-domain type oid in binary format; 0 and
 * *out untouched when the type must be read as text. */
int pgsrc_binary_decoder(uint32_t oid, enum pgsrc_dec *out);

/* The "json_type" of struct column_desc for a (domain-resolved) type oid;
 * is_array when the type is an array. */
const char *pgsrc_json_type(uint32_t oid, int is_array);

enum { PGSRC_EBAD = -1, PGSRC_ENOMEM = -2 };

/* Decodes one non-NULL value v[0..len) of column col into *out.
 *
 * Data the cell needs beyond v itself is appended to scratch; then
 * *scratch_off is its offset in scratch, out->v.s is NULL, and 1 is
 * returned: the caller sets out->v.s = scratch->data + *scratch_off once it
 * stops appending to scratch (appends may move the data). 0: the cell is
 * complete (it may point into v). PGSRC_EBAD: malformed value.
 * PGSRC_ENOMEM: scratch cap or memory. tmp is a work buffer for array
 * elements; its contents are clobbered. */
int pgsrc_decode(const struct pgsrc_decoder *col, const char *v, size_t len, struct buf *scratch, struct buf *tmp,
                  struct cell *out, size_t *scratch_off);

/* Text of a binary numeric, exact digits ("-12.50", "NaN", "Infinity",
 * "-Infinity"), appended to out. 0, PGSRC_EBAD or PGSRC_ENOMEM. */
int pgsrc_numeric_text(const unsigned char *p, size_t len, struct buf *out);

/* Shortest decimal text that reads back as the float f ("0.1"), written to
 * out (NUL-terminated); f must be finite. Returns its length. */
size_t pgsrc_float4_text(float f, char out[32]);

#endif
