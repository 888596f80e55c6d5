#include "source/key.h"

#include <stdlib.h>
#include <string.h>

int key_init(struct keytuple *t, size_t n)
{
    t->n = 0;
    t->v = n ? calloc(n, sizeof *t->v) : NULL;
    if (n && !t->v)
        return -1;
    t->n = n;
    return 0;
}

void key_clear(struct keytuple *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].s);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

int key_resize(struct keytuple *t, size_t n)
{
    if (t->n == n)
        return 0;
    key_clear(t);
    return key_init(t, n);
}

static void reset(struct keyval *v, enum key_kind kind)
{
    free(v->s);
    memset(v, 0, sizeof *v);
    v->kind = kind;
}

int key_set_null(struct keytuple *t, size_t i)
{
    reset(&t->v[i], KEY_NULL);
    return 0;
}

int key_set_int(struct keytuple *t, size_t i, int64_t v)
{
    reset(&t->v[i], KEY_INT);
    t->v[i].i = v;
    return 0;
}

int key_set_real(struct keytuple *t, size_t i, double v)
{
    reset(&t->v[i], KEY_REAL);
    t->v[i].r = v;
    return 0;
}

static int set_bytes(struct keytuple *t, size_t i, enum key_kind kind,
                     const void *p, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    if (len)
        memcpy(s, p, len); /* p may be NULL for an empty value */
    s[len] = '\0';
    reset(&t->v[i], kind);
    t->v[i].s = s;
    t->v[i].len = len;
    return 0;
}

int key_set_text(struct keytuple *t, size_t i, const char *s, size_t len)
{
    return set_bytes(t, i, KEY_TEXT, s, len);
}

int key_set_blob(struct keytuple *t, size_t i, const void *p, size_t len)
{
    return set_bytes(t, i, KEY_BLOB, p, len);
}

int key_copy(struct keytuple *dst, const struct keytuple *src)
{
    key_clear(dst);
    if (key_init(dst, src->n) < 0)
        return -1;
    for (size_t i = 0; i < src->n; i++) {
        const struct keyval *v = &src->v[i];
        dst->v[i] = *v;
        dst->v[i].s = NULL;
        if ((v->kind == KEY_TEXT || v->kind == KEY_BLOB) &&
            set_bytes(dst, i, v->kind, v->s, v->len) < 0) {
            key_clear(dst);
            return -1;
        }
    }
    return 0;
}
