/* test_sink.c - the output sink: exact bytes, atomic publish, resume by
 * truncation (plain, gzip, zstd), locking, write failures, and the parallel
 * block pipeline of compressed output (deterministic blocks whatever the
 * threads, rewind and close with blocks in flight, rows of 70 MiB). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "output/sink.h"

struct fix {
    char dir[64];
    char path[128];    /* final output path */
    char partial[160]; /* path + ".partial" */
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/test_sink.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void set_name(struct fix *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    snprintf(f->partial, sizeof f->partial, "%s.partial", f->path);
}

/* Reads a whole file; NULL if it does not exist. Caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    size_t r;
    while ((r = fread(p + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap);
            assert_non_null(p);
        }
    }
    fclose(fp);
    *len = n;
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* n bytes of NDJSON-like text, different for each seed, not very
 * compressible so that large amounts really reach the file. */
static char *make_text(size_t n, unsigned seed)
{
    char *p = malloc(n);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (i % 80 == 79) ? '\n' : (char)('a' + x % 26);
    }
    return p;
}

/* Appends like the core does: row into the buffer, then flush_if_full. */
static void put(struct sink *s, const char *p, size_t n)
{
    const size_t row = 4096;
    for (size_t off = 0; off < n; off += row) {
        size_t k = n - off < row ? n - off : row;
        assert_int_equal(buf_append(sink_buf(s), p + off, k), 0);
        assert_int_equal(sink_flush_if_full(s), 0);
    }
}

/* Decompresses concatenated gzip members. */
static char *gunzip_all(const char *in, size_t inlen, size_t *outlen,
                        int *members)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = inlen * 8 + 1024, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    *members = 0;
    int rc = Z_OK;
    while (z.avail_in > 0) {
        if (cap - n < 65536) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        z.next_out = (Bytef *)out + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_STREAM_END) {
            (*members)++;
            assert_int_equal(inflateReset(&z), Z_OK);
            rc = Z_OK;
            continue;
        }
        assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
        if (rc == Z_BUF_ERROR && z.avail_out > 0)
            fail_msg("truncated gzip member");
    }
    /* The input must end exactly at a member boundary. */
    assert_int_equal(z.total_in, 0);
    inflateEnd(&z);
    *outlen = n;
    return out;
}

/* Decompresses concatenated zstd frames; fails on a truncated frame. */
static char *unzstd_all(const char *in, size_t inlen, size_t *outlen,
                        int *frames)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    assert_non_null(d);
    size_t cap = inlen * 8 + 1024, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    ZSTD_inBuffer ib = { in, inlen, 0 };
    size_t last = 0;
    *frames = 0;
    while (ib.pos < ib.size) {
        if (cap - n < 65536) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        ZSTD_outBuffer ob = { out, cap, n };
        last = ZSTD_decompressStream(d, &ob, &ib);
        assert_false(ZSTD_isError(last));
        n = ob.pos;
        if (last == 0)
            (*frames)++;
    }
    assert_int_equal(last, 0); /* the last frame is complete */
    ZSTD_freeDCtx(d);
    *outlen = n;
    return out;
}

static int have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Runs `tool -dc path` and returns its output. */
static char *tool_decompress(struct fix *f, const char *tool, size_t *len)
{
    char out[200], cmd[512];
    snprintf(out, sizeof out, "%s/tool.out", f->dir);
    snprintf(cmd, sizeof cmd, "%s -dc '%s' > '%s'", tool, f->path, out);
    assert_int_equal(system(cmd), 0);
    char *p = slurp(out, len);
    assert_non_null(p);
    unlink(out);
    return p;
}

/* Members/frames of n bytes written between two checkpoints: one per
 * started MiB. */
static int blocks_of(size_t n)
{
    return (int)((n + (1u << 20) - 1) >> 20);
}

static void assert_bytes(const char *got, size_t glen, const char *a,
                         size_t alen, const char *c, size_t clen)
{
    assert_int_equal(glen, alen + clen);
    assert_memory_equal(got, a, alen);
    assert_memory_equal(got + alen, c, clen);
}

static void test_compress_for_path(void **state)
{
    (void)state;
    assert_int_equal(sink_compress_for_path("a/out.ndjson"), SINK_PLAIN);
    assert_int_equal(sink_compress_for_path("out.ndjson.gz"), SINK_GZIP);
    assert_int_equal(sink_compress_for_path("out.ndjson.zst"), SINK_ZSTD);
    assert_int_equal(sink_compress_for_path("out.gzip"), SINK_PLAIN);
    assert_int_equal(sink_compress_for_path("-"), SINK_PLAIN);
    assert_int_equal(sink_compress_for_path(NULL), SINK_PLAIN);
}

static void test_plain_publish(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson");
    const size_t n = 3u << 20; /* several large writes */
    char *text = make_text(n, 1);

    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 0), 0);
    assert_string_equal(sink_partial_path(s), f->partial);
    assert_true(exists(f->partial));
    put(s, text, n);
    uint64_t bytes = 0;
    assert_int_equal(sink_checkpoint(s, &bytes), 0);
    assert_int_equal(bytes, n);
    assert_int_equal(file_size(f->partial), n);
    assert_false(exists(f->path)); /* not visible before publish */
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);

    assert_false(exists(f->partial));
    size_t len;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    assert_bytes(got, len, text, n, "", 0);
    free(got);
    free(text);
}

/* Publishing over an existing output replaces it. */
static void test_publish_replaces(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson");
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("old contents that are longer than the new ones\n", fp);
    fclose(fp);

    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 0), 0);
    put(s, "{\"id\":1}\n", 9);
    uint64_t bytes;
    assert_int_equal(sink_checkpoint(s, &bytes), 0);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    size_t len;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    assert_bytes(got, len, "{\"id\":1}\n", 9, "", 0);
    free(got);
}

/* A, checkpoint, B (reaches the file), crash, resume at the checkpoint, C,
 * publish: the file must hold A then C, in the given compression. Returns
 * the file's contents; A and C in *a / *c. */
static char *resume_cycle(struct fix *f, const char *name,
                          enum sink_compress comp, size_t *len,
                          char **a, size_t *alen, char **c, size_t *clen)
{
    set_name(f, name);
    *alen = 1500000;
    *clen = 700000;
    const size_t blen = 2500000;
    *a = make_text(*alen, 11);
    char *b = make_text(blen, 12);
    *c = make_text(*clen, 13);

    struct sink *s;
    uint64_t n = 0, n2 = 0;
    assert_int_equal(sink_open(&s, f->path, comp, 0, 0), 0);
    put(s, *a, *alen);
    assert_int_equal(sink_checkpoint(s, &n), 0);
    assert_true(n > 0);
    assert_int_equal(file_size(f->partial), n);
    put(s, b, blen);
    sink_close(s); /* crash: B never checkpointed */
    /* Whatever of B reached the file before the crash (compressed blocks
     * are written when their worker is done), and more: */
    FILE *fp = fopen(f->partial, "ab");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, 1000, fp), 1000);
    fclose(fp);
    assert_true(file_size(f->partial) > n);

    assert_int_equal(sink_open(&s, f->path, comp, 0, n), 0);
    assert_int_equal(file_size(f->partial), n);
    put(s, *c, *clen);
    assert_int_equal(sink_checkpoint(s, &n2), 0);
    assert_true(n2 > n);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    free(b);

    assert_false(exists(f->partial));
    assert_int_equal(file_size(f->path), n2);
    char *got = slurp(f->path, len);
    assert_non_null(got);
    return got;
}

static void test_plain_resume(void **state)
{
    char *a, *c, *got;
    size_t alen, clen, len;
    got = resume_cycle(*state, "t.ndjson", SINK_PLAIN, &len, &a, &alen, &c,
                       &clen);
    assert_bytes(got, len, a, alen, c, clen);
    free(got);
    free(a);
    free(c);
}

static void test_gzip_resume(void **state)
{
    char *a, *c, *got;
    size_t alen, clen, len, dlen;
    int members;
    got = resume_cycle(*state, "t.ndjson.gz", SINK_GZIP, &len, &a, &alen, &c,
                       &clen);
    assert_true(len > 2);
    assert_int_equal((unsigned char)got[0], 0x1f);
    assert_int_equal((unsigned char)got[1], 0x8b);
    char *d = gunzip_all(got, len, &dlen, &members);
    assert_int_equal(members, blocks_of(alen) + blocks_of(clen));
    assert_bytes(d, dlen, a, alen, c, clen);
    free(d);
    free(got);
    free(a);
    free(c);
}

static void test_zstd_resume(void **state)
{
    char *a, *c, *got;
    size_t alen, clen, len, dlen;
    int frames;
    got = resume_cycle(*state, "t.ndjson.zst", SINK_ZSTD, &len, &a, &alen, &c,
                       &clen);
    assert_true(len > 4);
    /* zstd frame magic 0xFD2FB528, little-endian */
    assert_memory_equal(got, "\x28\xb5\x2f\xfd", 4);
    char *d = unzstd_all(got, len, &dlen, &frames);
    assert_int_equal(frames, blocks_of(alen) + blocks_of(clen));
    assert_bytes(d, dlen, a, alen, c, clen);
    free(d);
    free(got);
    free(a);
    free(c);
}

static void tool_check(void **state, const char *tool, const char *name,
                       enum sink_compress comp)
{
    if (!have_tool(tool))
        skip();
    char *a, *c, *got;
    size_t alen, clen, len, dlen;
    got = resume_cycle(*state, name, comp, &len, &a, &alen, &c, &clen);
    char *d = tool_decompress(*state, tool, &dlen);
    assert_bytes(d, dlen, a, alen, c, clen);
    free(d);
    free(got);
    free(a);
    free(c);
}

static void test_gzip_tool(void **state)
{
    tool_check(state, "gzip", "t.ndjson.gz", SINK_GZIP);
}

static void test_zstd_tool(void **state)
{
    tool_check(state, "zstd", "t.ndjson.zst", SINK_ZSTD);
}

static void empty_checkpoint(struct fix *f, const char *name,
                             enum sink_compress comp)
{
    set_name(f, name);
    struct sink *s;
    uint64_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
    assert_int_equal(sink_open(&s, f->path, comp, 0, 0), 0);
    /* An empty file still gets one (empty) member: a valid stream. */
    assert_int_equal(sink_checkpoint(s, &n0), 0);
    assert_true(n0 > 0);
    assert_int_equal(sink_checkpoint(s, &n1), 0);
    assert_int_equal(n1, n0);
    put(s, "{\"a\":1}\n", 8);
    assert_int_equal(sink_checkpoint(s, &n2), 0);
    assert_true(n2 > n1);
    assert_int_equal(sink_checkpoint(s, &n3), 0);
    assert_int_equal(n3, n2);
    assert_int_equal(file_size(f->partial), n2);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);

    size_t len, dlen;
    int k;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    char *d = comp == SINK_GZIP ? gunzip_all(got, len, &dlen, &k)
                                : unzstd_all(got, len, &dlen, &k);
    assert_int_equal(k, 2); /* the empty one and the data one, no more */
    assert_bytes(d, dlen, "{\"a\":1}\n", 8, "", 0);
    free(d);
    free(got);
}

static void test_gzip_empty_checkpoint(void **state)
{
    empty_checkpoint(*state, "e.ndjson.gz", SINK_GZIP);
}

static void test_zstd_empty_checkpoint(void **state)
{
    empty_checkpoint(*state, "e.ndjson.zst", SINK_ZSTD);
}

static void test_plain_empty_checkpoint(void **state)
{
    struct fix *f = *state;
    set_name(f, "e.ndjson");
    struct sink *s;
    uint64_t n = 1;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 0), 0);
    assert_int_equal(sink_checkpoint(s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    assert_int_equal(file_size(f->path), 0);
}

static void test_resume_shorter(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson");
    FILE *fp = fopen(f->partial, "w");
    assert_non_null(fp);
    fputs("0123456789", fp);
    fclose(fp);

    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 100), -1);
    assert_non_null(s);
    assert_non_null(strstr(sink_error(s), "shorter than its checkpoint"));
    assert_non_null(strstr(sink_error(s), "(10 < 100 bytes)"));
    assert_non_null(strstr(sink_error(s), f->partial));
    sink_close(s);
    assert_int_equal(file_size(f->partial), 10); /* left untouched */
}

static void test_resume_missing(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson");
    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 42), -1);
    assert_non_null(s);
    assert_non_null(strstr(sink_error(s), "cannot resume"));
    assert_non_null(strstr(sink_error(s), "is missing"));
    assert_non_null(strstr(sink_error(s), f->partial));
    sink_close(s);
    assert_false(exists(f->partial)); /* not created */
}

static void test_lock(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson");
    struct sink *s1, *s2, *s3;
    uint64_t n;
    assert_int_equal(sink_open(&s1, f->path, SINK_PLAIN, 0, 0), 0);
    put(s1, "first\n", 6);
    assert_int_equal(sink_checkpoint(s1, &n), 0);

    assert_int_equal(sink_open(&s2, f->path, SINK_PLAIN, 0, 0), -1);
    assert_non_null(strstr(sink_error(s2), "another sluice process is writing"));
    assert_non_null(strstr(sink_error(s2), f->path));
    sink_close(s2);
    /* The loser did not truncate the winner's file. */
    assert_int_equal(file_size(f->partial), 6);

    sink_close(s1); /* releases the lock */
    assert_int_equal(sink_open(&s3, f->path, SINK_PLAIN, 0, n), 0);
    sink_close(s3);
}

static void test_missing_directory(void **state)
{
    struct fix *f = *state;
    set_name(f, "no/such/dir/out.ndjson");
    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_PLAIN, 0, 0), -1);
    assert_non_null(s);
    assert_non_null(strstr(sink_error(s), f->partial));
    assert_non_null(strstr(sink_error(s), strerror(ENOENT)));
    sink_close(s);
}

static void test_bad_level(void **state)
{
    struct fix *f = *state;
    set_name(f, "out.ndjson.gz");
    struct sink *s;
    assert_int_equal(sink_open(&s, f->path, SINK_GZIP, 13, 0), -1);
    assert_non_null(strstr(sink_error(s), "gzip level must be 1-12, got 13"));
    sink_close(s);
    assert_int_equal(sink_open(&s, f->path, SINK_ZSTD, 23, 0), -1);
    assert_non_null(strstr(sink_error(s), "zstd level must be 1-22, got 23"));
    sink_close(s);
    assert_int_equal(sink_open(&s, f->path, SINK_GZIP, 12, 0), 0);
    sink_close(s);
    assert_int_equal(sink_open(&s, f->path, SINK_ZSTD, 22, 0), 0);
    sink_close(s);
    assert_int_equal(sink_open_locked(&s, f->path, SINK_ZSTD, 0, SINK_THREADS_MAX + 1), -1);
    assert_non_null(strstr(sink_error(s), "threads must be 1-256, got 257"));
    sink_close(s);
}

/* In a child limited by RLIMIT_FSIZE, a write past the limit must surface
 * as a checkpoint error saying "File too large". The child sends the
 * message through a pipe and exits 0 only if the checkpoint failed. */
static void test_write_failure(void **state)
{
    struct fix *f = *state;
    set_name(f, "big.ndjson");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 256 * 1024, 256 * 1024 };
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(3);
        struct sink *s;
        if (sink_open(&s, f->path, SINK_PLAIN, 0, 0) < 0)
            _exit(4);
        const size_t n = 3u << 20;
        char *text = malloc(n);
        if (!text)
            _exit(5);
        memset(text, 'x', n);
        int failed = 0;
        for (size_t off = 0; off < n && !failed; off += 4096) {
            if (buf_append(sink_buf(s), text + off, 4096) < 0)
                _exit(6);
            failed = sink_flush_if_full(s) < 0;
        }
        uint64_t bytes;
        int rc = sink_checkpoint(s, &bytes);
        int gone = sink_reader_gone(s); /* a full disk is not a closed pipe */
        const char *msg = sink_error(s);
        if (write(fds[1], msg, strlen(msg)) < 0)
            _exit(7);
        sink_close(s);
        free(text);
        _exit(rc == -1 && !gone ? 0 : 1);
    }
    close(fds[1]);
    char msg[1100] = { 0 };
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, strerror(EFBIG)));
    assert_non_null(strstr(msg, "File too large"));
    assert_non_null(strstr(msg, f->partial));
}

/* stdout: fd 1, no partial file, publish is a no-op. */
static void test_stdout(void **state)
{
    struct fix *f = *state;
    set_name(f, "stdout.capture");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    close(fd);

    struct sink *s;
    uint64_t n = 0;
    int rc1 = sink_open(&s, "-", SINK_PLAIN, 0, 999);
    const char *pp = rc1 == 0 ? sink_partial_path(s) : "";
    int is_dash = strcmp(pp, "-") == 0;
    if (rc1 == 0)
        put(s, "{\"x\":1}\n", 8);
    int rc2 = rc1 == 0 ? sink_checkpoint(s, &n) : -1;
    int rc3 = rc1 == 0 ? sink_publish(s) : -1;
    sink_close(s);

    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    assert_int_equal(rc1, 0);
    assert_true(is_dash);
    assert_int_equal(rc2, 0);
    assert_int_equal(n, 8);
    assert_int_equal(rc3, 0);
    size_t len;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    assert_bytes(got, len, "{\"x\":1}\n", 8, "", 0);
    free(got);
    assert_false(exists(f->partial));
}


/* stdout whose reader went away (`| head`): the write fails with EPIPE
 * (SIGPIPE ignored, as main() does) and the sink says it was the reader,
 * plain or compressed. A full disk is not a reader gone. */
static void reader_gone(enum sink_compress comp)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]); /* the reader is gone before the first byte */
    assert_int_equal(dup2(fds[1], STDOUT_FILENO), STDOUT_FILENO);
    close(fds[1]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);

    struct sink *s;
    int rc1 = sink_open_locked(&s, "-", comp, 0, 2);
    int before = rc1 == 0 && sink_reader_gone(s);
    uint64_t n;
    int rc2 = -1;
    if (rc1 == 0) {
        put(s, "{\"x\":1}\n", 8);
        rc2 = sink_checkpoint(s, &n);
    }
    int gone = sink_reader_gone(s);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rc1 == 0 ? sink_error(s) : "");
    sink_close(s);

    signal(SIGPIPE, old);
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    assert_int_equal(rc1, 0);
    assert_false(before);
    assert_int_equal(rc2, -1);
    assert_true(gone);
    assert_non_null(strstr(msg, "stdout"));
    assert_non_null(strstr(msg, strerror(EPIPE)));
}

static void test_stdout_reader_gone(void **state)
{
    (void)state;
    reader_gone(SINK_PLAIN);
    reader_gone(SINK_ZSTD);
    reader_gone(SINK_GZIP);
    assert_false(sink_reader_gone(NULL));
}

/* ---- the block pipeline ------------------------------------------------ */

#define MIB ((size_t)1 << 20)

/* The uncompressed size of each gzip member / zstd frame of in, in order,
 * into sizes (at most max); returns how many. Fails on damage. */
static int block_sizes(enum sink_compress comp, const char *in, size_t inlen, size_t *sizes,
                       int max)
{
    int k = 0;
    if (comp == SINK_ZSTD) {
        size_t off = 0;
        while (off < inlen) {
            size_t fsz = ZSTD_findFrameCompressedSize(in + off, inlen - off);
            assert_false(ZSTD_isError(fsz));
            unsigned long long c = ZSTD_getFrameContentSize(in + off, fsz);
            assert_true(c != ZSTD_CONTENTSIZE_ERROR && c != ZSTD_CONTENTSIZE_UNKNOWN);
            assert_true(k < max);
            sizes[k++] = (size_t)c;
            off += fsz;
        }
        return k;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    static char sink_out[1 << 16];
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    while (z.avail_in > 0) {
        z.next_out = (Bytef *)sink_out;
        z.avail_out = sizeof sink_out;
        int rc = inflate(&z, Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
        if (rc == Z_STREAM_END) {
            assert_true(k < max);
            sizes[k++] = z.total_out;
            assert_int_equal(inflateReset(&z), Z_OK);
        }
    }
    inflateEnd(&z);
    return k;
}

/* Appends p as rows of `row` bytes (0: all at once), flushing after each
 * as the core does. */
static void put_rows(struct sink *s, const char *p, size_t n, size_t row)
{
    if (!row)
        row = n;
    for (size_t off = 0; off < n; off += row) {
        size_t k = n - off < row ? n - off : row;
        assert_int_equal(buf_append(sink_buf(s), p + off, k), 0);
        assert_int_equal(sink_flush_if_full(s), 0);
    }
}

/* Writes text as the core would, with `threads` workers and rows of `row`
 * bytes, checkpointing after `cut` bytes and at the end; returns the
 * published file. */
static char *write_blocks(struct fix *f, const char *name, enum sink_compress comp,
                          unsigned threads, size_t row, const char *text, size_t n, size_t cut,
                          size_t *len)
{
    set_name(f, name);
    struct sink *s;
    uint64_t b1, b2;
    assert_int_equal(sink_open_locked(&s, f->path, comp, 0, threads), 0);
    assert_int_equal(sink_resume(s, 0), 0);
    put_rows(s, text, cut, row);
    assert_int_equal(sink_checkpoint(s, &b1), 0);
    assert_int_equal(file_size(f->partial), b1);
    put_rows(s, text + cut, n - cut, row);
    assert_int_equal(sink_checkpoint(s, &b2), 0);
    assert_int_equal(file_size(f->partial), b2);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    char *got = slurp(f->path, len);
    assert_non_null(got);
    assert_int_equal(*len, b2);
    unlink(f->path);
    return got;
}

/* The bytes depend on the data and the checkpoints only: not on the thread
 * count, nor on how the rows were sized or flushed. Every block is a whole
 * MiB counted from the last checkpoint, except the last before each. */
static void blocks_deterministic(void **state, enum sink_compress comp, const char *name)
{
    const size_t n = 5 * MIB + 12345, cut = 2 * MIB + 777;
    char *text = make_text(n, 21);
    static const unsigned threads[] = {2, 3, 8};
    static const size_t rows[] = {333, 0};
    size_t ref_len = 0;
    char *ref = write_blocks(*state, name, comp, 1, 4096, text, n, cut, &ref_len);

    size_t sizes[16], dlen;
    int k = block_sizes(comp, ref, ref_len, sizes, 16);
    assert_int_equal(k, 3 + 4);
    const size_t want[] = {MIB, MIB, cut - 2 * MIB, MIB, MIB, MIB, n - cut - 3 * MIB};
    for (int i = 0; i < k; i++)
        assert_int_equal(sizes[i], want[i]);
    int frames;
    char *d = comp == SINK_GZIP ? gunzip_all(ref, ref_len, &dlen, &frames)
                                : unzstd_all(ref, ref_len, &dlen, &frames);
    assert_bytes(d, dlen, text, n, "", 0);
    free(d);

    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
            size_t len;
            char *got = write_blocks(*state, name, comp, threads[t], rows[r], text, n, cut, &len);
            assert_int_equal(len, ref_len);
            assert_memory_equal(got, ref, len);
            free(got);
        }
    free(ref);
    free(text);
}

static void test_gzip_blocks_deterministic(void **state)
{
    blocks_deterministic(state, SINK_GZIP, "d.ndjson.gz");
}

static void test_zstd_blocks_deterministic(void **state)
{
    blocks_deterministic(state, SINK_ZSTD, "d.ndjson.zst");
}

/* A scan read again after a failure: blocks in flight after the checkpoint
 * are dropped, and the file is what it would have been without them. */
static void rewind_in_flight(void **state, enum sink_compress comp, const char *name)
{
    struct fix *f = *state;
    const size_t alen = MIB + 100, blen = 6 * MIB, clen = 2 * MIB + 5;
    char *a = make_text(alen, 31), *b = make_text(blen, 32), *c = make_text(clen, 33);
    set_name(f, name);
    struct sink *s;
    uint64_t n, n2;
    assert_int_equal(sink_open_locked(&s, f->path, comp, 0, 4), 0);
    assert_int_equal(sink_resume(s, 0), 0);
    put_rows(s, a, alen, 1000);
    assert_int_equal(sink_checkpoint(s, &n), 0);
    put_rows(s, b, blen, 1000);
    assert_int_equal(sink_rewind(s, n), 0);
    assert_int_equal(file_size(f->partial), n);
    put_rows(s, c, clen, 1000);
    assert_int_equal(sink_checkpoint(s, &n2), 0);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    size_t len;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    unlink(f->path);

    /* The same without B. */
    assert_int_equal(sink_open_locked(&s, f->path, comp, 0, 1), 0);
    assert_int_equal(sink_resume(s, 0), 0);
    put_rows(s, a, alen, 0);
    assert_int_equal(sink_checkpoint(s, &n), 0);
    put_rows(s, c, clen, 0);
    assert_int_equal(sink_checkpoint(s, &n2), 0);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    size_t len2;
    char *want = slurp(f->path, &len2);
    assert_non_null(want);
    assert_int_equal(len, len2);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
    free(a);
    free(b);
    free(c);
}

static void test_gzip_rewind_in_flight(void **state)
{
    rewind_in_flight(state, SINK_GZIP, "r.ndjson.gz");
}

static void test_zstd_rewind_in_flight(void **state)
{
    rewind_in_flight(state, SINK_ZSTD, "r.ndjson.zst");
}

/* Closing with blocks in flight (a crash, an interrupt) neither hangs nor
 * leaks, and leaves whole blocks only after the checkpoint. */
static void test_close_in_flight(void **state)
{
    struct fix *f = *state;
    const size_t n = 9 * MIB;
    char *text = make_text(n, 41);
    set_name(f, "c.ndjson.zst");
    struct sink *s;
    uint64_t b0;
    assert_int_equal(sink_open_locked(&s, f->path, SINK_ZSTD, 9, 3), 0);
    assert_int_equal(sink_resume(s, 0), 0);
    put_rows(s, text, MIB / 2, 0);
    assert_int_equal(sink_checkpoint(s, &b0), 0);
    put_rows(s, text, n, 5000);
    sink_close(s);
    size_t len, sizes[16];
    char *got = slurp(f->partial, &len);
    assert_non_null(got);
    int k = block_sizes(SINK_ZSTD, got, len, sizes, 16);
    assert_true(k >= 1);
    assert_int_equal(sizes[0], MIB / 2);
    for (int i = 1; i < k; i++)
        assert_int_equal(sizes[i], MIB);
    free(got);
    free(text);
}

/* A row of 70 MiB of JSON: written whole, plain and compressed,
 * and the buffer's memory is given back after the row. */
static void big_row(void **state, enum sink_compress comp, const char *name)
{
    struct fix *f = *state;
    const size_t n = 70 * MIB + 3;
    char *row = make_text(n, 51);
    set_name(f, name);
    struct sink *s;
    uint64_t bytes;
    assert_int_equal(sink_open_locked(&s, f->path, comp, 1, 2), 0);
    assert_int_equal(sink_resume(s, 0), 0);
    put_rows(s, "{\"a\":1}\n", 8, 0);
    put_rows(s, row, n, 0);
    assert_true(sink_buf(s)->cap <= 4 * MIB);
    put_rows(s, "{\"b\":2}\n", 8, 0);
    assert_int_equal(sink_checkpoint(s, &bytes), 0);
    assert_int_equal(sink_publish(s), 0);
    sink_close(s);
    size_t len, dlen;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    char *d = got;
    dlen = len;
    int k;
    if (comp == SINK_GZIP)
        d = gunzip_all(got, len, &dlen, &k);
    else if (comp == SINK_ZSTD)
        d = unzstd_all(got, len, &dlen, &k);
    assert_int_equal(dlen, n + 16);
    assert_memory_equal(d, "{\"a\":1}\n", 8);
    assert_memory_equal(d + 8, row, n);
    assert_memory_equal(d + 8 + n, "{\"b\":2}\n", 8);
    if (d != got)
        free(d);
    free(got);
    free(row);
}

static void test_plain_big_row(void **state)
{
    big_row(state, SINK_PLAIN, "big.ndjson");
}

static void test_zstd_big_row(void **state)
{
    big_row(state, SINK_ZSTD, "big.ndjson.zst");
}

static void test_cut_is_seamless(void **state)
{
    struct fix *f = *state;
    static const enum sink_compress kinds[] = {SINK_PLAIN, SINK_GZIP, SINK_ZSTD};
    for (size_t i = 0; i < 3; i++) {
        set_name(f, "s.ndjson");
        struct sink *s;
        assert_int_equal(sink_open(&s, f->path, kinds[i], 0, 0), 0);
        assert_int_equal(sink_cut_is_seamless(s), kinds[i] == SINK_PLAIN);
        sink_close(s);
    }
}

/* Compressed output failing to write (file size limit): one message from
 * the write, through the workers, whatever call notices it first. */
static void write_failure_compressed(void **state, enum sink_compress comp)
{
    struct fix *f = *state;
    set_name(f, comp == SINK_GZIP ? "w.ndjson.gz" : "w.ndjson.zst");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 256 * 1024, 256 * 1024 };
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(3);
        struct sink *s;
        if (sink_open_locked(&s, f->path, comp, 0, 2) < 0 || sink_resume(s, 0) < 0)
            _exit(4);
        /* Random letters compress to about 60%: well past the limit. */
        const size_t n = 8 * MIB;
        char *text = make_text(n, 61);
        int failed = 0;
        for (size_t off = 0; off < n && !failed; off += 4096) {
            if (buf_append(sink_buf(s), text + off, 4096) < 0)
                _exit(6);
            failed = sink_flush_if_full(s) < 0;
        }
        uint64_t bytes;
        int rc = sink_checkpoint(s, &bytes);
        int gone = sink_reader_gone(s); /* a full disk is not a closed pipe */
        const char *msg = sink_error(s);
        if (write(fds[1], msg, strlen(msg)) < 0)
            _exit(7);
        sink_close(s);
        free(text);
        _exit(rc == -1 && !gone ? 0 : 1);
    }
    close(fds[1]);
    char msg[1100] = { 0 };
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, "File too large"));
    assert_non_null(strstr(msg, f->partial));
}

static void test_gzip_write_failure(void **state)
{
    write_failure_compressed(state, SINK_GZIP);
}

static void test_zstd_write_failure(void **state)
{
    write_failure_compressed(state, SINK_ZSTD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compress_for_path),
        cmocka_unit_test_setup_teardown(test_plain_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_tool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_tool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_empty_checkpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zstd_empty_checkpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_empty_checkpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resume_shorter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
        cmocka_unit_test(test_stdout_reader_gone),
        cmocka_unit_test_setup_teardown(test_gzip_blocks_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_blocks_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_rewind_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_rewind_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_big_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_big_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_is_seamless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_write_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
