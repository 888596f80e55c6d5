/* cell.h - one typed value of one row, as a driver hands it to the core.
 *
 * Drivers decode their wire values into cells; the JSON encoder turns each
 * kind into the JSON of the type contract (README, "Types"). String data is
 * borrowed: it stays valid until the driver's next call on the same scan. */
#ifndef SLUICE_CELL_H
#define SLUICE_CELL_H

#include <stddef.h>
#include <stdint.h>

enum cell_kind {
    CELL_NULL,
    CELL_BOOL,   /* v.i: 0 or 1 -> false / true */
    CELL_INT,    /* v.i -> exact digits */
    CELL_UINT,   /* v.u -> exact digits */
    CELL_DOUBLE, /* v.d -> shortest round-trip text; NaN/Inf as strings */
    CELL_NUMBER, /* v.s: exact decimal text from the database ("-12.50");
                    "NaN", "Infinity", "-Infinity" become strings */
    CELL_TEXT,   /* v.s: text -> JSON string; invalid UTF-8 -> U+FFFD, counted */
    CELL_BYTES,  /* v.s: binary -> base64 string */
    CELL_JSON,   /* v.s: a complete JSON value, embedded verbatim */
};

struct cell {
    enum cell_kind kind;
    size_t len; /* bytes at v.s, for the kinds that use it */
    union {
        int64_t i;
        uint64_t u;
        double d;
        const char *s;
    } v;
};

#endif
