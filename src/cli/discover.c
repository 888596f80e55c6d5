#include "cli/discover.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/exitcode.h"
#include "encode/json.h"
#include "common/log.h"
#include "source/connect.h"
#include "source/source.h"

static void str(struct buf *b, const char *s)
{
    if (s)
        json_quoted(b, s, strlen(s), NULL);
    else
        buf_puts(b, "null");
}

static void str_array(struct buf *b, char *const *v, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        str(b, v[i]);
    }
    buf_putc(b, ']');
}

static void describe_json(struct buf *b, const struct table_desc *d)
{
    buf_puts(b, "{\"schema\":");
    str(b, d->schema);
    buf_puts(b, ",\"name\":");
    str(b, d->name);
    buf_printf(b, ",\"type\":\"%s\",\"row_estimate\":", d->is_view ? "view" : "table");
    if (d->row_estimate >= 0)
        json_int(b, d->row_estimate);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"primary_key\":");
    str_array(b, d->pk, d->npk);
    buf_puts(b, ",\"unique_keys\":[");
    for (size_t i = 0; i < d->nuniq; i++) {
        if (i)
            buf_putc(b, ',');
        str_array(b, d->uniq[i].cols, d->uniq[i].n);
    }
    buf_puts(b, "],\"implicit_key\":");
    str(b, d->implicit_key);
    buf_puts(b, ",\"columns\":[");
    for (size_t i = 0; i < d->ncols; i++) {
        const struct column_desc *c = &d->cols[i];
        buf_puts(b, i ? "," : "");
        buf_puts(b, "{\"name\":");
        str(b, c->name);
        buf_puts(b, ",\"type\":");
        str(b, c->db_type);
        buf_puts(b, ",\"json_type\":");
        str(b, c->json_type);
        buf_printf(b, ",\"nullable\":%s}", c->nullable ? "true" : "false");
    }
    buf_puts(b, "]}");
}

int discover_run(const struct discover_opts *o)
{
    struct source *src;
    char err[1024];
    int code = source_connect(o->source, &src, err, sizeof err);
    if (code) {
        log_error("%s", err);
        return source_exit_code(code);
    }
    struct strlist tables = {0};
    int rc = 0;
    if (o->table)
        rc = strlist_add(&tables, o->table) < 0 ? SOURCE_ENOMEM : 0;
    else
        rc = source_list_tables(src, &tables);
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    buf_puts(&b, "{\"tables\":[");
    for (size_t i = 0; rc == 0 && i < tables.n; i++) {
        struct table_desc *d;
        rc = source_describe(src, tables.v[i], &d);
        if (rc < 0)
            break;
        buf_puts(&b, i ? ",\n" : "\n");
        describe_json(&b, d);
        table_desc_free(d);
    }
    buf_puts(&b, "\n]}\n");
    if (rc < 0) {
        log_error("%s", source_error(src));
        code = source_exit_code(rc);
    } else if (b.oom) {
        log_error("out of memory");
        code = EXIT_INTERNAL;
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        /* A reader that closed the pipe (`| head`) ends the run quietly. */
        code = errno == EPIPE ? EXIT_PIPE : EXIT_OUTPUT;
        if (code == EXIT_OUTPUT)
            log_error("cannot write to stdout: %s", strerror(errno));
    }
    buf_free(&b);
    strlist_free(&tables);
    source_close(src);
    return code;
}
