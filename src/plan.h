/* plan.h - from the command line and a described table to what one
 * extraction reads: the paging key, the output columns, the scan spec, the
 * stream identity and the fingerprint a resume must match. */
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include "options.h"
#include "sink.h"
#include "source.h"

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
    enum sink_compress compress;
    int level;                /* its level (0 for none) */
};

/* Fills p from o and desc (p takes desc). Returns 0, or an EXIT_* code with
 * a one-line message in err. */
int plan_build(struct plan *p, const struct extract_opts *o,
               struct table_desc *desc, char *err, size_t errlen);
void plan_free(struct plan *p);

/* Between two fingerprints of one stream: the first key column of had
 * whose name or type is not in now, into out ("" when none differs). */
void plan_changed_key(const char *had, const char *now, char *out, size_t n);

/* The state store used when --state is not given:
 * $XDG_STATE_HOME/sluice/state.db, else ~/.local/state/sluice/state.db. */
int plan_default_state_path(char *out, size_t n);

#endif
