/* sink.c - the NDJSON output: FILE.partial (locked, truncated to the resume
 * point, renamed on publish) or stdout; plain, or gzip members / zstd frames
 * compressed in parallel blocks (compressor.h).
 *
 * Rows accumulate in s->buf and are written (or handed to the compressor)
 * in large chunks. Every checkpoint ends the compressed block, so the file
 * cut at any checkpoint is a complete stream and a resumed run simply
 * appends new members/frames after it. */
#include "output/sink.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <xxhash.h>

#include "output/compressor.h"
#include "output/durable.h"

#define SINK_FLUSH_AT COMPRESSOR_BLOCK /* write once the buffer holds this */
/* After a row that grew the buffer past this, its storage is given back. */
#define SINK_BUF_KEEP ((size_t)4 << 20)
#define SINK_PARTIAL_SUFFIX ".partial"

struct sink {
    struct buf buf;          /* rows not yet written/compressed */
    int fd;
    int is_stdout;
    char *path;              /* final path; NULL for stdout */
    char *partial;           /* path + ".partial"; NULL for stdout */
    enum sink_compress comp;
    struct compressor *cz;   /* compressed output only */
    int dir_synced;          /* the partial file's directory entry is durable */
    int created;             /* this open created the partial file */
    int resumed;             /* sink_resume succeeded: the file is in use */
    int published;
    int busy;                /* another process holds the lock */
    int reader_gone;         /* stdout's reader closed it (EPIPE) */
    uint64_t bytes;          /* bytes written to the file (from its start) */
    XXH3_state_t *seg_hash;  /* digest of the bytes written since the last cut */
    uint64_t seg_start;      /* where those bytes begin */
    struct sink_segment last_seg; /* what the last cut ended */
    char err[1024];
};

/* A new segment begins at s->bytes (a cut, a resume, a rewind). */
static void segment_begin(struct sink *s)
{
    XXH3_128bits_reset(s->seg_hash);
    s->seg_start = s->bytes;
}

static void sink_fail(struct sink *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first error only. */
static void sink_fail(struct sink *s, const char *fmt, ...)
{
    if (s->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    if (!s->err[0])
        snprintf(s->err, sizeof s->err, "output error");
}

static const char *sink_name(const struct sink *s)
{
    return s->is_stdout ? "stdout" : s->partial;
}

enum sink_compress sink_compress_for_path(const char *path)
{
    if (!path)
        return SINK_PLAIN;
    size_t n = strlen(path);
    if (n > 3 && strcasecmp(path + n - 3, ".gz") == 0)
        return SINK_GZIP;
    if (n > 4 && strcasecmp(path + n - 4, ".zst") == 0)
        return SINK_ZSTD;
    return SINK_PLAIN;
}

static enum codec_kind codec_of(enum sink_compress c)
{
    assert(c != SINK_PLAIN);
    return c == SINK_GZIP ? CODEC_GZIP : CODEC_ZSTD;
}

int sink_level_min(enum sink_compress c)
{
    return c == SINK_PLAIN ? 0 : codec_level_min(codec_of(c));
}

int sink_level_max(enum sink_compress c)
{
    return c == SINK_PLAIN ? 0 : codec_level_max(codec_of(c));
}

int sink_level_default(enum sink_compress c)
{
    return c == SINK_PLAIN ? 0 : codec_level_default(codec_of(c));
}

unsigned sink_default_threads(void)
{
    return compressor_cpus();
}

/* write(2) until done: partial writes and EINTR are retried. */
static int sink_write_all(struct sink *s, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(s->fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE && s->is_stdout)
                s->reader_gone = 1;
            sink_fail(s, "cannot write %s: %s", sink_name(s), strerror(errno));
            return -1;
        }
        if (w == 0) {
            sink_fail(s, "cannot write %s: write returned 0", sink_name(s));
            return -1;
        }
        XXH3_128bits_update(s->seg_hash, c, (size_t)w);
        c += w;
        n -= (size_t)w;
        s->bytes += (uint64_t)w;
    }
    return 0;
}

/* The compressor's writer: compressed blocks, in order. */
static int sink_write_block(const void *p, size_t n, void *ctx)
{
    return sink_write_all(ctx, p, n);
}

/* After a compressor call failed: its message, unless the write already
 * left one. */
static int sink_compressor_failed(struct sink *s)
{
    sink_fail(s, "cannot compress %s: %s", sink_name(s), compressor_error(s->cz));
    return -1;
}

/* A buffer grown by a very large row is given back once it is drained, so
 * memory follows the largest row only while that row is in flight. */
static void sink_shrink(struct sink *s)
{
    struct buf *b = &s->buf;
    if (b->cap <= SINK_BUF_KEEP || b->len > SINK_FLUSH_AT)
        return;
    size_t cap = SINK_FLUSH_AT + SINK_FLUSH_AT / 4;
    char *p = realloc(b->data, cap);
    if (p) {
        b->data = p;
        b->cap = cap;
    }
}

/* Moves s->buf to the file (plain) or every whole block of it to the
 * compressor. */
static int sink_drain(struct sink *s)
{
    if (s->err[0])
        return -1;
    if (s->buf.oom) {
        sink_fail(s, "output buffer for %s exceeded its %zu-byte limit "
                  "(a row is too large, or out of memory)", sink_name(s), s->buf.max);
        return -1;
    }
    int rc = 0;
    if (s->comp == SINK_PLAIN) {
        if (s->buf.len)
            rc = sink_write_all(s, s->buf.data, s->buf.len);
        buf_reset(&s->buf);
    } else if (compressor_feed(s->cz, &s->buf) < 0) {
        rc = sink_compressor_failed(s);
    }
    sink_shrink(s);
    return rc;
}

/* fsyncs the directory holding `path`, so a create or rename is durable. */
static int sink_sync_dir(struct sink *s, const char *path)
{
    char why[4300];
    if (durable_sync_dir(path, why, sizeof why) < 0) {
        sink_fail(s, "%s", why);
        return -1;
    }
    return 0;
}

static int sink_init_compress(struct sink *s, int level, unsigned threads)
{
    if (s->comp == SINK_PLAIN)
        return 0;
    char err[512];
    if (compressor_new(&s->cz, codec_of(s->comp), level,
                       threads ? threads : sink_default_threads(), sink_write_block, s, err,
                       sizeof err) < 0) {
        sink_fail(s, "%s", err);
        return -1;
    }
    return 0;
}

/* Opens (creating if need be) and locks the partial file; no truncation. */
static int sink_open_file(struct sink *s)
{
    struct stat out;
    size_t plen = strlen(s->path);
    if ((stat(s->path, &out) == 0 && !S_ISREG(out.st_mode)) || (plen && s->path[plen - 1] == '/')) {
        sink_fail(s, "cannot write %s: it is a directory or another non-regular file", s->path);
        return -1;
    }
    s->fd = open(s->partial, O_WRONLY | O_CLOEXEC);
    if (s->fd < 0 && errno == ENOENT) {
        s->fd = open(s->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        s->created = s->fd >= 0;
    }
    if (s->fd < 0) {
        int e = errno;
        sink_fail(s, "cannot create %s: %s%s", s->partial, strerror(e),
                  e == ENOENT ? " (does its directory exist?)" : "");
        return -1;
    }
    /* The lock is taken before anything is read or truncated, so a second
     * process never touches the file the first one writes. */
    while (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK) {
            s->busy = 1;
            sink_fail(s, "another sluice process is writing %s", s->path);
        } else {
            sink_fail(s, "cannot lock %s: %s", s->partial, strerror(errno));
        }
        return -1;
    }
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        sink_fail(s, "cannot stat %s: %s", s->partial, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sink_fail(s, "%s is not a regular file", s->partial);
        return -1;
    }
    return 0;
}

/* Cuts the partial file to bytes and writes on from there. */
static int cut_to(struct sink *s, uint64_t bytes)
{
    if (ftruncate(s->fd, (off_t)bytes) < 0) {
        sink_fail(s, "cannot truncate %s: %s", s->partial, strerror(errno));
        return -1;
    }
    if (lseek(s->fd, (off_t)bytes, SEEK_SET) < 0) {
        sink_fail(s, "cannot seek in %s: %s", s->partial, strerror(errno));
        return -1;
    }
    s->bytes = bytes;
    segment_begin(s);
    return 0;
}

int sink_resume(struct sink *s, uint64_t resume_bytes)
{
    if (s->err[0])
        return -1;
    if (s->is_stdout)
        return 0;
    if (resume_bytes > 0 && s->created) {
        /* The checkpoint's bytes are gone: resuming would leave a hole. */
        unlink(s->partial);
        sink_fail(s, "cannot resume: %s is missing; use --restart", s->partial);
        return -1;
    }
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        sink_fail(s, "cannot stat %s: %s", s->partial, strerror(errno));
        return -1;
    }
    if ((uint64_t)st.st_size < resume_bytes) {
        sink_fail(s, "cannot resume: %s is shorter than its checkpoint "
                  "(%llu < %llu bytes); use --restart", s->partial,
                  (unsigned long long)st.st_size,
                  (unsigned long long)resume_bytes);
        return -1;
    }
    if (cut_to(s, resume_bytes) < 0)
        return -1;
    s->resumed = 1;
    /* A resumed file's entry was made durable by an earlier checkpoint. */
    s->dir_synced = resume_bytes > 0;
    return 0;
}

int sink_rewind(struct sink *s, uint64_t bytes)
{
    if (s->err[0])
        return -1;
    buf_reset(&s->buf);
    /* The blocks begun after the checkpoint are dropped unwritten. */
    if (s->cz)
        compressor_discard(s->cz);
    if (s->is_stdout)
        return 0;
    return cut_to(s, bytes);
}

int sink_open_locked(struct sink **out, const char *path, enum sink_compress c,
                     int level, unsigned threads)
{
    *out = NULL;
    struct sink *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    *out = s;
    s->fd = -1;
    s->comp = c;
    buf_init(&s->buf, SINK_ROW_MAX);
    if (!(s->seg_hash = XXH3_createState())) {
        sink_fail(s, "out of memory");
        return -1;
    }
    segment_begin(s);

    if (!path || strcmp(path, "-") == 0) {
        /* stdout: nothing to lock, truncate or rename. */
        s->is_stdout = 1;
        s->fd = STDOUT_FILENO;
        s->dir_synced = 1;
        return sink_init_compress(s, level, threads);
    }
    size_t n = strlen(path);
    s->path = strdup(path);
    s->partial = malloc(n + sizeof SINK_PARTIAL_SUFFIX);
    if (!s->path || !s->partial) {
        sink_fail(s, "out of memory");
        return -1;
    }
    memcpy(s->partial, path, n);
    memcpy(s->partial + n, SINK_PARTIAL_SUFFIX, sizeof SINK_PARTIAL_SUFFIX);
    if (sink_init_compress(s, level, threads) < 0)
        return -1;
    return sink_open_file(s);
}

int sink_open(struct sink **out, const char *path, enum sink_compress c,
              int level, uint64_t resume_bytes)
{
    if (sink_open_locked(out, path, c, level, 0) < 0)
        return -1;
    return sink_resume(*out, resume_bytes);
}

int sink_busy(const struct sink *s)
{
    return s && s->busy;
}

int sink_reader_gone(const struct sink *s)
{
    return s && s->reader_gone;
}

int sink_created(const struct sink *s)
{
    return s && s->created;
}

struct buf *sink_buf(struct sink *s)
{
    return &s->buf;
}

int sink_flush_if_full(struct sink *s)
{
    if (s->err[0])
        return -1;
    if (s->buf.oom || s->buf.len >= SINK_FLUSH_AT)
        return sink_drain(s);
    return 0;
}

int sink_cut_is_seamless(const struct sink *s)
{
    return s->comp == SINK_PLAIN;
}

int sink_cut(struct sink *s, uint64_t *bytes)
{
    if (sink_drain(s) < 0)
        return -1;
    /* An empty file gets one empty member/frame: a valid stream. */
    if (s->cz && compressor_cut(s->cz, &s->buf, s->bytes == 0) < 0)
        return sink_compressor_failed(s);
    if (!s->dir_synced) {
        /* Once: the partial file's directory entry, before any state
         * points into the file. */
        if (sink_sync_dir(s, s->partial) < 0)
            return -1;
        s->dir_synced = 1;
    }
    if (bytes)
        *bytes = s->bytes;
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s->seg_hash));
    s->last_seg.start = s->seg_start;
    s->last_seg.end = s->bytes;
    for (size_t i = 0; i < sizeof c.digest; i++)
        snprintf(s->last_seg.digest + 2 * i, 3, "%02x", c.digest[i]);
    segment_begin(s);
    return 0;
}

const struct sink_segment *sink_last_segment(const struct sink *s)
{
    return &s->last_seg;
}

int sink_sync(const struct sink *s, char *err, size_t errsize)
{
    if (fsync(s->fd) == 0)
        return 0;
    int e = errno;
    /* Pipes and terminals cannot be synced; that is not an error. */
    if (s->is_stdout && (e == EINVAL || e == ENOTSUP || e == EROFS || e == EOPNOTSUPP))
        return 0;
    snprintf(err, errsize, "cannot fsync %s: %s", sink_name(s), strerror(e));
    return -1;
}

int sink_checkpoint(struct sink *s, uint64_t *bytes)
{
    if (sink_cut(s, bytes) < 0)
        return -1;
    char err[sizeof s->err];
    if (sink_sync(s, err, sizeof err) < 0) {
        sink_fail(s, "%s", err);
        return -1;
    }
    return 0;
}

/* rename(2) replaces an existing FILE atomically: re-running a finished
 * extraction overwrites its earlier output, as `cp` or `pg_dump -f` would. */
int sink_publish(struct sink *s)
{
    if (s->err[0])
        return -1;
    if (s->is_stdout)
        return 0;
    /* Programming error: publish only what a checkpoint made durable. */
    assert(s->buf.len == 0 && !(s->cz && compressor_open_block(s->cz)));
    if (rename(s->partial, s->path) < 0) {
        sink_fail(s, "cannot rename %s to %s: %s", s->partial, s->path,
                  strerror(errno));
        return -1;
    }
    s->published = 1;
    return sink_sync_dir(s, s->path);
}

void sink_close(struct sink *s)
{
    if (!s)
        return;
    /* A partial file this open created and never resumed into (the run
     * stopped before it began) is litter: remove it while still locked. */
    if (s->fd >= 0 && !s->is_stdout && s->created && !s->resumed && !s->published)
        unlink(s->partial);
    if (s->fd >= 0 && !s->is_stdout)
        close(s->fd); /* also releases the flock */
    compressor_free(s->cz);
    XXH3_freeState(s->seg_hash);
    buf_free(&s->buf);
    free(s->path);
    free(s->partial);
    free(s);
}

const char *sink_error(const struct sink *s)
{
    return s->err;
}

const char *sink_partial_path(const struct sink *s)
{
    return s->is_stdout ? "-" : s->partial;
}
