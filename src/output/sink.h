/* sink.h - where the NDJSON goes: a file (written as FILE.partial, renamed
 * when the job completes) or stdout, plain, gzip or zstd.
 *
 * The core encodes rows straight into sink_buf() and calls sink_flush_if_full()
 * after each row; the sink writes in large calls. Compressed output is cut
 * into blocks of 1 MiB counted from the last cut, each an independent gzip
 * member / zstd frame compressed on worker threads while the core encodes
 * the next rows, and written in order (compressor.h). sink_checkpoint()
 * makes everything so far durable and returns the byte count a resume
 * truncates to: it ends the current block there, so the file cut at any
 * checkpoint is still one valid stream for `gzip -dc`/`zstd -dc`, and the
 * bytes after it depend only on the rows after it.
 *
 * Rows: the buffer takes rows of up to SINK_ROW_MAX bytes of JSON (it grows
 * to the largest row and shrinks back after it).
 *
 * Errors: functions return 0 or -1; the one-line message (with the path and
 * strerror) is on the handle, first error wins. */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include <stdint.h>

#include "common/buf.h"

enum sink_compress { SINK_PLAIN, SINK_GZIP, SINK_ZSTD };

/* The largest row (plus the rows before it not yet written) the buffer
 * holds. A database value is at most about 1 GB (PostgreSQL's field,
 * MySQL's packet, SQLite's default length limit), and JSON escapes
 * (\u0001) can make text 6 times longer: such a row fits. */
#if SIZE_MAX > 0xffffffffu
#define SINK_ROW_MAX ((size_t)8 << 30)
#else
#define SINK_ROW_MAX ((size_t)1 << 30)
#endif

struct sink;

/* The compression a path's suffix asks for: .gz -> gzip, .zst -> zstd. */
enum sink_compress sink_compress_for_path(const char *path);

/* The levels a compression takes: [min, max], and what level 0 means. */
int sink_level_min(enum sink_compress c);
int sink_level_max(enum sink_compress c);
int sink_level_default(enum sink_compress c);
/* Compression threads when none are asked for: the CPUs this process may
 * use. The most threads a sink takes is SINK_THREADS_MAX. */
unsigned sink_default_threads(void);
#define SINK_THREADS_MAX 256

/* Opens the output. path NULL or "-" means stdout (resume_bytes ignored).
 * For a file: creates or opens path + ".partial" and takes an exclusive
 * non-blocking lock on it (a second process writing the same file fails with
 * a message saying so). resume_bytes 0 starts the file empty; otherwise the
 * partial file must be at least that long and is truncated to it (shorter,
 * or missing, is an error: the output no longer matches the checkpoint).
 * On failure *out may hold a handle with the message: read sink_error(),
 * then sink_close(). level: compression level, 0 for the default. */
int sink_open(struct sink **out, const char *path, enum sink_compress c,
              int level, uint64_t resume_bytes);
/* The two halves of sink_open, for a caller that must hold the lock before
 * it decides where to resume: open (creating if need be) and lock, with no
 * truncation; then cut back to resume_bytes as sink_open describes. A
 * partial file this open created is removed again when resume_bytes > 0.
 * threads: compression workers, 0 for sink_default_threads() (sink_open's
 * choice); ignored for plain output. The bytes never depend on threads. */
int sink_open_locked(struct sink **out, const char *path, enum sink_compress c,
                     int level, unsigned threads);
int sink_resume(struct sink *s, uint64_t resume_bytes);
/* Drops everything written or buffered since the checkpoint that left the
 * file `bytes` long (a scan failed after it and is read again): the file is
 * cut back and the open compression frame discarded. Stdout cannot be cut:
 * only what is still buffered is dropped (at-least-once). */
int sink_rewind(struct sink *s, uint64_t bytes);
/* Nonzero when the open failed because another process holds the lock. */
int sink_busy(const struct sink *s);
/* Nonzero when a write to stdout failed because its reader went away
 * (EPIPE: `| head` read enough and exited). SIGPIPE must be ignored for
 * the write to return. The write's message is on the handle as for any
 * failure; this says it was the reader's doing, not a fault. */
int sink_reader_gone(const struct sink *s);
/* Nonzero when sink_open_locked created the partial file (it did not exist). */
int sink_created(const struct sink *s);
/* The buffer rows are encoded into. Borrowed; valid until sink_close. */
struct buf *sink_buf(struct sink *s);
/* The bytes between two cuts: a checkpoint segment of the output. */
struct sink_segment {
    uint64_t start, end;  /* byte range in the file: [start, end) */
    char digest[33];      /* XXH3-128 of those bytes, 32 lowercase hex digits */
};

/* Writes (compresses) the buffer out when it holds enough for a large write. */
int sink_flush_if_full(struct sink *s);
/* Nonzero when a cut leaves no trace in the bytes: plain output, where the
 * file is the same whether or not it was cut at a given row. Compressed
 * output ends a block at every cut, so a cut anywhere but where every run
 * cuts (the regular checkpoints) makes the file differ from an
 * uninterrupted run's: such a sink should be cut only there. */
int sink_cut_is_seamless(const struct sink *s);
/* Flush, end the compression frame, fsync (files). *bytes: bytes of the
 * partial file now durable, the resume point. sink_cut + sink_sync. */
int sink_checkpoint(struct sink *s, uint64_t *bytes);
/* The first half: flush, end the compression frame; *bytes: the resume
 * point once synced. Writing may go on before sink_sync. */
int sink_cut(struct sink *s, uint64_t *bytes);
/* The segment the last sink_cut (or sink_checkpoint) ended: the bytes
 * written since the cut, resume or rewind before it. Borrowed. */
const struct sink_segment *sink_last_segment(const struct sink *s);
/* The second half: fsync the output, so everything cut so far is durable
 * (sink_cut wrote it all before it returned).
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
