/* codec.c - a block to a gzip member (libdeflate) or a zstd frame (libzstd).
 *
 * gzip goes through libdeflate rather than zlib: on the benchmark's NDJSON
 * it compresses a 1 MiB block about twice as fast as zlib's deflate at the
 * same level, and smaller (libdeflate compresses whole buffers only, which
 * is exactly what a block is). */
#include "output/codec.h"

#include <stdio.h>
#include <stdlib.h>

#include <libdeflate.h>
#include <zstd.h>

#define GZIP_LEVEL_MAX 12
#define ZSTD_LEVEL_MAX 22
/* Defaults: within a few percent of `gzip -6` / `zstd -3` of the whole
 * NDJSON, at a fraction of their CPU. Measured on 1 MiB blocks of the
 * benchmark table and of 80 MB of man pages as JSON lines: libdeflate 4 is
 * +0.5% / +3.7% against gzip -6, at about 3x zlib -6's speed; zstd 1 is
 * -5% / +2.9% against zstd -3 of the whole file, and needs less than half
 * the CPU of zstd 3 for blocks within 1% of its size. */
#define GZIP_LEVEL_DEFAULT 4
#define ZSTD_LEVEL_DEFAULT 1

struct codec {
    enum codec_kind kind;
    int level;
    struct libdeflate_compressor *gz;
    ZSTD_CCtx *zc;
};

int codec_level_min(enum codec_kind k)
{
    (void)k;
    return 1;
}

int codec_level_max(enum codec_kind k)
{
    return k == CODEC_GZIP ? GZIP_LEVEL_MAX : ZSTD_LEVEL_MAX;
}

int codec_level_default(enum codec_kind k)
{
    return k == CODEC_GZIP ? GZIP_LEVEL_DEFAULT : ZSTD_LEVEL_DEFAULT;
}

const char *codec_name(enum codec_kind k)
{
    return k == CODEC_GZIP ? "gzip" : "zstd";
}

int codec_new(struct codec **out, enum codec_kind k, int level, char *err, size_t errlen)
{
    *out = NULL;
    if (level == 0)
        level = codec_level_default(k);
    if (level < codec_level_min(k) || level > codec_level_max(k)) {
        snprintf(err, errlen, "%s level must be %d-%d, got %d", codec_name(k),
                 codec_level_min(k), codec_level_max(k), level);
        return -1;
    }
    struct codec *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->kind = k;
    c->level = level;
    if (k == CODEC_GZIP) {
        if (!(c->gz = libdeflate_alloc_compressor(level)))
            goto oom;
    } else {
        if (!(c->zc = ZSTD_createCCtx()))
            goto oom;
        size_t r = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level);
        if (!ZSTD_isError(r))
            r = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
        if (ZSTD_isError(r)) {
            snprintf(err, errlen, "cannot set up zstd: %s", ZSTD_getErrorName(r));
            codec_free(c);
            return -1;
        }
    }
    *out = c;
    return 0;
oom:
    snprintf(err, errlen, "cannot set up %s compression: out of memory", codec_name(k));
    codec_free(c);
    return -1;
}

void codec_free(struct codec *c)
{
    if (!c)
        return;
    if (c->gz)
        libdeflate_free_compressor(c->gz);
    ZSTD_freeCCtx(c->zc);
    free(c);
}

size_t codec_bound(const struct codec *c, size_t n)
{
    if (c->kind == CODEC_GZIP)
        return libdeflate_gzip_compress_bound(c->gz, n);
    return ZSTD_compressBound(n);
}

int codec_block(struct codec *c, const void *in, size_t n, void *out, size_t cap,
                size_t *outlen, char *err, size_t errlen)
{
    if (c->kind == CODEC_GZIP) {
        /* 0 only when out is too small, which the bound rules out. */
        *outlen = libdeflate_gzip_compress(c->gz, in, n, out, cap);
        if (*outlen == 0) {
            snprintf(err, errlen, "gzip compression failed: output buffer too small");
            return -1;
        }
        return 0;
    }
    /* ZSTD_compress2 starts a new frame, records n in its header and sizes
     * its tables to n: the frame depends on the block alone. */
    size_t r = ZSTD_compress2(c->zc, out, cap, in, n);
    if (ZSTD_isError(r)) {
        snprintf(err, errlen, "zstd compression failed: %s", ZSTD_getErrorName(r));
        return -1;
    }
    *outlen = r;
    return 0;
}
