/* checkpointer.h - makes a checkpoint durable while the pump goes on.
 *
 * A checkpoint has two halves. On the pump's thread: the sink writes out
 * everything up to the checkpoint and ends its compression frame
 * (sink_cut), and the position is recorded here. On a worker thread: fsync
 * the output, then commit the position to the state store - in that order,
 * so the state never points past durable output. While the worker waits
 * for the disk, the pump encodes the next rows; rows written after the cut
 * are simply not covered by this checkpoint (a resume truncates them).
 *
 * At most one checkpoint is in flight: checkpointer_wait() ends it, and
 * must be called before the next one starts and before the state store or
 * the sink is used for anything else (rewind, publish, close). */
#ifndef SLUICE_CHECKPOINTER_H
#define SLUICE_CHECKPOINTER_H

#include <pthread.h>
#include <stdint.h>

#include "source/key.h"
#include "output/sink.h"
#include "state/state.h"

struct checkpointer {
    /* Borrowed, set by the caller. */
    const struct sink *sink;
    struct state *state;
    const char *stream;
    const char *partition;

    /* The checkpoint in flight (valid while busy). */
    int busy;
    pthread_t thread;
    struct keytuple key;
    uint64_t offset, rows, bytes;
    struct keytuple seg_first;   /* the segment it ends: its first row's key, */
    uint64_t seg_rows;           /* its rows, */
    struct sink_segment seg;     /* its bytes and their digest */
    int failed;         /* the worker's result: 0, or -1 with err set */
    int state_failed;   /* ...and whether it was the state store */
    char err[1024];
};

/* Starts committing {key (copied), offset, rows, bytes} and the segment it
 * ends (seg_rows rows from the one keyed seg_first, bytes and digest as
 * sink_last_segment() gave them; copied) after an fsync of the output;
 * bytes is what sink_cut() returned. The previous checkpoint must be
 * waited for. -1 (err set) when the worker cannot start or a key cannot be
 * copied; nothing is then in flight. */
int checkpointer_start(struct checkpointer *c, const struct keytuple *key,
                       uint64_t offset, uint64_t rows, uint64_t bytes,
                       const struct keytuple *seg_first, uint64_t seg_rows,
                       const struct sink_segment *seg);
/* Ends the checkpoint in flight, if any: 0 when it is durable and committed
 * (or none was in flight), -1 when the fsync or the commit failed (err says
 * which; state_failed tells them apart). */
int checkpointer_wait(struct checkpointer *c);
/* Waits and frees the key. */
void checkpointer_clear(struct checkpointer *c);

#endif
