/* sidecar.h - FILE.meta.json, the record beside a published output that
 * says what the file holds (README, "Sidecar"). The job builds the JSON
 * (job/meta.h); this module computes the file's digest, writes the
 * sidecar atomically, and reads back the fields retention needs.
 *
 * A sidecar is one JSON object. Its "version" says the format: a reader
 * refuses a version it does not know and ignores keys it does not know, so
 * later versions may add keys (per-checkpoint segment digests) freely.
 *
 * Errors: functions return 0 or -1 with a one-line message (path and
 * strerror) in err. */
#ifndef SLUICE_SIDECAR_H
#define SLUICE_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

#define SIDECAR_SUFFIX ".meta.json"
#define SIDECAR_VERSION 1
#define SIDECAR_DIGEST "sha256" /* the algorithm of "digest" */

/* data_path + SIDECAR_SUFFIX into out. 0, or -1 when it does not fit. */
int sidecar_path(const char *data_path, char *out, size_t n);

/* SHA-256 of the whole file at path, as 64 lowercase hex digits and a NUL
 * in hex[65]; *size: the bytes read. */
int sidecar_digest_file(const char *path, char hex[65], uint64_t *size, char *err,
                        size_t errlen);

/* Writes json (len bytes, one JSON object) as data_path's sidecar: into a
 * temporary file beside it, fsync, rename over the sidecar, fsync of the
 * directory. A reader sees the old sidecar, no sidecar, or the whole new
 * one, never a part. */
int sidecar_write(const char *data_path, const char *json, size_t len, char *err,
                  size_t errlen);

/* Removes data_path's sidecar; a missing one is not an error. */
int sidecar_remove(const char *data_path, char *err, size_t errlen);

/* The fields retention and status read back. Owns its strings. */
struct sidecar_info {
    char *stream;     /* the stream that wrote the file */
    char *file;       /* the data file's name, relative to the sidecar */
    char *started_at; /* the job's start, ISO 8601 UTC; may be NULL */
    long long rows;   /* rows in the file; -1 when not recorded */
};

/* Reads the sidecar at sidecar_path (the sidecar's own path). 1: it is a
 * sidecar of a version this sluice knows, with "stream" and "file"
 * strings; 0: absent, unreadable as JSON, another version or another kind
 * of file (*why says which, when why is not NULL); -1: out of memory. */
int sidecar_read(const char *sidecar_path, struct sidecar_info *out, char *why,
                 size_t whylen);
void sidecar_info_free(struct sidecar_info *info);

#endif
