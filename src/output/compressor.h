/* compressor.h - an output stream compressed in parallel blocks and written
 * strictly in order, after pigz (Mark Adler's pigz.c).
 *
 * The caller (one thread: the pump's) hands over bytes; they are cut into
 * blocks of exactly COMPRESSOR_BLOCK bytes counted from the last cut, and
 * each block becomes one independent gzip member / zstd frame (codec.h),
 * compressed by a pool of worker threads while the caller goes on. The
 * compressed blocks are written through the caller's write function, on
 * the caller's thread, in the order of their bytes. A cut ends the current
 * block early and waits until everything before it is written.
 *
 * So the bytes written are a function of the input bytes, the cuts, the
 * codec and the level - never of the thread count or of timing - and every
 * cut is a point where the output is a complete stream.
 *
 * Memory: at most threads + 2 blocks in flight, each with its compressed
 * copy, and one codec context per worker. Workers start with the first
 * block and block every signal (signals reach the caller's thread).
 *
 * Errors: -1 with a one-line message on the handle (first error wins), or
 * whatever the write function reported (it keeps its own message). After
 * an error every call fails; discard and free still work. */
#ifndef SLUICE_COMPRESSOR_H
#define SLUICE_COMPRESSOR_H

#include <stddef.h>

#include "common/buf.h"
#include "output/codec.h"

#define COMPRESSOR_BLOCK ((size_t)1 << 20)
#define COMPRESSOR_THREADS_MAX 256

/* Writes n bytes of compressed output; 0, or -1 with the caller's own
 * message kept by the caller. */
typedef int compressor_write_fn(const void *p, size_t n, void *ctx);

struct compressor;

/* threads: worker threads, 1..COMPRESSOR_THREADS_MAX. level 0: the codec's
 * default. On failure *out is NULL and err holds the message. */
int compressor_new(struct compressor **out, enum codec_kind kind, int level, unsigned threads,
                   compressor_write_fn *write, void *ctx, char *err, size_t errlen);
/* Takes every whole block from the front of b and leaves the rest (less
 * than a block) in b. May wait for a worker when all blocks are in flight;
 * writes every compressed block that is next in order. */
int compressor_feed(struct compressor *c, struct buf *b);
/* Ends the current block with all of b (b is left empty) and waits until
 * every block is compressed and written. With nothing fed since the last
 * cut, nothing is written, unless `empty` asks for an empty member/frame
 * (so that an empty output is still a valid stream). */
int compressor_cut(struct compressor *c, struct buf *b, int empty);
/* Nonzero when bytes were fed since the last cut (or discard). */
int compressor_open_block(const struct compressor *c);
/* Drops every block not yet written (queued or being compressed) and what
 * was fed since; waits for the workers to let go of them. */
void compressor_discard(struct compressor *c);
/* The CPUs this process may run on (its affinity mask), at least 1 and at
 * most COMPRESSOR_THREADS_MAX: the default number of threads. */
unsigned compressor_cpus(void);
const char *compressor_error(const struct compressor *c);
/* Stops the workers (unwritten blocks are dropped). NULL ok. */
void compressor_free(struct compressor *c);

#endif
