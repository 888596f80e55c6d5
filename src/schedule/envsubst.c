#include "schedule/envsubst.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define ENVSUBST_MAX_OUT (16u << 20)
#define ENVSUBST_MAX_NAME 255

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* buf_append, but nothing at all for n == 0 (an empty buffer has no data
 * pointer to copy to). */
static void put(struct buf *b, const char *s, size_t n)
{
    if (n)
        buf_append(b, s, n);
}

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int fail(struct buf *b, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct buf *b, char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    buf_free(b);
    return -1;
}

int envsubst(char **out, const char *in, envsubst_lookup_fn lookup, void *ctx,
             char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, ENVSUBST_MAX_OUT);
    *out = NULL;
    if (!lookup)
        lookup = env_lookup;
    const char *p = in;
    while (*p) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            put(&b, p, strlen(p));
            break;
        }
        put(&b, p, (size_t)(dollar - p));
        size_t pos = (size_t)(dollar - in) + 1;
        if (dollar[1] == '$') {
            buf_putc(&b, '$');
            p = dollar + 2;
            continue;
        }
        if (dollar[1] != '{')
            return fail(&b, err, errlen,
                        "'$' at character %zu must start ${NAME} or be doubled ($$)", pos);
        const char *name = dollar + 2, *q = name;
        if (!is_name_start(*q))
            return fail(&b, err, errlen,
                        "${ at character %zu: a variable name starts with a letter or '_'", pos);
        while (is_name_char(*q))
            q++;
        size_t nlen = (size_t)(q - name);
        if (nlen > ENVSUBST_MAX_NAME)
            return fail(&b, err, errlen,
                        "${ at character %zu: variable name longer than %d characters",
                        pos, ENVSUBST_MAX_NAME);
        char nbuf[ENVSUBST_MAX_NAME + 1];
        memcpy(nbuf, name, nlen);
        nbuf[nlen] = '\0';
        const char *def = NULL;
        size_t dlen = 0;
        if (q[0] == ':' && q[1] == '-') {
            def = q + 2;
            const char *close = strchr(def, '}');
            if (!close)
                return fail(&b, err, errlen, "${%s at character %zu is not closed with '}'",
                            nbuf, pos);
            dlen = (size_t)(close - def);
            q = close;
        } else if (*q == '\0') {
            return fail(&b, err, errlen, "${%s at character %zu is not closed with '}'",
                        nbuf, pos);
        } else if (*q != '}') {
            return fail(&b, err, errlen,
                        "${%s at character %zu: expected '}' or ':-' after the name",
                        nbuf, pos);
        }
        const char *val = lookup(nbuf, ctx);
        if (def && (!val || !*val))
            put(&b, def, dlen);
        else if (val)
            put(&b, val, strlen(val));
        else
            return fail(&b, err, errlen,
                        "environment variable %s is not set (write ${%s:-default} for a default)",
                        nbuf, nbuf);
        p = q + 1;
    }
    if (!buf_cstr(&b))
        return fail(&b, err, errlen, "out of memory expanding ${...} (limit %u bytes)",
                    ENVSUBST_MAX_OUT);
    *out = b.data;
    return 0;
}
