#include "encode/keytext.h"

#include <stdlib.h>

#include <jansson.h>

#include "output/keyjson.h"

int json_keytuple(struct buf *out, const struct keytuple *t)
{
    if (!t || t->n == 0)
        return buf_puts(out, "null");
    json_t *j = keyjson_tuple(t);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!text) {
        out->oom = 1;
        return -1;
    }
    int rc = buf_puts(out, text);
    free(text);
    return rc;
}
