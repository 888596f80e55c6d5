/* cursorval.h - arithmetic on incremental cursor values.
 *
 * An incremental job keeps a high-water cursor value: an integer, a date or
 * a timestamp, held as a keyval (KEY_INT, or KEY_TEXT in the database's own
 * text syntax). This module parses it, moves it by a duration (lookback,
 * window step), aligns it down to a granularity, compares two of them and
 * writes it back in the text shape it was read in, so it binds back to the
 * same database and, for SQLite, compares as text the same way.
 *
 * Time values are wall-clock values: arithmetic never applies the offset and
 * never consults the process time zone (proleptic Gregorian calendar, years
 * 0001..9999). Only cv_cmp converts to UTC. Every function that can fail
 * returns 0 or -1 and then puts a one-line reason in err (err may be NULL
 * when errlen is 0); on failure the output is unspecified. */
#ifndef SLUICE_CURSORVAL_H
#define SLUICE_CURSORVAL_H

#include <stddef.h>
#include <stdint.h>

#include "source/key.h"

enum cv_type { CV_INT, CV_DATE, CV_TIMESTAMP };

/* zone */
#define CV_ZONE_NONE 0
#define CV_ZONE_Z 1
#define CV_ZONE_OFFSET 2
/* offset_form */
#define CV_OFF_HH 0       /* +05 */
#define CV_OFF_HHMM 1     /* +0530 */
#define CV_OFF_HH_MM 2    /* +05:30 */

struct cursor_value {
    enum cv_type type;
    /* CV_INT: the value; CV_DATE: days since 1970-01-01; CV_TIMESTAMP:
     * microseconds since 1970-01-01 00:00:00 of the value's own wall clock
     * (offset NOT applied). */
    int64_t v;
    /* The text shape, so cv_to_key writes what was read. */
    char sep;        /* 'T' or ' ' between date and time */
    int frac;        /* fraction digits as read (0..6) */
    int zone;        /* CV_ZONE_* */
    int offset_min;  /* CV_ZONE_OFFSET: minutes east of UTC */
    int offset_form; /* CV_ZONE_OFFSET: CV_OFF_* */
    int offset_negzero; /* the offset was written "-00": keep the minus */
    int as_text;     /* CV_INT read from KEY_TEXT: written back as text */
};

/* Either a calendar duration (months, days, usec; all >= 0) or, is_count,
 * a plain count of integer units. */
struct duration {
    int64_t months, days, usec;
    int64_t count;
    int is_count;
};

/* Parses an ISO 8601 duration PnYnMnWnDTnHnMnS (components in that order,
 * at least one; only the seconds may have a fraction, up to 6 digits) into
 * months/days/usec, or a plain positive decimal integer ("1000") into
 * count. "P", "PT", signs, lower case, empty, garbage and overflow are
 * refused. 0 or -1. */
int duration_parse(const char *s, struct duration *d, char *err, size_t errlen);

/* KEY_INT -> CV_INT. KEY_TEXT: an integer literal -> CV_INT; "YYYY-MM-DD"
 * -> CV_DATE; "YYYY-MM-DD[T| ]HH:MM:SS[.f{1,6}][Z|+HH|+HHMM|+HH:MM|-...]"
 * -> CV_TIMESTAMP. Anything else (other kinds, "12.5", "infinity", more
 * than 6 fraction digits, 2026-02-30, 24:00:00, year 0000) -> -1 with a
 * reason that names the value (truncated). 0 or -1. */
int cv_parse(const struct keyval *k, struct cursor_value *out, char *err,
             size_t errlen);

/* Writes c as value i of t (i < t->n): KEY_INT for CV_INT unless it was read
 * from text; otherwise KEY_TEXT in the parsed shape, the fraction widened
 * to as many digits as needed so no microsecond is lost and never narrowed
 * below what was read. 0 or -1 (out of memory). */
int cv_to_key(const struct cursor_value *c, struct keytuple *t, size_t i);

/* c += sign * d (sign is 1 or -1). Months by calendar, the day clamped to
 * the month's end (Mar 31 - P1M = Feb 28/29), then days, then usec. A count
 * moves only CV_INT and an ISO duration only dates and timestamps; a date
 * moves only by whole days. Leaving years 0001..9999, or int64 overflow, is
 * an error. 0 or -1 (c unchanged). */
int cv_add(struct cursor_value *c, const struct duration *d, int sign,
           char *err, size_t errlen);

/* Aligns c down to a multiple of g counted from 1970-01-01T00:00:00 of the
 * value's wall clock (an int: a multiple of count, toward -infinity). g must
 * be non-zero and of fixed length (no months or years); a date aligns only
 * to whole days. 0 or -1 (c unchanged). */
int cv_floor(struct cursor_value *c, const struct duration *g, char *err,
             size_t errlen);

/* <0, 0, >0 comparing instants: an offset is applied to get UTC, a value
 * without a zone is taken as UTC, a date is its midnight. An integer sorts
 * before any date or timestamp. */
int cv_cmp(const struct cursor_value *a, const struct cursor_value *b);

#endif
