/* meta.h - the sidecar a job writes beside the output it publishes
 * (spec->meta: `extract --meta`, every manifest stream). Its JSON shape,
 * version 1, is documented in the README ("Sidecar"); output/sidecar.h
 * writes it atomically.
 *
 * The job writes it after renaming FILE.partial to FILE and before it
 * ends the job in the state store, so a run killed between the two ends
 * FINISHING and the next run writes it again (finish_interrupted). */
#ifndef SLUICE_JOB_META_H
#define SLUICE_JOB_META_H

#include <stdint.h>

#include "job/plan.h"
#include "job/spec.h"
#include "state/state.h"

struct job_meta {
    const struct stream_spec *spec;
    const struct plan *plan;
    const char *output;                /* the published file */
    const struct job_range *range;     /* incremental: the job's bounds; NULL in full mode */
    const struct keytuple *high_water; /* the stream's mark once the job ends; may be NULL */
    uint64_t rows;                     /* rows in the file */
    struct state *state;               /* the job's store: job id, attempts, start */
};

/* Digests m->output and writes its sidecar. 0, or -1 with a one-line
 * message in err. */
int job_meta_write(const struct job_meta *m, char *err, size_t errlen);

#endif
