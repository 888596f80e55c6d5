/* record.h - a backup's sidecar (FILE.meta.json) as verify reads it: what
 * the file holds, segment by segment, and how it was extracted.
 *
 * The sidecar names its data file relative to itself, so a file moved or
 * copied together with its sidecar verifies the same anywhere. */
#ifndef SLUICE_VERIFY_RECORD_H
#define SLUICE_VERIFY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "source/key.h"
#include "source/source.h"

/* Why a record cannot be read: each has its own exit code (verify.h). */
enum record_status {
    RECORD_OK,
    RECORD_NO_SIDECAR,    /* the file has no sidecar beside it */
    RECORD_OTHER_FILE,    /* the sidecar describes another file */
    RECORD_NEWER,         /* a sidecar version this sluice does not know */
    RECORD_INVALID,       /* not a sluice sidecar, or one without segments */
    RECORD_NO_FILE,       /* the data file cannot be opened */
    RECORD_NOMEM,
};

/* One checkpoint segment: the bytes [start, end) of the file hold `rows`
 * rows, whose keys run from `first` to `last` (last n 0: to the end of
 * the job's range). */
struct record_segment {
    uint64_t rows, start, end;
    char digest[33]; /* XXH3-128, hex */
    struct keytuple first, last;
};

struct record_column {
    char *name, *type, *json_type;
};

/* Owns everything; free with record_free(). */
struct record {
    char *data_path;    /* the data file (beside the sidecar) */
    char *sidecar_path;
    char *state_path;   /* the state store of the job that wrote it; may be NULL */
    char *stream, *source, *table, *mode, *where, *compression, *partition;
    struct strlist key;
    size_t ncursor;
    struct record_column *cols;
    size_t ncols;
    int has_bounds;     /* incremental: the job's range */
    struct keytuple lower, upper;
    int lower_inclusive;
    uint64_t rows, bytes;
    char sha256[65];
    struct record_segment *segs;
    size_t nsegs;
};

/* Reads the sidecar of `path` (a data file, or a sidecar itself) into *r.
 * RECORD_OK, or a status with a one-line message in err. */
enum record_status record_load(const char *path, struct record *r, char *err, size_t errlen);
void record_free(struct record *r);

#endif
