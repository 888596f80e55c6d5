/* keyjson.c - key tuples as JSON values (keyjson.h). */
#include "output/keyjson.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static json_t *base64_object(const char *name, const char *p, size_t len)
{
    if (len > (size_t)1 << 28)
        return NULL;
    unsigned char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock(out, (const unsigned char *)p, (int)len);
    json_t *o = json_pack("{ss}", name, (const char *)out);
    free(out);
    return o;
}

static json_t *value_json(const struct keyval *v)
{
    char real[64];
    const char *s = v->s ? v->s : "";
    switch (v->kind) {
    case KEY_NULL: return json_null();
    case KEY_INT: return json_integer((json_int_t)v->i);
    case KEY_REAL:
        snprintf(real, sizeof real, "%a", v->r);
        return json_pack("{ss}", "real", real);
    case KEY_TEXT: {
        json_t *t = json_stringn(s, v->len); /* NULL when not UTF-8 */
        return t ? t : base64_object("text_base64", s, v->len);
    }
    case KEY_BLOB: return base64_object("base64", s, v->len);
    }
    return NULL;
}

json_t *keyjson_tuple(const struct keytuple *t)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->n; i++)
        if (json_array_append_new(a, value_json(&t->v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Decodes base64 text into value i of t, as text or blob. */
static int set_base64(struct keytuple *t, size_t i, const char *b64, int text)
{
    size_t n = strlen(b64);
    if (n % 4)
        return -1;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    /* EVP_DecodeBlock counts the padding as bytes: take them off again. */
    for (size_t p = n; len > 0 && p > 0 && b64[p - 1] == '='; p--)
        len--;
    int rc = len < 0 ? -1
             : text ? key_set_text(t, i, (const char *)out, (size_t)len)
                    : key_set_blob(t, i, out, (size_t)len);
    free(out);
    return rc;
}

static int parse_value(const json_t *v, struct keytuple *t, size_t i)
{
    const char *s;
    if (json_is_null(v))
        return key_set_null(t, i);
    if (json_is_integer(v))
        return key_set_int(t, i, (int64_t)json_integer_value(v));
    if (json_is_string(v))
        return key_set_text(t, i, json_string_value(v), json_string_length(v));
    if (!json_is_object(v) || json_object_size(v) != 1)
        return -1;
    if ((s = json_string_value(json_object_get(v, "real")))) {
        char *end;
        double d = strtod(s, &end);
        return *s && !*end ? key_set_real(t, i, d) : -1;
    }
    if ((s = json_string_value(json_object_get(v, "text_base64"))))
        return set_base64(t, i, s, 1);
    if ((s = json_string_value(json_object_get(v, "base64"))))
        return set_base64(t, i, s, 0);
    return -1;
}

int keyjson_parse(const json_t *j, struct keytuple *out)
{
    key_clear(out);
    if (!json_is_array(j) || key_init(out, json_array_size(j)) < 0)
        return -1;
    for (size_t i = 0; i < out->n; i++)
        if (parse_value(json_array_get(j, i), out, i) < 0) {
            key_clear(out);
            return -1;
        }
    return 0;
}

int keyjson_equal(const struct keytuple *a, const struct keytuple *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct keyval *x = &a->v[i], *y = &b->v[i];
        if (x->kind != y->kind)
            return 0;
        switch (x->kind) {
        case KEY_NULL: break;
        case KEY_INT: if (x->i != y->i) return 0; break;
        case KEY_REAL: if (memcmp(&x->r, &y->r, sizeof x->r) != 0) return 0; break;
        case KEY_TEXT:
        case KEY_BLOB:
            if (x->len != y->len || (x->len && memcmp(x->s, y->s, x->len) != 0))
                return 0;
            break;
        }
    }
    return 1;
}
