/* meta.c - the JSON of a job's sidecar (meta.h). */
#include "job/meta.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "encode/json.h"
#include "encode/keytext.h"
#include "output/sidecar.h"
#include "source/url.h"

static void key_str(struct buf *b, const char *key)
{
    buf_printf(b, ",\n  \"%s\": ", key);
}

static void put_string(struct buf *b, const char *s)
{
    if (s)
        json_quoted(b, s, strlen(s), NULL);
    else
        buf_puts(b, "null");
}

static void put_names(struct buf *b, char *const *v, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ", ");
        put_string(b, v[i]);
    }
    buf_putc(b, ']');
}

static void columns(struct buf *b, const struct plan *p)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < p->columns.n; i++) {
        long c = table_desc_column(p->desc, p->columns.v[i]);
        const struct column_desc *cd = c >= 0 ? &p->desc->cols[c] : NULL;
        buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
        put_string(b, p->columns.v[i]);
        buf_puts(b, ", \"type\": ");
        put_string(b, cd ? cd->db_type : NULL);
        buf_puts(b, ", \"json_type\": ");
        put_string(b, cd ? cd->json_type : NULL);
        buf_printf(b, ", \"nullable\": %s}", cd && cd->nullable ? "true" : "false");
    }
    buf_puts(b, p->columns.n ? "\n  ]" : "]");
}

/* The job's checkpoint segments (state_list_segments): each one's rows,
 * byte range, XXH3-128 and the keys of its first and last rows, so that
 * verify can check the file piece by piece and re-read each piece's key
 * range from the database. */
static int segments(struct buf *b, const struct job_meta *m, char *err, size_t errlen)
{
    const struct plan *p = m->plan;
    struct state_segment_rec *v;
    size_t n;
    if (state_list_segments(m->state, p->stream, p->partition, &v, &n) < 0) {
        snprintf(err, errlen, "%s", state_error(m->state));
        return -1;
    }
    key_str(b, "segment_digest");
    put_string(b, "xxh3-128");
    key_str(b, "segments");
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s\n    {\"rows\": %llu, \"bytes\": [%llu, %llu], \"digest\": \"%s\", "
                      "\"first\": ",
                   i ? "," : "", (unsigned long long)v[i].rows, (unsigned long long)v[i].start,
                   (unsigned long long)v[i].end, v[i].digest);
        json_keytuple(b, &v[i].first);
        buf_puts(b, ", \"last\": ");
        json_keytuple(b, &v[i].last);
        buf_putc(b, '}');
    }
    buf_puts(b, n ? "\n  ]" : "]");
    state_segments_free(v, n);
    return 0;
}

int job_meta_write(const struct job_meta *m, char *err, size_t errlen)
{
    static const char *const compressions[] = {"none", "gzip", "zstd"};
    const struct plan *p = m->plan;
    char hex[65];
    uint64_t size;
    if (sidecar_digest_file(m->output, hex, &size, err, errlen) < 0)
        return -1;
    int64_t job_id, attempts;
    char started[64], finished[64];
    if (state_current_job(m->state, p->stream, p->partition, &job_id, &attempts, started,
                          sizeof started) < 0) {
        snprintf(err, errlen, "%s", state_error(m->state));
        return -1;
    }
    log_time(finished, sizeof finished);
    char source[2048], table[512];
    url_redact(m->spec->source, source, sizeof source);
    table_desc_name(p->desc, table, sizeof table);
    const char *slash = strrchr(m->output, '/');

    struct buf b;
    buf_init(&b, 64 << 20);
    buf_printf(&b, "{\n  \"version\": %d", SIDECAR_VERSION);
    key_str(&b, "file");
    put_string(&b, slash ? slash + 1 : m->output);
    key_str(&b, "format");
    put_string(&b, "ndjson");
    key_str(&b, "compression");
    put_string(&b, compressions[p->compress]);
    key_str(&b, "stream");
    put_string(&b, p->stream);
    if (p->partition && *p->partition) {
        key_str(&b, "partition");
        put_string(&b, p->partition);
    }
    key_str(&b, "source");
    put_string(&b, source);
    key_str(&b, "table");
    put_string(&b, table);
    key_str(&b, "mode");
    put_string(&b, m->spec->mode == MODE_INCREMENTAL ? "incremental" : "full");
    key_str(&b, "key");
    put_names(&b, p->key.v, p->key.n);
    key_str(&b, "where");
    put_string(&b, m->spec->where);
    /* The store that knows the job: verify records its results there. */
    char store[PATH_MAX];
    if (!realpath(state_file(m->state), store))
        snprintf(store, sizeof store, "%s", state_file(m->state));
    key_str(&b, "state");
    put_string(&b, store);
    key_str(&b, "cursor");
    if (p->ncursor)
        put_names(&b, p->key.v, p->ncursor);
    else
        buf_puts(&b, "null");
    key_str(&b, "bounds");
    if (m->range) {
        buf_puts(&b, "{\"lower\": ");
        json_keytuple(&b, &m->range->lower);
        buf_printf(&b, ", \"lower_inclusive\": %s, \"upper\": ",
                   m->range->lower_inclusive ? "true" : "false");
        json_keytuple(&b, &m->range->upper);
        buf_putc(&b, '}');
    } else {
        buf_puts(&b, "null");
    }
    key_str(&b, "high_water_mark");
    json_keytuple(&b, m->high_water);
    key_str(&b, "columns");
    columns(&b, p);
    key_str(&b, "rows");
    json_uint(&b, m->rows);
    key_str(&b, "bytes");
    json_uint(&b, size);
    key_str(&b, "digest");
    buf_printf(&b, "{\"algorithm\": \"%s\", \"value\": \"%s\"}", SIDECAR_DIGEST, hex);
    if (segments(&b, m, err, errlen) < 0) {
        buf_free(&b);
        return -1;
    }
    key_str(&b, "job");
    buf_printf(&b, "{\"id\": %lld, \"attempts\": %lld, \"started_at\": ", (long long)job_id,
               (long long)attempts);
    put_string(&b, started[0] ? started : NULL);
    buf_puts(&b, ", \"finished_at\": ");
    put_string(&b, finished);
    buf_putc(&b, '}');
    key_str(&b, "sluice_version");
    put_string(&b, SLUICE_VERSION);
    buf_puts(&b, "\n}\n");
    int rc = -1;
    if (b.oom)
        snprintf(err, errlen, "%s: out of memory for its sidecar", m->output);
    else
        rc = sidecar_write(m->output, b.data, b.len, err, errlen);
    buf_free(&b);
    return rc;
}
