#include "source/tablename.h"
#include "common/errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one part at *p into a new string; moves *p past it. */
static int part(const char **p, const char *text, char **out, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    const char *c = *p;
    if (*c == '"') {
        for (c++;; c++) {
            if (!*c) {
                buf_free(&b);
                return errbuf_fail(err, errlen, -1, "table '%s': unclosed double quote", text);
            }
            if (*c == '"') {
                if (c[1] != '"')
                    break;
                c++;
            }
            buf_putc(&b, *c);
        }
        c++;
        if (*c && *c != '.') {
            buf_free(&b);
            return errbuf_fail(err, errlen, -1, "table '%s': a quoted name must end at a dot or the end",
                               text);
        }
    } else {
        for (; *c && *c != '.'; c++) {
            if (*c == '"') {
                buf_free(&b);
                return errbuf_fail(err, errlen, -1,
                                   "table '%s': a double quote may only start a name (write \"a\"\"b\" for a\"b)",
                                   text);
            }
            buf_putc(&b, *c);
        }
        if (b.len == 0) {
            buf_free(&b);
            return errbuf_fail(err, errlen, -1, "table '%s': empty name", text);
        }
    }
    if (!buf_cstr(&b)) {
        buf_free(&b);
        return errbuf_fail(err, errlen, -1, "out of memory");
    }
    *out = b.data;
    *p = c;
    return 0;
}

int table_name_parse(const char *text, char **schema, char **name, char *err, size_t errlen)
{
    char *a = NULL, *b = NULL;
    const char *p = text;
    *schema = *name = NULL;
    if (part(&p, text, &a, err, errlen) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (part(&p, text, &b, err, errlen) < 0) {
            free(a);
            return -1;
        }
        if (*p) {
            free(a);
            free(b);
            return errbuf_fail(err, errlen, -1,
                               "table '%s': more than schema.name (quote a name that holds a dot: \"a.b\")",
                               text);
        }
        *schema = a;
        *name = b;
        return 0;
    }
    *name = a;
    return 0;
}

static void put_part(struct buf *b, const char *s)
{
    if (*s && !strpbrk(s, ".\"")) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

void table_name_format(struct buf *b, const char *schema, const char *name)
{
    if (schema) {
        put_part(b, schema);
        buf_putc(b, '.');
    }
    put_part(b, name);
}
