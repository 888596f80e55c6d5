/* mysql_types.h - MySQL/MariaDB text-protocol values to cells, and key
 * values to SQL literals and back.
 *
 * The driver reads every value through the text protocol (mysql_use_result),
 * so each value arrives as the server's text. A column's decoder is chosen
 * once per statement from its result metadata and its described type;
 * decoding a value then needs no allocation except for the few kinds that
 * are rebuilt in the result's scratch buffer (DATETIME, TIMESTAMP, SET,
 * reformatted JSON).
 *
 * Key values travel the other way too: the driver writes each bound into
 * the statement as a literal of its column's class (mysql_source.c sends
 * text queries, never prepared statements), and the literal must compare
 * with the column exactly as the column sorts. */
#ifndef SLUICE_MYSQL_TYPES_H
#define SLUICE_MYSQL_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "common/buf.h"
#include "source/cell.h"
#include "source/key.h"

enum mysrc_kind {
    MYSRC_NULL,      /* the NULL type: always null */
    MYSRC_INT,       /* integer types and YEAR: the server's digits */
    MYSRC_DECIMAL,   /* DECIMAL: the server's exact digits */
    MYSRC_DOUBLE,    /* DOUBLE: the server's shortest text, read as a double */
    MYSRC_FLOAT,     /* FLOAT, selected as `col + 0e0` so the server sends the
                        float's exact value as a double; emitted as the float's
                        own shortest text (0.1, not 0.10000000149011612) */
    MYSRC_BIT1,      /* BIT(1): true / false */
    MYSRC_BITS,      /* wider BIT: the big-endian bytes, base64 */
    MYSRC_TEXT,      /* character strings and ENUM */
    MYSRC_SET,       /* SET: "a,b" -> ["a","b"] */
    MYSRC_BYTES,     /* binary strings (charsetnr 63): base64 */
    MYSRC_DATE,      /* "YYYY-MM-DD"; zero dates -> null + warning */
    MYSRC_TIME,      /* "[-]HH:MM:SS[.ffffff]", hours may exceed 24 */
    MYSRC_DATETIME,  /* "YYYY-MM-DDTHH:MM:SS[.ffffff]" */
    MYSRC_TIMESTAMP, /* the same in UTC (session time_zone +00:00) with "Z" */
    MYSRC_JSON,      /* JSON (and GeoJSON): embedded, made one line */
};

/* The decoder for a result column. The caller overrides the metadata with
 * what only the description knows: is_json (MariaDB's JSON is LONGTEXT
 * with a json_valid CHECK; geometry selected as ST_AsGeoJSON) and is_float
 * (FLOAT selected as a double). */
enum mysrc_kind mysrc_kind_of(const MYSQL_FIELD *f, int is_json, int is_float);

/* Whether the metadata's integer digits may carry ZEROFILL padding. */
int mysrc_field_zerofill(const MYSQL_FIELD *f);

/* Decodes one non-NULL value s[0..len) (NUL-terminated by the client
 * library) of kind k into *out. Returns 0 when *out is complete (it may
 * point into s), 1 when its text was appended to scratch at offset
 * out->v.u (the caller sets v.s once the row is complete, as scratch may
 * move), or -1 when scratch ran out of memory. zerofill: strip leading
 * zeros of integer digits. *warnings counts values degraded to null. */
int mysrc_decode(enum mysrc_kind k, int zerofill, const char *s, size_t len,
                 struct cell *out, struct buf *scratch, uint64_t *warnings);

/* The float's shortest decimal text read back as a double: for f a value
 * exactly representable as a float, the double nearest to the fewest digits
 * that strtof() reads back as f. */
double mysrc_float_shortest(double f);

/* How a key column's values are kept in a key tuple and written back as
 * SQL literals. */
enum mysrc_keyclass {
    MYSRC_KEY_NUMBER, /* integers, YEAR, DECIMAL, DOUBLE: bare digits (a
                         quoted number would compare as a double) */
    MYSRC_KEY_BIT,    /* BIT(1..64): the unsigned integer of its bits, as
                         digits; a BIT compares with a number as that number
                         and with X'..' as bytes, and only the first is how
                         it sorts */
    MYSRC_KEY_STRING, /* character strings and temporal values: a string
                         literal (mysrc_string_literal) */
    MYSRC_KEY_BINARY, /* binary strings: X'hex' */
};

/* Appends s[0..n), a utf8mb4 string, as a string literal that reads back
 * as the same bytes whatever the session's sql_mode (NO_BACKSLASH_ESCAPES,
 * ANSI_QUOTES): 'text' with quotes doubled, or _utf8mb4 X'hex' when s holds
 * a NUL or a backslash (which no quoted form writes in both modes). Either
 * compares with a column in the column's collation, as a literal in the
 * connection's utf8mb4 does. Check b->oom afterwards. */
void mysrc_string_literal(struct buf *b, const char *s, size_t n);

/* Appends the literal of key value v for a column of class kc. 0, or -1
 * when v cannot be such a literal (NULL, or text that is not a number for
 * a numeric class: nothing is appended then). Check b->oom afterwards.
 * KEY_BLOB values of a BIT column (as sluice stored them before BIT keys
 * were numbers) are read as big-endian bits. */
int mysrc_key_literal(struct buf *b, enum mysrc_keyclass kc, const struct keyval *v);

/* Sets value i of key from a row's non-NULL text s[0..n) of a column of
 * class kc: integers (is_int) as KEY_INT, or as digits in KEY_TEXT beyond
 * INT64_MAX (is_unsigned); BIT as its unsigned integer the same way;
 * binary strings as KEY_BLOB; everything else as KEY_TEXT in the server's
 * own syntax. 0 or -1 (out of memory). */
int mysrc_key_value(struct keytuple *key, size_t i, enum mysrc_keyclass kc, int is_int,
                    int is_unsigned, const char *s, size_t n);

#endif
