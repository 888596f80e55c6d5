#include "job/checkpointer.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void *checkpoint_worker(void *arg)
{
    struct checkpointer *c = arg;
    if (sink_sync(c->sink, c->err, sizeof c->err) < 0) {
        c->failed = -1;
        return NULL;
    }
    const struct state_segment seg = {
        .rows = c->seg_rows, .start = c->seg.start, .end = c->seg.end,
        .digest = c->seg.digest, .first = &c->seg_first, .last = &c->key,
    };
    if (state_checkpoint(c->state, c->stream, c->partition, &c->key, c->offset, c->rows,
                         c->bytes, &seg) < 0) {
        snprintf(c->err, sizeof c->err, "%s", state_error(c->state));
        c->failed = -1;
        c->state_failed = 1;
    }
    return NULL;
}

int checkpointer_start(struct checkpointer *c, const struct keytuple *key,
                       uint64_t offset, uint64_t rows, uint64_t bytes,
                       const struct keytuple *seg_first, uint64_t seg_rows,
                       const struct sink_segment *seg)
{
    if (c->busy) { /* programming error: one in flight at a time */
        snprintf(c->err, sizeof c->err, "internal error: a checkpoint is already in flight");
        return -1;
    }
    if (key_copy(&c->key, key) < 0 || key_copy(&c->seg_first, seg_first) < 0) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    c->seg_rows = seg_rows;
    c->seg = *seg;
    c->offset = offset;
    c->rows = rows;
    c->bytes = bytes;
    c->failed = c->state_failed = 0;
    c->err[0] = '\0';
    /* The worker blocks every signal, so SIGINT/SIGTERM reach the pump's
     * thread, as they did before there was a worker. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&c->thread, NULL, checkpoint_worker, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        snprintf(c->err, sizeof c->err, "cannot start the checkpoint thread: %s", strerror(e));
        return -1;
    }
    c->busy = 1;
    return 0;
}

int checkpointer_wait(struct checkpointer *c)
{
    if (!c->busy)
        return 0;
    pthread_join(c->thread, NULL);
    c->busy = 0;
    return c->failed;
}

void checkpointer_clear(struct checkpointer *c)
{
    checkpointer_wait(c);
    key_clear(&c->key);
    key_clear(&c->seg_first);
}
