/* compressor.c - parallel block compression with ordered writes.
 *
 * Blocks live in a ring of slots numbered by sequence: the caller fills
 * slot `tail` and queues it, workers take queued slots in order (`next`),
 * and the caller writes slot `head` once a worker has marked it done, so
 * the output is in input order whatever order the workers finish in. The
 * ring is small (threads + 2): when it is full the caller waits for the
 * oldest block, which bounds memory and lets the workers set the pace. */
#include "output/compressor.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slot {
    struct buf in;       /* the block's bytes (storage reused) */
    unsigned char *out;  /* its compressed member/frame */
    size_t out_len;
    int done;            /* compressed, or failed (under mu) */
    int failed;
    char err[256];
};

struct worker {
    struct compressor *c;
    struct codec *codec;
    pthread_t tid;
};

struct compressor {
    enum codec_kind kind;
    int level;
    unsigned nworkers;
    unsigned started;       /* workers running */
    struct worker *workers; /* each with its own codec */
    compressor_write_fn *write;
    void *ctx;
    size_t nslots;
    struct slot *slots;
    size_t bound;           /* compressed size bound of a whole block */

    pthread_mutex_t mu;
    pthread_cond_t work;    /* a block was queued, or quit */
    pthread_cond_t done;    /* a block was compressed */
    /* Block sequence numbers; a block's slot is seq % nslots, and
     * head <= next <= tail <= head + nslots. */
    uint64_t head;          /* oldest block not yet written (caller only) */
    uint64_t next;          /* next queued block a worker takes (mu) */
    uint64_t tail;          /* next block the caller fills (changed under mu) */
    unsigned busy;          /* blocks being compressed (mu) */
    int quit;               /* (mu) */

    int open_block;         /* blocks queued since the last cut */
    int failed;
    char err[512];
};

static int fail(struct compressor *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct compressor *c, const char *fmt, ...)
{
    c->failed = 1;
    if (!c->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof c->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct compressor *c = w->c;
    static const char nothing[1];
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->quit && c->next == c->tail)
            pthread_cond_wait(&c->work, &c->mu);
        if (c->quit)
            break;
        struct slot *s = &c->slots[c->next++ % c->nslots];
        c->busy++;
        pthread_mutex_unlock(&c->mu);
        s->failed = codec_block(w->codec, s->in.len ? s->in.data : nothing, s->in.len,
                                s->out, c->bound, &s->out_len, s->err, sizeof s->err) < 0;
        pthread_mutex_lock(&c->mu);
        s->done = 1;
        c->busy--;
        pthread_cond_broadcast(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int compressor_new(struct compressor **out, enum codec_kind kind, int level, unsigned threads,
                   compressor_write_fn *write, void *ctx, char *err, size_t errlen)
{
    *out = NULL;
    if (threads < 1 || threads > COMPRESSOR_THREADS_MAX) {
        snprintf(err, errlen, "compression threads must be 1-%d, got %u",
                 COMPRESSOR_THREADS_MAX, threads);
        return -1;
    }
    struct codec *first;
    if (codec_new(&first, kind, level, err, errlen) < 0)
        return -1;
    struct compressor *c = calloc(1, sizeof *c);
    if (c) {
        c->nslots = (size_t)threads + 2;
        c->slots = calloc(c->nslots, sizeof *c->slots);
        c->workers = calloc(threads, sizeof *c->workers);
    }
    if (!c || !c->slots || !c->workers) {
        if (c) {
            free(c->slots);
            free(c->workers);
        }
        free(c);
        codec_free(first);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->kind = kind;
    c->level = level;
    c->nworkers = threads;
    c->workers[0].codec = first; /* the others are made when they start */
    c->bound = codec_bound(first, COMPRESSOR_BLOCK);
    c->write = write;
    c->ctx = ctx;
    for (size_t i = 0; i < c->nslots; i++)
        buf_init(&c->slots[i].in, SIZE_MAX);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work, NULL);
    pthread_cond_init(&c->done, NULL);
    *out = c;
    return 0;
}

/* Starts the workers, with every signal blocked in them. */
static int start(struct compressor *c)
{
    char err[256];
    for (unsigned i = 0; i < c->nworkers; i++)
        if (!c->workers[i].codec && codec_new(&c->workers[i].codec, c->kind, c->level, err,
                                              sizeof err) < 0)
            return fail(c, "%s", err);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = 0;
    while (c->started < c->nworkers) {
        struct worker *w = &c->workers[c->started];
        w->c = c;
        if ((e = pthread_create(&w->tid, NULL, worker_main, w)) != 0)
            break;
        c->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e)
        return fail(c, "cannot start a compression thread: %s", strerror(e));
    return 0;
}

/* Writes the oldest block in flight, waiting for it when `wait`. 1 when
 * written, 0 when not yet compressed, -1 on error. */
static int write_head(struct compressor *c, int wait)
{
    struct slot *s = &c->slots[c->head % c->nslots];
    pthread_mutex_lock(&c->mu);
    while (!s->done && wait)
        pthread_cond_wait(&c->done, &c->mu);
    int done = s->done;
    pthread_mutex_unlock(&c->mu);
    if (!done)
        return 0;
    c->head++;
    if (s->failed)
        return fail(c, "%s", s->err);
    if (c->write(s->out, s->out_len, c->ctx) < 0) {
        c->failed = 1; /* the writer keeps its message */
        return -1;
    }
    /* A block cut from a very large row may have brought that row's
     * storage: give it back rather than keep it for the next block. */
    if (s->in.cap > 2 * COMPRESSOR_BLOCK)
        buf_free(&s->in);
    return 1;
}

/* Writes every block that is compressed and next in order. */
static int write_ready(struct compressor *c)
{
    int r = 1;
    while (c->head != c->tail && (r = write_head(c, 0)) > 0)
        ;
    return r < 0 ? -1 : 0;
}

/* The slot for the next block, empty: when every slot is in flight, the
 * oldest is waited for and written first. */
static struct slot *acquire(struct compressor *c)
{
    if (c->tail - c->head == c->nslots && write_head(c, 1) < 0)
        return NULL;
    struct slot *s = &c->slots[c->tail % c->nslots];
    if (!s->out && !(s->out = malloc(c->bound))) {
        fail(c, "out of memory");
        return NULL;
    }
    buf_reset(&s->in);
    return s;
}

/* Queues the filled slot for a worker. */
static int submit(struct compressor *c, struct slot *s)
{
    if (c->started < c->nworkers && start(c) < 0)
        return -1;
    pthread_mutex_lock(&c->mu);
    s->done = 0;
    s->failed = 0;
    c->tail++;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
    c->open_block = 1;
    return 0;
}

/* Gives the slot b's storage holding b[0..n) and gives b the slot's, which
 * receives b[n..len). Cheap when len - n is small: one buffer is never
 * copied whole. */
static int swap_in(struct compressor *c, struct slot *s, struct buf *b, size_t n)
{
    size_t rest = b->len - n;
    if (buf_reserve(&s->in, rest) < 0)
        return fail(c, "out of memory");
    if (rest)
        memcpy(s->in.data, b->data + n, rest);
    char *data = s->in.data;
    size_t cap = s->in.cap;
    s->in.data = b->data;
    s->in.cap = b->cap;
    s->in.len = n;
    b->data = data;
    b->cap = cap;
    b->len = rest;
    return 0;
}

int compressor_feed(struct compressor *c, struct buf *b)
{
    if (c->failed)
        return -1;
    size_t off = 0;
    while (b->len - off >= COMPRESSOR_BLOCK) {
        struct slot *s = acquire(c);
        if (!s)
            return -1;
        if (off == 0 && b->len < 2 * COMPRESSOR_BLOCK) {
            /* The usual case: rows fill b a little past one block. */
            if (swap_in(c, s, b, COMPRESSOR_BLOCK) < 0)
                return -1;
        } else {
            /* A row larger than a block: cut it up by copying. */
            if (buf_append(&s->in, b->data + off, COMPRESSOR_BLOCK) < 0)
                return fail(c, "out of memory");
            off += COMPRESSOR_BLOCK;
        }
        if (submit(c, s) < 0)
            return -1;
    }
    if (off) {
        memmove(b->data, b->data + off, b->len - off);
        b->len -= off;
    }
    return write_ready(c);
}

int compressor_cut(struct compressor *c, struct buf *b, int empty)
{
    if (compressor_feed(c, b) < 0)
        return -1;
    if (b->len > 0 || (empty && !c->open_block)) {
        struct slot *s = acquire(c);
        if (!s || swap_in(c, s, b, b->len) < 0 || submit(c, s) < 0)
            return -1;
    }
    while (c->head != c->tail)
        if (write_head(c, 1) < 0)
            return -1;
    c->open_block = 0;
    return 0;
}

int compressor_open_block(const struct compressor *c)
{
    return c->open_block;
}

void compressor_discard(struct compressor *c)
{
    pthread_mutex_lock(&c->mu);
    c->next = c->tail; /* queued blocks are not taken */
    while (c->busy)
        pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
    c->head = c->tail;
    c->open_block = 0;
}

unsigned compressor_cpus(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > COMPRESSOR_THREADS_MAX ? COMPRESSOR_THREADS_MAX : (unsigned)n;
}

const char *compressor_error(const struct compressor *c)
{
    return c->err;
}

void compressor_free(struct compressor *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->mu);
    for (unsigned i = 0; i < c->started; i++)
        pthread_join(c->workers[i].tid, NULL);
    for (unsigned i = 0; i < c->nworkers; i++)
        codec_free(c->workers[i].codec);
    for (size_t i = 0; i < c->nslots; i++) {
        buf_free(&c->slots[i].in);
        free(c->slots[i].out);
    }
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c->workers);
    free(c->slots);
    free(c);
}
