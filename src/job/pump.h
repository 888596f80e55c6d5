/* pump.h - the loop at the centre of sluice: rows from a scan, encoded to
 * NDJSON into the sink, a checkpoint every N rows.
 *
 * A checkpoint is always, in this order: flush the sink and end its
 * compression frame, fsync the output, then commit {key of the last row
 * written, offset, rows, bytes} to the state store. Never the other way
 * round, so the state never points past durable output. The fsync and the
 * commit run on a worker thread (checkpointer.h) while the loop encodes the
 * next rows; pump_run returns only with nothing in flight. */
#ifndef SLUICE_PUMP_H
#define SLUICE_PUMP_H

#include <stdatomic.h>
#include <stdint.h>

#include "job/checkpointer.h"
#include "encode/json.h"
#include "source/key.h"
#include "output/sink.h"
#include "source/scan.h"
#include "state/state.h"

enum pump_status {
    PUMP_DONE,     /* the scan ended; the job is FINISHING with every row
                      durable (or, with end_key, checkpointed at end_key) */
    PUMP_STOPPED,  /* *stop was raised; checkpointed at the last row written,
                      or, for a sink whose cuts are not seamless, at the
                      last regular checkpoint */
    PUMP_ESOURCE,  /* the scan failed: message from source_error() */
    PUMP_EOUTPUT,  /* the sink failed: message in err */
    PUMP_ESTATE,   /* the state store failed: message in err */
    PUMP_ENOMEM,
    PUMP_EWINDOW,  /* not the pump's own: the caller could not open the next
                      window (reported by the caller) */
};

typedef void pump_progress_fn(uint64_t rows, uint64_t bytes, void *ctx);

struct pump {
    /* Borrowed, set by the caller. */
    struct scan *scan;
    struct sink *sink;
    struct state *state;
    const char *stream;
    const char *partition;
    const struct json_row *encoder;
    uint64_t checkpoint_every;            /* rows; 0: only at the end */
    const atomic_int *stop;               /* nonzero: checkpoint and return */
    pump_progress_fn *progress;           /* called every few thousand rows; may be NULL */
    /* NULL: the end of the scan ends the job (FINISHING). Else the scan is
     * one window of the job: its end commits a checkpoint at end_key, the
     * bound the window read up to. */
    const struct keytuple *end_key;
    void *progress_ctx;

    /* The job's position: the caller sets it to the resume point, the pump
     * advances it with every checkpoint. */
    uint64_t offset; /* rows of the scan order consumed (offset paging) */
    uint64_t rows;   /* rows in this job's output */
    uint64_t bytes;  /* durable bytes of the output */

    struct checkpointer ckpt; /* the pump's own; zero-initialise */

    /* Results of this run. */
    uint64_t run_rows;
    struct json_stats stats;
    char err[1024];
};

/* Runs until the scan ends, *stop is raised, or something fails. */
enum pump_status pump_run(struct pump *p);
/* Ends the job (or window) as pump_run does at the end of a scan, for a
 * job with nothing to read: no scan is needed. */
enum pump_status pump_finish_empty(struct pump *p);

#endif
