/* segread.h - reading one checkpoint segment of a backup back: its bytes
 * as stored (hashed) and its rows as written (decompressed, handed to a
 * callback), in bounded memory. A segment of a compressed file is a run
 * of whole gzip members or zstd frames, so it decompresses on its own. */
#ifndef SLUICE_SEGREAD_H
#define SLUICE_SEGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "verify/record.h"

/* Called with consecutive pieces of the segment's decompressed content
 * (NDJSON). Nonzero stops the read and is returned. */
typedef int segread_fn(const char *p, size_t n, void *ctx);

struct segread_result {
    uint64_t read;       /* bytes of the segment found in the file (< its size: cut short) */
    char digest[33];     /* XXH3-128 of those bytes, hex */
    int undecodable;     /* its compressed bytes do not decompress */
};

/* Reads bytes [seg->start, seg->end) of the open file fd (stopping early
 * at its end), compressed as r->compression says; the stored bytes also go
 * to raw (may be NULL), e.g. a whole-file digest. 0, a callback's nonzero
 * value, or -1 with a message in err (a read error). */
int segread(int fd, const struct record *r, const struct record_segment *seg,
            segread_fn *fn, segread_fn *raw, void *ctx, struct segread_result *res,
            char *err, size_t errlen);

#endif
