/* segread.c - one segment read back (segread.h). */
#include "verify/segread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK ((size_t)1 << 20)

struct decoder {
    int kind; /* 0 none, 1 gzip, 2 zstd */
    z_stream z;
    int z_live;
    ZSTD_DStream *zd;
    size_t zlast;       /* the last ZSTD_decompressStream's result: 0 at a frame's end */
    unsigned char *out;
    int bad;
};

static int decoder_init(struct decoder *d, const char *compression)
{
    memset(d, 0, sizeof *d);
    d->kind = strcmp(compression, "gzip") == 0 ? 1 : strcmp(compression, "zstd") == 0 ? 2 : 0;
    if (d->kind == 0)
        return 0;
    d->out = malloc(CHUNK);
    if (!d->out)
        return -1;
    if (d->kind == 1) {
        if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
            return -1;
        d->z_live = 1;
        return 0;
    }
    d->zd = ZSTD_createDStream();
    return d->zd && !ZSTD_isError(ZSTD_initDStream(d->zd)) ? 0 : -1;
}

static void decoder_free(struct decoder *d)
{
    if (d->z_live)
        inflateEnd(&d->z);
    ZSTD_freeDStream(d->zd);
    free(d->out);
}

/* Feeds n stored bytes; decompressed pieces go to fn. */
static int decode(struct decoder *d, const unsigned char *p, size_t n, segread_fn *fn, void *ctx)
{
    if (d->bad)
        return 0;
    if (d->kind == 0)
        return fn((const char *)p, n, ctx);
    if (d->kind == 1) {
        d->z.next_in = (unsigned char *)p;
        d->z.avail_in = (uInt)n;
        /* Until the input is used and no output is left waiting. */
        do {
            d->z.next_out = d->out;
            d->z.avail_out = (uInt)CHUNK;
            int zr = inflate(&d->z, Z_NO_FLUSH);
            size_t got = CHUNK - d->z.avail_out;
            int rc = got ? fn((const char *)d->out, got, ctx) : 0;
            if (rc)
                return rc;
            if (zr == Z_STREAM_END) {
                inflateReset(&d->z); /* the next member follows */
            } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
                d->bad = 1;
                return 0;
            } else if (zr == Z_BUF_ERROR && got == 0) {
                break;
            }
        } while (d->z.avail_in > 0 || d->z.avail_out == 0);
        return 0;
    }
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_outBuffer out;
    do {
        out = (ZSTD_outBuffer){d->out, CHUNK, 0};
        size_t zr = ZSTD_decompressStream(d->zd, &out, &in);
        if (ZSTD_isError(zr)) {
            d->bad = 1;
            return 0;
        }
        d->zlast = zr;
        int rc = out.pos ? fn((const char *)d->out, out.pos, ctx) : 0;
        if (rc)
            return rc;
    } while (in.pos < in.size || out.pos == out.size);
    return 0;
}

int segread(int fd, const struct record *r, const struct record_segment *seg,
            segread_fn *fn, segread_fn *raw, void *ctx, struct segread_result *res,
            char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct decoder d;
    unsigned char *buf = malloc(CHUNK);
    XXH3_state_t *h = XXH3_createState();
    int rc = 0;
    if (!buf || !h || decoder_init(&d, r->compression) < 0) {
        snprintf(err, errlen, "out of memory");
        free(buf);
        XXH3_freeState(h);
        if (buf && h)
            decoder_free(&d);
        return -1;
    }
    XXH3_128bits_reset(h);
    uint64_t at = seg->start;
    while (at < seg->end) {
        size_t want = seg->end - at < CHUNK ? (size_t)(seg->end - at) : CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", r->data_path, strerror(errno));
            rc = -1;
            break;
        }
        if (got == 0)
            break; /* the file ends inside the segment */
        XXH3_128bits_update(h, buf, (size_t)got);
        at += (uint64_t)got;
        if ((raw && (rc = raw((const char *)buf, (size_t)got, ctx)) != 0) ||
            (rc = decode(&d, buf, (size_t)got, fn, ctx)) != 0)
            break;
    }
    res->read = at - seg->start;
    /* A gzip member or zstd frame left open at the segment's end is a
     * damaged segment too. */
    if (rc == 0 && at == seg->end && d.kind == 2 && !d.bad && at > seg->start)
        d.bad = d.zlast != 0;
    if (rc == 0 && at == seg->end && d.kind == 1 && !d.bad && d.z.total_in != 0)
        d.bad = 1; /* the last member did not end */
    res->undecodable = d.bad;
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
    for (size_t i = 0; i < sizeof c.digest; i++)
        snprintf(res->digest + 2 * i, 3, "%02x", c.digest[i]);
    decoder_free(&d);
    XXH3_freeState(h);
    free(buf);
    return rc;
}
