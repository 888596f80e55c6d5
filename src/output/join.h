/* join.h - a partitioned job's parts (output/parts.h) assembled into its
 * output in key order, or (--keep-parts) described by an index instead.
 *
 * Joining is resumable and idempotent: it writes FILE.partial (locked)
 * from the parts, checking each part's SHA-256 against its record, fsyncs
 * it and renames it to FILE; only then are the parts, their records and the
 * shared plan removed. FILE.parts.json is its journal: written before the
 * first byte is copied, removed last. Killed at any moment, the next call
 * finishes the work (copying again what it must); called when all is done,
 * it does nothing. Plain parts joined give the bytes one process would have
 * written; gzip members and zstd frames concatenate into one valid file.
 *
 * Nothing is written while parts are missing or inconsistent, or when the
 * records name parts of more than one job. */
#ifndef SLUICE_JOIN_H
#define SLUICE_JOIN_H

#include <stdint.h>

struct join_request {
    const char *output;   /* FILE */
    const char *plan;     /* join only the parts of this plan (a job joining
                             its own); NULL: the one plan the records name */
    unsigned partitions;  /* with plan: the number of parts; 0: from the records */
    int keep_parts;       /* write the index, keep the parts, do not join */
};

struct join_result {
    int code;            /* EXIT_*: 0 done; 2 parts missing, inconsistent or
                            of two jobs; 5 a file could not be written or a
                            part changed; 6 another process joins FILE */
    int already;         /* there was nothing left to do */
    unsigned parts;
    uint64_t rows, bytes;
    char error[1024];    /* one line */
};

int join_run(const struct join_request *rq, struct join_result *res);

#endif
