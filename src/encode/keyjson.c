#include "encode/keyjson.h"

#include "encode/json.h"

int json_keytuple(struct buf *out, const struct keytuple *t)
{
    if (!t || t->n == 0)
        return buf_puts(out, "null");
    buf_putc(out, '[');
    for (size_t i = 0; i < t->n; i++) {
        const struct keyval *v = &t->v[i];
        if (i)
            buf_putc(out, ',');
        switch (v->kind) {
        case KEY_NULL: buf_puts(out, "null"); break;
        case KEY_INT: json_int(out, v->i); break;
        case KEY_REAL: json_double(out, v->r); break;
        case KEY_TEXT: json_string(out, v->s, v->len, NULL); break;
        case KEY_BLOB: json_base64(out, v->s, v->len); break;
        }
    }
    buf_putc(out, ']');
    return out->oom ? -1 : 0;
}
