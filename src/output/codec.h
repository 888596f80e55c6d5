/* codec.h - one block of output compressed into one complete gzip member
 * (libdeflate) or zstd frame (libzstd), so that blocks concatenate into a
 * valid stream in any number and can be compressed on any thread.
 *
 * The result is a function of the block's bytes and the level only: the
 * same block compresses to the same bytes on every run and every thread
 * (gzip header: no name, no time; zstd frame: content size and checksum).
 *
 * A struct codec is one compression context, used by one thread at a time.
 * Functions return 0 or -1; the message (one line) is written to err. */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <stddef.h>

enum codec_kind { CODEC_GZIP, CODEC_ZSTD };

/* The levels --compress accepts, and the default (used for level 0).
 * gzip: libdeflate's levels (1 fastest .. 12 smallest); zstd: 1..22. */
int codec_level_min(enum codec_kind k);
int codec_level_max(enum codec_kind k);
int codec_level_default(enum codec_kind k);
const char *codec_name(enum codec_kind k);

struct codec;

/* A context for level (0: the default). *out is the caller's; free it with
 * codec_free(). -1 for a level out of range or no memory (err says which). */
int codec_new(struct codec **out, enum codec_kind k, int level, char *err, size_t errlen);
void codec_free(struct codec *c);
/* The most bytes codec_block() writes for an n-byte block. */
size_t codec_bound(const struct codec *c, size_t n);
/* Compresses in[0..n) (n may be 0: an empty member/frame) into out, which
 * holds cap >= codec_bound(c, n) bytes. *outlen: the compressed size. */
int codec_block(struct codec *c, const void *in, size_t n, void *out, size_t cap,
                size_t *outlen, char *err, size_t errlen);

#endif
