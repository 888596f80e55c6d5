/* buf.h - one growable byte buffer, in the spirit of curl's dynbuf.
 *
 * A buffer has a hard cap chosen by its user; an append that would pass the
 * cap or cannot allocate fails and sets the sticky `oom` flag, so a run of
 * appends can be checked once at the end. Contents are not NUL-terminated
 * unless buf_cstr() is called. */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* hard cap in bytes */
    int oom;    /* sticky: set by the first failed append */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Makes room for `extra` more bytes. 0, or -1 with b->oom set. */
int buf_reserve(struct buf *b, size_t extra);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminates (without counting the NUL) and returns data, or NULL on oom. */
const char *buf_cstr(struct buf *b);

static inline void buf_reset(struct buf *b) { b->len = 0; }

static inline int buf_append(struct buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int buf_putc(struct buf *b, char c)
{
    if (b->len == b->cap && buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

static inline int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

#endif
