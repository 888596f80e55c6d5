/* source.c - the driver registry and the helpers every driver shares. */
#include "source/source.h"
#include "source/tablename.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SLUICE_WITH_SQLITE
extern const struct source_driver litesrc_driver;
#endif
#ifdef SLUICE_WITH_POSTGRES
extern const struct source_driver pgsrc_driver;
#endif
#ifdef SLUICE_WITH_MYSQL
extern const struct source_driver mysrc_driver;
#endif

/* NULL-terminated; the first driver that claims a URL gets it. */
static const struct source_driver *const drivers[] = {
#ifdef SLUICE_WITH_POSTGRES
    &pgsrc_driver,
#endif
#ifdef SLUICE_WITH_MYSQL
    &mysrc_driver,
#endif
#ifdef SLUICE_WITH_SQLITE
    &litesrc_driver,
#endif
    NULL,
};

const struct source_driver *source_find(const char *url)
{
    for (size_t i = 0; drivers[i]; i++)
        if (drivers[i]->claims(url))
            return drivers[i];
    return NULL;
}

const char *source_driver_names(void)
{
    static char names[128];
    if (!names[0]) {
        size_t used = 0;
        for (size_t i = 0; drivers[i]; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     i ? ", " : "", drivers[i]->name);
    }
    return names;
}

int source_fail(struct source *src, int code, const char *fmt, ...)
{
    if (src->errcode)
        return src->errcode;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->errmsg, sizeof src->errmsg, fmt, ap);
    va_end(ap);
    for (char *p = src->errmsg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* Trim what servers end their messages with. */
    size_t n = strlen(src->errmsg);
    while (n && src->errmsg[n - 1] == ' ')
        src->errmsg[--n] = '\0';
    src->errcode = code;
    return code;
}

void table_desc_free(struct table_desc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].db_type);
    }
    free(d->cols);
    for (size_t i = 0; i < d->npk; i++)
        free(d->pk[i]);
    free(d->pk);
    for (size_t i = 0; i < d->nuniq; i++) {
        for (size_t j = 0; j < d->uniq[i].n; j++)
            free(d->uniq[i].cols[j]);
        free(d->uniq[i].cols);
    }
    free(d->uniq);
    free(d->schema);
    free(d->name);
    free(d);
}

long table_desc_column(const struct table_desc *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

void table_desc_name(const struct table_desc *d, char *out, size_t n)
{
    struct buf b;
    buf_init(&b, n ? n - 1 : 0);
    table_name_format(&b, d->schema, d->name);
    snprintf(out, n, "%s", buf_cstr(&b) ? b.data : d->name);
    buf_free(&b);
}

void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int strlist_add(struct strlist *l, const char *s)
{
    char *copy = strdup(s);
    char **v = copy ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return -1;
    }
    v[l->n++] = copy;
    l->v = v;
    return 0;
}
