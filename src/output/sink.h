/* sink.h - where the NDJSON goes: a file (written as FILE.partial, renamed
 * when the job completes) or stdout, plain, gzip or zstd.
 *
 * The core encodes rows straight into sink_buf() and calls sink_flush_if_full()
 * after each row; the sink writes in large calls. sink_checkpoint() makes
 * everything so far durable and returns the byte count a resume truncates
 * to: compressed output ends its gzip member / zstd frame there, so the file
 * cut at any checkpoint is still one valid stream for `gzip -dc`/`zstd -dc`.
 *
 * Errors: functions return 0 or -1; the one-line message (with the path and
 * strerror) is on the handle, first error wins. */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include <stdint.h>

#include "common/buf.h"

enum sink_compress { SINK_PLAIN, SINK_GZIP, SINK_ZSTD };

struct sink;

/* The compression a path's suffix asks for: .gz -> gzip, .zst -> zstd. */
enum sink_compress sink_compress_for_path(const char *path);

/* Opens the output. path NULL or "-" means stdout (resume_bytes ignored).
 * For a file: creates or opens path + ".partial" and takes an exclusive
 * non-blocking lock on it (a second process writing the same file fails with
 * a message saying so). resume_bytes 0 starts the file empty; otherwise the
 * partial file must be at least that long and is truncated to it (shorter,
 * or missing, is an error: the output no longer matches the checkpoint).
 * On failure *out may hold a handle with the message: read sink_error(),
 * then sink_close(). level: compression level, 0 for the library default. */
int sink_open(struct sink **out, const char *path, enum sink_compress c,
              int level, uint64_t resume_bytes);
/* The two halves of sink_open, for a caller that must hold the lock before
 * it decides where to resume: open (creating if need be) and lock, with no
 * truncation; then cut back to resume_bytes as sink_open describes. A
 * partial file this open created is removed again when resume_bytes > 0. */
int sink_open_locked(struct sink **out, const char *path, enum sink_compress c,
                     int level);
int sink_resume(struct sink *s, uint64_t resume_bytes);
/* Drops everything written or buffered since the checkpoint that left the
 * file `bytes` long (a scan failed after it and is read again): the file is
 * cut back and the open compression frame discarded. Stdout cannot be cut:
 * only what is still buffered is dropped (at-least-once). */
int sink_rewind(struct sink *s, uint64_t bytes);
/* Nonzero when the open failed because another process holds the lock. */
int sink_busy(const struct sink *s);
/* Nonzero when sink_open_locked created the partial file (it did not exist). */
int sink_created(const struct sink *s);
/* The buffer rows are encoded into. Borrowed; valid until sink_close. */
struct buf *sink_buf(struct sink *s);
/* Writes (compresses) the buffer out when it holds enough for a large write. */
int sink_flush_if_full(struct sink *s);
/* Flush, end the compression frame, fsync (files). *bytes: bytes of the
 * partial file now durable, the resume point. sink_cut + sink_sync. */
int sink_checkpoint(struct sink *s, uint64_t *bytes);
/* The first half: flush, end the compression frame; *bytes: the resume
 * point once synced. Writing may go on before sink_sync. */
int sink_cut(struct sink *s, uint64_t *bytes);
/* The second half: fsync the output, so everything cut so far is durable.
 * Safe to call from another thread while this one goes on writing: it
 * reads only what never changes after open and reports failure in err,
 * not on the handle. 0 or -1. */
int sink_sync(const struct sink *s, char *err, size_t errsize);
/* After a final sink_checkpoint: renames FILE.partial to FILE and fsyncs the
 * directory. No-op for stdout. */
int sink_publish(struct sink *s);
/* Closes without publishing; the partial file stays for a resume, unless
 * this open created it and it was never resumed into. NULL ok. */
void sink_close(struct sink *s);
const char *sink_error(const struct sink *s);
/* The path being written ("FILE.partial", or "-" for stdout). */
const char *sink_partial_path(const struct sink *s);

#endif
