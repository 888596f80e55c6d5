#include "pump.h"

#include <stdio.h>

/* Progress callbacks are rate-limited by row count; time is the caller's. */
#define PROGRESS_EVERY 4096

static enum pump_status checkpoint(struct pump *p, struct keytuple *key,
                                   uint64_t uncommitted)
{
    uint64_t bytes;
    if (!uncommitted)
        return PUMP_DONE; /* the last checkpoint still describes the output */
    if (sink_checkpoint(p->sink, &bytes) < 0) {
        snprintf(p->err, sizeof p->err, "%s", sink_error(p->sink));
        return PUMP_EOUTPUT;
    }
    /* The key of the row last returned is still readable from the scan. */
    if (scan_row_key(p->scan, key) < 0)
        return PUMP_ESOURCE;
    if (state_checkpoint(p->state, p->stream, p->partition, key,
                         p->offset + uncommitted, p->rows + uncommitted, bytes) < 0) {
        snprintf(p->err, sizeof p->err, "%s", state_error(p->state));
        return PUMP_ESTATE;
    }
    p->offset += uncommitted;
    p->rows += uncommitted;
    p->bytes = bytes;
    return PUMP_DONE;
}

/* End of scan: the row last returned is gone, so the final counters are
 * committed together with the move to FINISHING, which never resumes the
 * scan and so needs no key; or, at the end of a window, with the window's
 * bound, which is where the next window starts. pending: rows written
 * since the last checkpoint. */
static enum pump_status scan_end(struct pump *p, uint64_t pending)
{
    uint64_t bytes;
    if (sink_checkpoint(p->sink, &bytes) < 0) {
        snprintf(p->err, sizeof p->err, "%s", sink_error(p->sink));
        return PUMP_EOUTPUT;
    }
    int rc;
    if (p->end_key)
        rc = state_checkpoint(p->state, p->stream, p->partition, p->end_key,
                              p->offset + pending, p->rows + pending, bytes);
    else
        rc = state_mark_finishing(p->state, p->stream, p->partition,
                                  p->offset + pending, p->rows + pending, bytes);
    if (rc < 0) {
        snprintf(p->err, sizeof p->err, "%s", state_error(p->state));
        return PUMP_ESTATE;
    }
    p->offset += pending;
    p->rows += pending;
    p->bytes = bytes;
    return PUMP_DONE;
}

enum pump_status pump_finish_empty(struct pump *p)
{
    return scan_end(p, 0);
}

enum pump_status pump_run(struct pump *p)
{
    struct buf *out = sink_buf(p->sink);
    struct keytuple key = {0};
    uint64_t pending = 0; /* rows written to the sink since the last checkpoint */
    enum pump_status st = PUMP_DONE;
    const struct cell *row;
    int rc = 1; /* 1: the last next_row gave a row (or none was asked for) */

    while (!*p->stop && (rc = scan_next_row(p->scan, &row)) > 0) {
        if (json_row(out, p->encoder, row, &p->stats) < 0) {
            snprintf(p->err, sizeof p->err,
                     "a row of more than %zu bytes does not fit the output buffer",
                     out->max);
            st = PUMP_ENOMEM;
            goto out;
        }
        if (sink_flush_if_full(p->sink) < 0) {
            snprintf(p->err, sizeof p->err, "%s", sink_error(p->sink));
            st = PUMP_EOUTPUT;
            goto out;
        }
        pending++;
        p->run_rows++;
        if (p->checkpoint_every && pending >= p->checkpoint_every) {
            if ((st = checkpoint(p, &key, pending)) != PUMP_DONE)
                goto out;
            pending = 0;
        }
        if (p->progress && p->run_rows % PROGRESS_EVERY == 0)
            p->progress(p->rows + pending, p->bytes, p->progress_ctx);
    }
    if (rc < 0) {
        /* The failed scan has no current row to take a key from: the rows
         * since the last checkpoint are read again by the resume. */
        st = PUMP_ESOURCE;
        goto out;
    }
    if (rc > 0) {
        /* Stopped, and the row last returned is written: checkpoint right
         * after it. */
        st = checkpoint(p, &key, pending);
        if (st == PUMP_DONE)
            st = PUMP_STOPPED;
        goto out;
    }
    st = scan_end(p, pending);
out:
    key_clear(&key);
    return st;
}
