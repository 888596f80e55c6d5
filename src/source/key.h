/* key.h - a key tuple: the position of a row in the paging order.
 *
 * Checkpoints store the key tuple of the last row written; a resumed scan
 * reads rows strictly after it. Values keep the kind the driver gave them so
 * they bind back with the same type (an integer stays an integer; a
 * timestamp is text in the database's own input syntax). A keytuple owns its
 * strings; free with key_clear(). */
#ifndef SLUICE_KEY_H
#define SLUICE_KEY_H

#include <stddef.h>
#include <stdint.h>

enum key_kind { KEY_NULL, KEY_INT, KEY_REAL, KEY_TEXT, KEY_BLOB };

struct keyval {
    enum key_kind kind;
    int64_t i;   /* KEY_INT */
    double r;    /* KEY_REAL */
    char *s;     /* KEY_TEXT, KEY_BLOB: owned, NUL-terminated for convenience */
    size_t len;  /* bytes at s */
};

struct keytuple {
    size_t n;
    struct keyval *v; /* owned array of n values */
};

/* Sets t to n KEY_NULL values. 0 or -1 (out of memory). */
int key_init(struct keytuple *t, size_t n);
void key_clear(struct keytuple *t);
/* Makes t hold n values, keeping it as it is when it already does (the
 * values are then overwritten by the key_set_* calls). 0 or -1. */
int key_resize(struct keytuple *t, size_t n);
/* Replaces value i with a copy of the given data. 0 or -1 (out of memory). */
int key_set_int(struct keytuple *t, size_t i, int64_t v);
int key_set_real(struct keytuple *t, size_t i, double v);
int key_set_text(struct keytuple *t, size_t i, const char *s, size_t len);
int key_set_blob(struct keytuple *t, size_t i, const void *p, size_t len);
int key_set_null(struct keytuple *t, size_t i);
/* Deep copy: dst is cleared first. 0 or -1. */
int key_copy(struct keytuple *dst, const struct keytuple *src);

#endif
