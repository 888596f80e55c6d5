#include "job/pump.h"

#include <stdio.h>

/* Progress callbacks are rate-limited by row count; time is the caller's. */
#define PROGRESS_EVERY 4096

/* The failure of the checkpoint that was in flight. */
static enum pump_status checkpoint_failed(struct pump *p)
{
    snprintf(p->err, sizeof p->err, "%s", p->ckpt.err);
    return p->ckpt.state_failed ? PUMP_ESTATE : PUMP_EOUTPUT;
}

/* Ends the checkpoint in flight, if any; its position becomes the job's. */
static enum pump_status settle(struct pump *p)
{
    struct checkpointer *c = &p->ckpt;
    if (!c->busy)
        return PUMP_DONE;
    if (checkpointer_wait(c) < 0)
        return checkpoint_failed(p);
    p->offset = c->offset;
    p->rows = c->rows;
    p->bytes = c->bytes;
    return PUMP_DONE;
}

/* Starts a checkpoint after the row last returned: the output is cut here
 * and made durable, then the position committed, off this thread.
 * uncommitted: rows written since the last checkpoint started. */
static enum pump_status checkpoint(struct pump *p, struct keytuple *key,
                                   const struct keytuple *first, uint64_t uncommitted)
{
    enum pump_status st = settle(p);
    if (st != PUMP_DONE || !uncommitted)
        return st; /* nothing new: the last checkpoint describes the output */
    uint64_t bytes;
    if (sink_cut(p->sink, &bytes) < 0) {
        snprintf(p->err, sizeof p->err, "%s", sink_error(p->sink));
        return PUMP_EOUTPUT;
    }
    /* The key of the row last returned is still readable from the scan. */
    if (scan_row_key(p->scan, key) < 0)
        return PUMP_ESOURCE;
    if (checkpointer_start(&p->ckpt, key, p->offset + uncommitted, p->rows + uncommitted,
                           bytes, first, uncommitted, sink_last_segment(p->sink)) < 0) {
        snprintf(p->err, sizeof p->err, "%s", p->ckpt.err);
        return PUMP_ENOMEM;
    }
    return PUMP_DONE;
}

/* End of scan: the row last returned is gone, so the final counters are
 * committed together with the move to FINISHING, which never resumes the
 * scan and so needs no key; or, at the end of a window, with the window's
 * bound, which is where the next window starts. pending: rows written
 * since the last checkpoint, the first of them keyed first. Synchronous:
 * the caller goes on with the job. */
static enum pump_status scan_end(struct pump *p, uint64_t pending, const struct keytuple *first)
{
    enum pump_status st = settle(p);
    if (st != PUMP_DONE)
        return st;
    uint64_t bytes;
    if (sink_checkpoint(p->sink, &bytes) < 0) {
        snprintf(p->err, sizeof p->err, "%s", sink_error(p->sink));
        return PUMP_EOUTPUT;
    }
    const struct sink_segment *ss = sink_last_segment(p->sink);
    /* The last segment ends at the window's bound, or (no key: the row is
     * gone) at the end of the job's range. */
    const struct state_segment seg = {
        .rows = pending, .start = ss->start, .end = ss->end, .digest = ss->digest,
        .first = pending ? first : NULL, .last = p->end_key,
    };
    int rc;
    if (p->end_key)
        rc = state_checkpoint(p->state, p->stream, p->partition, p->end_key,
                              p->offset + pending, p->rows + pending, bytes, &seg);
    else
        rc = state_mark_finishing(p->state, p->stream, p->partition,
                                  p->offset + pending, p->rows + pending, bytes, &seg);
    if (rc < 0) {
        snprintf(p->err, sizeof p->err, "%s", state_error(p->state));
        return PUMP_ESTATE;
    }
    p->offset += pending;
    p->rows += pending;
    p->bytes = bytes;
    return PUMP_DONE;
}

static void checkpointer_setup(struct pump *p)
{
    p->ckpt.sink = p->sink;
    p->ckpt.state = p->state;
    p->ckpt.stream = p->stream;
    p->ckpt.partition = p->partition;
}

enum pump_status pump_finish_empty(struct pump *p)
{
    checkpointer_setup(p);
    return scan_end(p, 0, NULL);
}

enum pump_status pump_run(struct pump *p)
{
    struct buf *out = sink_buf(p->sink);
    struct keytuple key = {0};
    struct keytuple first = {0}; /* key of the first row since the last checkpoint */
    uint64_t pending = 0; /* rows written to the sink since the last checkpoint */
    enum pump_status st = PUMP_DONE;
    const struct cell *row;
    int rc = 1; /* 1: the last next_row gave a row (or none was asked for) */

    checkpointer_setup(p);

    while (!atomic_load_explicit(p->stop, memory_order_relaxed) &&
           (rc = scan_next_row(p->scan, &row)) > 0) {
        /* A segment's first row: its key names where the segment begins. */
        if (pending == 0 && scan_row_key(p->scan, &first) < 0) {
            st = PUMP_ESOURCE;
            goto out;
        }
        if (json_row(out, p->encoder, row, &p->stats) < 0) {
            snprintf(p->err, sizeof p->err,
                     "out of memory for a row's JSON (rows may take up to %zu bytes)",
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
            if ((st = checkpoint(p, &key, &first, pending)) != PUMP_DONE)
                goto out;
            pending = 0;
        }
        if (p->progress && p->run_rows % PROGRESS_EVERY == 0)
            p->progress((p->ckpt.busy ? p->ckpt.rows : p->rows) + pending, p->bytes,
                        p->progress_ctx);
    }
    if (rc < 0) {
        /* The failed scan has no current row to take a key from: the rows
         * since the last checkpoint are read again by the resume. */
        st = PUMP_ESOURCE;
        goto out;
    }
    if (rc > 0) {
        /* Stopped, and the row last returned is written: checkpoint right
         * after it (settled below) - when the sink's cuts leave no trace.
         * Otherwise (compressed output) the last regular checkpoint stays
         * the resume point, so the finished file is the same bytes as an
         * uninterrupted run's. */
        st = sink_cut_is_seamless(p->sink) ? checkpoint(p, &key, &first, pending) : PUMP_DONE;
        if (st == PUMP_DONE)
            st = PUMP_STOPPED;
        goto out;
    }
    st = scan_end(p, pending, &first);
out:;
    /* Nothing in flight when the caller takes over the sink and the state:
     * a failed fsync or commit outranks a source failure (which would
     * otherwise be retried) and a stop. */
    enum pump_status settled = settle(p);
    if (settled != PUMP_DONE && (st == PUMP_DONE || st == PUMP_STOPPED || st == PUMP_ESOURCE))
        st = settled;
    checkpointer_clear(&p->ckpt);
    key_clear(&key);
    key_clear(&first);
    return st;
}
