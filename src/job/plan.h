/* plan.h - from a stream spec and a described table to what one
 * extraction reads: the paging key, the output columns, the scan spec, the
 * stream identity and the fingerprint a resume must match. */
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include "job/spec.h"
#include "output/sink.h"
#include "source/scan.h"
#include "source/source.h"

#define PLAN_SCHEMA_MARK " | key="

struct plan {
    struct table_desc *desc;  /* owned */
    struct strlist columns;   /* output columns, in order */
    struct strlist key;       /* paging key columns: in incremental mode the
                                 cursor columns come first */
    size_t ncursor;           /* incremental: cursor columns; 0 in full mode */
    const char *cursor_type;  /* incremental: JSON type of the first cursor
                                 column ("timestamptz", "integer", ...) */
    struct scan_spec spec;    /* points into this plan */
    char *stream;             /* stream identity, never with a password */
    char *fingerprint;        /* what a resumed job must share with its start:
                                 the options, then PLAN_SCHEMA_MARK and the
                                 types of the key and output columns */
    char *output_abs;         /* absolute output path, or "-" */
    const char *partition;    /* the partition's name in the state store; "" for none */
    enum sink_compress compress;
    int level;                /* its level (0 for none) */
};

/* Fills p from o and desc (p takes desc), checking everything o asks of the
 * table: columns and key exist and can page, cursor values and durations
 * fit the cursor's type. names[] name o's fields in messages. Returns 0, or
 * an EXIT_* code with a one-line message in err. */
int plan_build(struct plan *p, const struct stream_spec *o, const char *const *names,
               struct table_desc *desc, char *err, size_t errlen);
void plan_free(struct plan *p);

/* Adds " TAG" to the options part of p's fingerprint (before
 * PLAN_SCHEMA_MARK): what else a resumed job must share with its start
 * (a partition's plan). 0 or -1 (out of memory). */
int plan_tag_fingerprint(struct plan *p, const char *tag);

/* Between two fingerprints of one stream: the first key column of had
 * whose name or type is not in now, into out ("" when none differs). */
void plan_changed_key(const char *had, const char *now, char *out, size_t n);

#endif
