/* manifest.c - YAML (libyaml's document API) into struct manifest. Every
 * node keeps its line, so every error names FILE:LINE: KEY. */
#include "manifest/manifest.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "job/job.h"
#include "job/partition.h"
#include "output/sink.h"
#include "manifest/password.h"
#include "schedule/envsubst.h"
#include "schedule/suggest.h"
#include "schedule/template.h"
#include "source/tablename.h"

const char *const manifest_spec_names[SPEC_FIELD_COUNT] = {
    [SPEC_CURSOR] = "cursor_field", [SPEC_START] = "start", [SPEC_END] = "end",
    [SPEC_LOOKBACK] = "lookback", [SPEC_STEP] = "step", [SPEC_GRANULARITY] = "granularity",
    [SPEC_MODE] = "mode", [SPEC_PAGING] = "paging", [SPEC_KEY] = "key",
    [SPEC_COLUMNS] = "columns", [SPEC_PARTITIONS] = "partitions", [SPEC_PARALLEL] = "parallel",
    [SPEC_OUTPUT] = "output",
};

struct ctx {
    const char *file; /* as the user named it */
    yaml_document_t *doc;
    const char *dir;
    char *err;
    size_t errlen;
};

static int bad(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* src with control characters written as \n, \t or \xNN into out (n
 * bytes, NUL-terminated): a quoted YAML key or value may hold a line
 * break, and an error stays one line. */
static void one_line(char *out, size_t n, const char *src)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < n; p++) {
        if (*p == '\n')
            o += (size_t)snprintf(out + o, n - o, "\\n");
        else if (*p == '\t')
            o += (size_t)snprintf(out + o, n - o, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(out + o, n - o, "\\x%02X", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
}

/* "FILE:LINE: KEY: message" into c->err; returns -1. */
static int bad(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char msg[1024], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s:%lu: %s: %s", c->file,
             n ? (unsigned long)n->start_mark.line + 1 : 1UL, key, msg);
    one_line(c->err, c->errlen, line);
    return -1;
}

static yaml_node_t *node(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static const char *kind_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list" : "a value";
}

/* A scalar with text: not null, not a list or mapping, no NUL inside. */
static int want_text(struct ctx *c, const yaml_node_t *n, const char *key, const char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return bad(c, n, key, "expected a value, got %s", kind_name(n));
    if (is_null(n))
        return bad(c, n, key, "needs a value");
    if (strlen(scalar(n)) != n->data.scalar.length)
        return bad(c, n, key, "holds a NUL character");
    *out = scalar(n);
    return 0;
}

static int want_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned long long min,
                     unsigned long long max, unsigned long long *out)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    unsigned long long x = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (ULLONG_MAX - (unsigned)(*p - '0')) / 10) {
            x = ULLONG_MAX;
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            continue;
        }
        x = x * 10 + (unsigned)(*p - '0');
    }
    if (p == v || *p)
        return bad(c, n, key, "expected a whole number, got '%s'", v);
    if (x < min || x > max)
        return bad(c, n, key, "%s is out of range %llu-%llu", v, min, max);
    *out = x;
    return 0;
}

static int want_bool(struct ctx *c, const yaml_node_t *n, const char *key, int *out)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return 0;
    }
    return bad(c, n, key, "expected true or false, got '%s'", v);
}

static int want_choice(struct ctx *c, const yaml_node_t *n, const char *key,
                       const char *const *names, int *out)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    char choices[128] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
        strncat(choices, i ? ", " : "", sizeof choices - strlen(choices) - 1);
        strncat(choices, names[i], sizeof choices - strlen(choices) - 1);
    }
    return bad(c, n, key, "expected one of %s, got '%s'", choices, v);
}

static int set_string(struct ctx *c, const yaml_node_t *n, const char *key, char **slot)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    char *d = strdup(v);
    if (!d)
        return bad(c, n, key, "out of memory");
    free(*slot);
    *slot = d;
    return 0;
}

/* A list of column names: a YAML list, or one comma-separated string. */
static int set_list(struct ctx *c, const yaml_node_t *n, const char *key, struct strlist *l)
{
    char why[256];
    strlist_free(l);
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it = n->data.sequence.items.start;
        if (it == n->data.sequence.items.top)
            return bad(c, n, key, "an empty list");
        for (; it < n->data.sequence.items.top; it++) {
            const yaml_node_t *e = node(c, *it);
            const char *v = NULL;
            char ekey[300];
            snprintf(ekey, sizeof ekey, "%s[%ld]", key, (long)(it - n->data.sequence.items.start));
            if (want_text(c, e, ekey, &v) < 0)
                return -1;
            if (strlist_add(l, v) < 0)
                return bad(c, e, ekey, "out of memory");
        }
        return 0;
    }
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    if (spec_column_list(v, l, why, sizeof why) < 0)
        return bad(c, n, key, "%s", why);
    return 0;
}

static int set_duration(struct ctx *c, const yaml_node_t *n, const char *key,
                        struct spec_duration *d)
{
    const char *v = NULL;
    char why[200];
    if (want_text(c, n, key, &v) < 0)
        return -1;
    if (spec_duration_parse(v, d, why, sizeof why) < 0)
        return bad(c, n, key, "%s", why);
    return 0;
}

/* A size: bytes, or digits with K, M or G (powers of 1024), at most 4G. */
static int set_size(struct ctx *c, const yaml_node_t *n, const char *key, size_t *out)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned long long mult = 1;
    if (end != v && *end && !end[1] && strchr("KkMmGg", *end)) {
        char u = (char)(*end | 0x20);
        mult = u == 'k' ? 1ULL << 10 : u == 'm' ? 1ULL << 20 : 1ULL << 30;
        end++;
    }
    if (errno || end == v || *end || v[0] < '0' || v[0] > '9' || x > (4ULL << 30) / mult)
        return bad(c, n, key, "expected a size from 0 to 4G (K, M, G suffixes), got '%s'", v);
    *out = (size_t)(x * mult);
    return 0;
}

static int set_seconds(struct ctx *c, const yaml_node_t *n, const char *key, unsigned *ms)
{
    const char *v = NULL;
    if (want_text(c, n, key, &v) < 0)
        return -1;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0.001 && d <= 3600) || v[0] < '0' || v[0] > '9')
        return bad(c, n, key, "expected seconds from 0.001 to 3600, got '%s'", v);
    *ms = (unsigned)(d * 1000 + 0.5);
    return 0;
}

/* ---- mappings ------------------------------------------------------- */

/* Checks that n is a mapping with scalar keys, each once. */
static int want_mapping(struct ctx *c, const yaml_node_t *n, const char *key)
{
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, key, "expected a mapping (KEY: VALUE lines), got %s", kind_name(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(c, p->key);
        if (k->type != YAML_SCALAR_NODE || is_null(k))
            return bad(c, k, key, "a key must be a plain name");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *e = node(c, q->key);
            if (e->type == YAML_SCALAR_NODE && strcmp(scalar(e), scalar(k)) == 0) {
                char full[300];
                snprintf(full, sizeof full, "%s%s%s", key, *key ? "." : "", scalar(k));
                return bad(c, k, full, "given twice (first on line %lu)",
                           (unsigned long)e->start_mark.line + 1);
            }
        }
    }
    return 0;
}

static int unknown_key(struct ctx *c, const yaml_node_t *k, const char *path,
                       const char *const *known, size_t n, const char *where)
{
    const char *near = suggest_word(scalar(k), known, n);
    if (near)
        return bad(c, k, path, "unknown key%s; did you mean '%s'?", where, near);
    return bad(c, k, path, "unknown key%s", where);
}

/* ---- stream options ------------------------------------------------- */

/* Every key a stream may have; defaults take all but the first two. */
static const char *const STREAM_KEYS[] = {
    "name", "table",
    "source", "mode", "cursor_field", "key", "columns", "where", "paging", "page_size",
    "page_bytes", "checkpoint_every", "start", "end", "lookback", "step", "granularity",
    "retries", "retry_wait", "snapshot", "schedule", "output", "compress", "threads", "keep",
    "enabled", "verify", "partitions", "parallel",
};
#define NSTREAM_KEYS (sizeof STREAM_KEYS / sizeof *STREAM_KEYS)

/* A stream as it is built: the spec plus the manifest's own fields, and
 * the lines of the keys later checks name. */
struct draft {
    struct stream_spec spec;
    char *name, *source, *output, *schedule;
    struct cron_spec cron;
    unsigned long long keep;
    int enabled;
    int verify;
    const yaml_node_t *at_source, *at_output, *at_table, *at_mode;
};

static void draft_free(struct draft *d)
{
    stream_spec_free(&d->spec);
    free(d->name);
    free(d->source);
    free(d->output);
    free(d->schedule);
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) > 128 || s[0] == '-' || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* One option of a stream (or of defaults) into d. */
static int stream_option(struct ctx *c, struct draft *d, const char *k, const yaml_node_t *v,
                         const char *path)
{
    static const char *const pagings[] = {"keyset", "offset", "cursor", NULL};
    static const char *const modes[] = {"full", "incremental", NULL};
    static const char *const compressions[] = {"none", "gzip", "zstd", NULL};
    struct stream_spec *s = &d->spec;
    unsigned long long x;
    int choice;
    char why[256];
    if (strcmp(k, "name") == 0) {
        if (set_string(c, v, path, &d->name) < 0)
            return -1;
        if (!valid_name(d->name))
            return bad(c, v, path, "'%s' is not a stream name: use letters, digits, '_', '-' and '.', not first '-' or '.', at most 128", d->name);
        return 0;
    }
    if (strcmp(k, "table") == 0) {
        char *schema = NULL, *name = NULL;
        if (set_string(c, v, path, &s->table) < 0)
            return -1;
        int rc = table_name_parse(s->table, &schema, &name, why, sizeof why);
        free(schema);
        free(name);
        d->at_table = v;
        return rc < 0 ? bad(c, v, path, "%s", why) : 0;
    }
    if (strcmp(k, "source") == 0) {
        d->at_source = v;
        return set_string(c, v, path, &d->source);
    }
    if (strcmp(k, "mode") == 0) {
        d->at_mode = v;
        if (want_choice(c, v, path, modes, &choice) < 0)
            return -1;
        s->mode = (enum sync_mode)choice;
        return 0;
    }
    if (strcmp(k, "cursor_field") == 0)
        return set_list(c, v, path, &s->cursor);
    if (strcmp(k, "key") == 0)
        return set_list(c, v, path, &s->key);
    if (strcmp(k, "columns") == 0)
        return set_list(c, v, path, &s->columns);
    if (strcmp(k, "where") == 0)
        return set_string(c, v, path, &s->where);
    if (strcmp(k, "paging") == 0) {
        if (want_choice(c, v, path, pagings, &choice) < 0)
            return -1;
        s->paging = (enum paging)choice;
        return 0;
    }
    if (strcmp(k, "page_size") == 0) {
        if (want_uint(c, v, path, 1, SPEC_PAGE_SIZE_MAX, &x) < 0)
            return -1;
        s->page_size = (size_t)x;
        return 0;
    }
    if (strcmp(k, "page_bytes") == 0)
        return set_size(c, v, path, &s->page_bytes);
    if (strcmp(k, "checkpoint_every") == 0) {
        if (want_uint(c, v, path, 0, UINT64_MAX, &x) < 0)
            return -1;
        s->checkpoint_every = x;
        return 0;
    }
    if (strcmp(k, "start") == 0)
        return set_string(c, v, path, &s->start);
    if (strcmp(k, "end") == 0)
        return set_string(c, v, path, &s->end);
    if (strcmp(k, "lookback") == 0)
        return set_duration(c, v, path, &s->lookback);
    if (strcmp(k, "step") == 0)
        return set_duration(c, v, path, &s->step);
    if (strcmp(k, "granularity") == 0)
        return set_duration(c, v, path, &s->granularity);
    if (strcmp(k, "retries") == 0) {
        if (want_uint(c, v, path, 0, SPEC_RETRIES_MAX, &x) < 0)
            return -1;
        s->retries = (unsigned)x;
        return 0;
    }
    if (strcmp(k, "retry_wait") == 0)
        return set_seconds(c, v, path, &s->retry_wait_ms);
    if (strcmp(k, "snapshot") == 0)
        return want_bool(c, v, path, &s->snapshot);
    if (strcmp(k, "schedule") == 0) {
        if (set_string(c, v, path, &d->schedule) < 0)
            return -1;
        if (cron_parse(&d->cron, d->schedule, why, sizeof why) < 0)
            return bad(c, v, path, "%s", why);
        return 0;
    }
    if (strcmp(k, "output") == 0) {
        d->at_output = v;
        if (set_string(c, v, path, &d->output) < 0)
            return -1;
        if (template_check(d->output, NULL, why, sizeof why) < 0)
            return bad(c, v, path, "%s", why);
        return 0;
    }
    if (strcmp(k, "compress") == 0) {
        const char *text = NULL;
        if (want_text(c, v, path, &text) < 0)
            return -1;
        const char *colon = strchr(text, ':');
        size_t n = colon ? (size_t)(colon - text) : strlen(text);
        for (choice = 0; compressions[choice]; choice++)
            if (strlen(compressions[choice]) == n && strncmp(text, compressions[choice], n) == 0)
                break;
        if (!compressions[choice])
            return bad(c, v, path, "expected none, gzip[:LEVEL] or zstd[:LEVEL], got '%s'", text);
        s->compress = choice;
        s->compress_level = 0;
        if (!colon)
            return 0;
        enum sink_compress kind = (enum sink_compress)choice;
        char *end;
        errno = 0;
        long level = strtol(colon + 1, &end, 10);
        if (kind == SINK_PLAIN)
            return bad(c, v, path, "none takes no level, got '%s'", text);
        if (errno || end == colon + 1 || *end || colon[1] < '0' || colon[1] > '9' ||
            level < sink_level_min(kind) || level > sink_level_max(kind))
            return bad(c, v, path, "%s level: expected %d to %d, got '%s'", compressions[choice],
                       sink_level_min(kind), sink_level_max(kind), colon + 1);
        s->compress_level = (int)level;
        return 0;
    }
    if (strcmp(k, "threads") == 0) {
        if (want_uint(c, v, path, 1, SINK_THREADS_MAX, &x) < 0)
            return -1;
        s->threads = (unsigned)x;
        return 0;
    }
    if (strcmp(k, "partitions") == 0) {
        if (want_uint(c, v, path, 1, PARTITIONS_MAX, &x) < 0)
            return -1;
        s->partitions = (unsigned)x;
        return 0;
    }
    if (strcmp(k, "parallel") == 0) {
        if (want_uint(c, v, path, 1, PARTITIONS_MAX, &x) < 0)
            return -1;
        s->parallel = (unsigned)x;
        return 0;
    }
    if (strcmp(k, "keep") == 0)
        return want_uint(c, v, path, 1, 1000000, &d->keep);
    if (strcmp(k, "enabled") == 0)
        return want_bool(c, v, path, &d->enabled);
    if (strcmp(k, "verify") == 0)
        return want_bool(c, v, path, &d->verify);
    assert(0 && "a key of STREAM_KEYS without a case");
    return -1;
}

/* Applies the mapping n (a stream, or defaults when is_defaults) to d. */
static int stream_options(struct ctx *c, struct draft *d, const yaml_node_t *n,
                          const char *prefix, int is_defaults)
{
    const char *const *known = is_defaults ? STREAM_KEYS + 2 : STREAM_KEYS;
    size_t nknown = is_defaults ? NSTREAM_KEYS - 2 : NSTREAM_KEYS;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        char path[300];
        snprintf(path, sizeof path, "%s.%s", prefix, scalar(k));
        size_t i;
        for (i = 0; i < nknown && strcmp(scalar(k), known[i]) != 0; i++)
            ;
        if (i == nknown) {
            if (is_defaults && (strcmp(scalar(k), "name") == 0 || strcmp(scalar(k), "table") == 0))
                return bad(c, k, path, "belongs to each stream, not to defaults");
            return unknown_key(c, k, path, known, nknown, is_defaults ? " in defaults" : " in a stream");
        }
        if (stream_option(c, d, scalar(k), v, path) < 0)
            return -1;
    }
    return 0;
}

/* ---- sources -------------------------------------------------------- */

struct source_entry {
    const char *name;
    char *url; /* resolved: may hold a password */
};

static char *resolve_path(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, p);
    return out;
}

static int source_entry(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v,
                        struct source_entry *e)
{
    char path[300], key[320], why[512];
    snprintf(path, sizeof path, "sources.%s", scalar(k));
    e->name = scalar(k);
    if (!valid_name(e->name))
        return bad(c, k, path, "'%s' is not a source name: use letters, digits, '_', '-' and '.'",
                   e->name);
    const yaml_node_t *url = v, *pwfile = NULL;
    if (v->type == YAML_MAPPING_NODE) {
        static const char *const keys[] = {"url", "password_file"};
        if (want_mapping(c, v, path) < 0)
            return -1;
        url = NULL;
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
            const yaml_node_t *pk = node(c, p->key);
            snprintf(key, sizeof key, "%s.%s", path, scalar(pk));
            if (strcmp(scalar(pk), "url") == 0)
                url = node(c, p->value);
            else if (strcmp(scalar(pk), "password_file") == 0)
                pwfile = node(c, p->value);
            else
                return unknown_key(c, pk, key, keys, 2, " in a source");
        }
        if (!url)
            return bad(c, v, path, "needs url");
        snprintf(key, sizeof key, "%s.url", path);
    } else {
        snprintf(key, sizeof key, "%s", path);
    }
    const char *text = NULL;
    if (want_text(c, url, key, &text) < 0)
        return -1;
    if (envsubst(&e->url, text, NULL, NULL, why, sizeof why) < 0)
        return bad(c, url, key, "%s", why);
    if (!e->url[0])
        return bad(c, url, key, "is empty");
    if (!pwfile)
        return 0;
    snprintf(key, sizeof key, "%s.password_file", path);
    char *file = NULL, *abs = NULL, *password = NULL, *joined = NULL;
    if (want_text(c, pwfile, key, &text) < 0)
        return -1;
    if (envsubst(&file, text, NULL, NULL, why, sizeof why) < 0)
        return bad(c, pwfile, key, "%s", why);
    int rc = 0;
    if (!(abs = resolve_path(c->dir, file)))
        rc = bad(c, pwfile, key, "out of memory");
    else if (password_read_file(&password, abs, why, sizeof why) < 0)
        rc = bad(c, pwfile, key, "%s", why);
    else if (password_join_url(&joined, e->url, password, why, sizeof why) < 0)
        rc = bad(c, pwfile, key, "%s", why);
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    free(file);
    free(abs);
    if (rc == 0) {
        explicit_bzero(e->url, strlen(e->url));
        free(e->url);
        e->url = joined;
    }
    return rc;
}

/* ---- the document --------------------------------------------------- */

static const char *const TOP_KEYS[] = {"version", "state", "timezone", "concurrency",
                                       "defaults", "sources", "streams"};
#define NTOP_KEYS (sizeof TOP_KEYS / sizeof *TOP_KEYS)

static const yaml_node_t *top_value(struct ctx *c, const yaml_node_t *root, const char *key)
{
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
        if (strcmp(scalar(node(c, p->key)), key) == 0)
            return node(c, p->value);
    return NULL;
}

/* '%', '{' and '}' of the manifest's directory written so that a template
 * reads them as literal text. */
static char *template_prefix(const char *dir)
{
    size_t n = strlen(dir);
    char *out = malloc(2 * n + 2);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = dir; *p; p++) {
        if (*p == '%' || *p == '{' || *p == '}')
            *o++ = *p;
        *o++ = *p;
    }
    if (o == out || o[-1] != '/')
        *o++ = '/';
    *o = '\0';
    return out;
}

static void template_vars_of(const struct manifest_stream *s, char **schema, char **table,
                             struct template_vars *v)
{
    char why[200];
    *schema = *table = NULL;
    if (table_name_parse(s->spec.table, schema, table, why, sizeof why) < 0)
        *schema = *table = NULL;
    v->stream = s->name;
    v->table = *table;
    v->schema = *schema;
}

/* Builds stream i from the defaults and its own mapping. */
static int build_stream(struct ctx *c, struct manifest *m, const yaml_node_t *defaults,
                        const yaml_node_t *n, size_t i, const struct source_entry *sources,
                        size_t nsources)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "streams[%zu]", i);
    if (want_mapping(c, n, prefix) < 0)
        return -1;
    struct draft d = {.enabled = 1};
    stream_spec_init(&d.spec);
    int rc = 0;
    if (defaults)
        rc = stream_options(c, &d, defaults, "defaults", 1);
    if (rc == 0)
        rc = stream_options(c, &d, n, prefix, 0);
    char path[300], why[512];
    if (rc == 0 && !d.name)
        rc = bad(c, n, prefix, "needs name");
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(m->streams[j].name, d.name) == 0)
            rc = bad(c, n, prefix, "stream name '%s' is used twice (first on line %d)", d.name,
                     m->streams[j].line);
    if (rc == 0 && !d.spec.table)
        rc = bad(c, n, prefix, "needs table");
    if (rc == 0 && !d.source)
        rc = bad(c, n, prefix, "needs source (here or in defaults)");
    const struct source_entry *src = NULL;
    for (size_t j = 0; rc == 0 && j < nsources; j++)
        if (strcmp(sources[j].name, d.source) == 0)
            src = &sources[j];
    if (rc == 0 && !src) {
        const char **names = malloc((nsources + 1) * sizeof *names);
        for (size_t j = 0; names && j < nsources; j++)
            names[j] = sources[j].name;
        const char *near = names ? suggest_word(d.source, names, nsources) : NULL;
        snprintf(path, sizeof path, "%s.source", prefix);
        if (near)
            rc = bad(c, d.at_source, path, "no source '%s' in sources; did you mean '%s'?",
                     d.source, near);
        else
            rc = bad(c, d.at_source, path, "no source '%s' in sources", d.source);
        free(names);
    }
    if (rc == 0 && !d.output)
        rc = bad(c, n, prefix, "needs output (a path template, here or in defaults)");
    /* The output is a template until a run names its file; the checks need
     * only know that there will be one. */
    char *output = d.spec.output;
    if (!output)
        d.spec.output = d.output;
    if (rc == 0 && stream_spec_check(&d.spec, manifest_spec_names, why, sizeof why) < 0)
        rc = bad(c, d.at_mode ? d.at_mode : n, prefix, "%s", why);
    d.spec.output = output;
    unsigned uses = 0;
    if (rc == 0)
        template_check(d.output, &uses, NULL, 0);
    if (rc == 0 && d.spec.mode == MODE_INCREMENTAL && !(uses & TEMPLATE_USES_TIME)) {
        snprintf(path, sizeof path, "%s.output", prefix);
        rc = bad(c, d.at_output, path,
                 "an incremental stream writes a new file every run: the template needs the run's time, e.g. %%Y%%m%%dT%%H%%M%%SZ");
    }
    struct manifest_stream *s = &m->streams[i];
    if (rc == 0) {
        char *tp = template_prefix(c->dir);
        s->line = (int)n->start_mark.line + 1;
        s->name = d.name;
        s->source_name = d.source;
        s->output_text = d.output;
        s->schedule = d.schedule;
        s->cron = d.cron;
        s->keep = (unsigned)d.keep;
        s->enabled = d.enabled;
        s->verify = d.verify;
        s->spec = d.spec;
        d.name = d.source = d.output = d.schedule = NULL;
        memset(&d.spec, 0, sizeof d.spec);
        size_t olen = strlen(s->output_text) + (tp ? strlen(tp) : 0) + 1;
        s->output = tp ? malloc(olen) : NULL;
        if (s->output)
            snprintf(s->output, olen, "%s%s", s->output_text[0] == '/' ? "" : tp, s->output_text);
        free(tp);
        s->spec.name = strdup(s->name);
        s->spec.source = strdup(src->url);
        s->spec.state_path = strdup(m->state_path);
        s->spec.meta = 1;
        if (!s->output || !s->spec.name || !s->spec.source || !s->spec.state_path)
            rc = bad(c, n, prefix, "out of memory");
    }
    draft_free(&d);
    m->nstreams = i + (s->name ? 1 : 0);
    if (rc < 0)
        return -1;
    /* Two streams must never write the same file: their outputs at one
     * moment must differ. */
    for (size_t j = 0; j < i; j++) {
        char *sa, *ta, *sb, *tb, *a = NULL, *b = NULL;
        struct template_vars va, vb;
        template_vars_of(s, &sa, &ta, &va);
        template_vars_of(&m->streams[j], &sb, &tb, &vb);
        int same = template_expand(&a, s->output, &va, 0, NULL, 0) == 0 &&
                   template_expand(&b, m->streams[j].output, &vb, 0, NULL, 0) == 0 &&
                   strcmp(a, b) == 0;
        free(sa);
        free(ta);
        free(sb);
        free(tb);
        free(a);
        free(b);
        if (same) {
            snprintf(path, sizeof path, "%s.output", prefix);
            return bad(c, n, path,
                       "writes the same files as stream '%s' (line %d): put {stream} in the template",
                       m->streams[j].name, m->streams[j].line);
        }
    }
    return 0;
}

static int parse_root(struct ctx *c, struct manifest *m, const yaml_node_t *root)
{
    if (root->type != YAML_MAPPING_NODE)
        return bad(c, root, "manifest", "expected a mapping (KEY: VALUE lines), got %s",
                   kind_name(root));
    if (want_mapping(c, root, "") < 0)
        return -1;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(c, p->key);
        size_t i;
        for (i = 0; i < NTOP_KEYS && strcmp(scalar(k), TOP_KEYS[i]) != 0; i++)
            ;
        if (i == NTOP_KEYS) {
            for (size_t j = 2; j < NSTREAM_KEYS; j++)
                if (strcmp(scalar(k), STREAM_KEYS[j]) == 0)
                    return bad(c, k, scalar(k), "unknown key at the top; stream options go in a stream or in defaults");
            return unknown_key(c, k, scalar(k), TOP_KEYS, NTOP_KEYS, "");
        }
    }
    const yaml_node_t *v;
    unsigned long long x;
    if ((v = top_value(c, root, "version"))) {
        if (want_uint(c, v, "version", 0, ULLONG_MAX, &x) < 0)
            return -1;
        if (x != MANIFEST_VERSION)
            return bad(c, v, "version", "version %llu is not one this sluice reads (%d)", x,
                       MANIFEST_VERSION);
    }
    if ((v = top_value(c, root, "state"))) {
        const char *s = NULL;
        if (want_text(c, v, "state", &s) < 0)
            return -1;
        if (!(m->state_path = resolve_path(c->dir, s)))
            return bad(c, v, "state", "out of memory");
    } else {
        char def[PATH_MAX];
        if (job_default_state_path(def, sizeof def) < 0 || !(m->state_path = strdup(def)))
            return bad(c, root, "state", "cannot name a default state store: set state:");
    }
    if ((v = top_value(c, root, "timezone"))) {
        char why[512];
        if (set_string(c, v, "timezone", &m->timezone) < 0)
            return -1;
        if (cron_check_timezone(m->timezone, why, sizeof why) < 0)
            return bad(c, v, "timezone", "%s", why);
    } else if (!(m->timezone = strdup("UTC"))) {
        return bad(c, root, "timezone", "out of memory");
    }
    m->concurrency = 1;
    if ((v = top_value(c, root, "concurrency"))) {
        if (want_uint(c, v, "concurrency", 1, MANIFEST_CONCURRENCY_MAX, &x) < 0)
            return -1;
        m->concurrency = (unsigned)x;
    }
    const yaml_node_t *defaults = top_value(c, root, "defaults");
    if (defaults && is_null(defaults))
        defaults = NULL;
    if (defaults) {
        if (want_mapping(c, defaults, "defaults") < 0)
            return -1;
        /* Checked once here, so an error names defaults, not a stream. */
        struct draft d = {.enabled = 1};
        stream_spec_init(&d.spec);
        int rc = stream_options(c, &d, defaults, "defaults", 1);
        draft_free(&d);
        if (rc < 0)
            return -1;
    }

    const yaml_node_t *srcs = top_value(c, root, "sources");
    size_t nsources = 0;
    struct source_entry *sources = NULL;
    int rc = 0;
    if (srcs && !is_null(srcs)) {
        if (want_mapping(c, srcs, "sources") < 0)
            return -1;
        size_t n = (size_t)(srcs->data.mapping.pairs.top - srcs->data.mapping.pairs.start);
        sources = calloc(n ? n : 1, sizeof *sources);
        if (!sources)
            return bad(c, srcs, "sources", "out of memory");
        for (yaml_node_pair_t *p = srcs->data.mapping.pairs.start;
             rc == 0 && p < srcs->data.mapping.pairs.top; p++, nsources++)
            rc = source_entry(c, node(c, p->key), node(c, p->value), &sources[nsources]);
    }
    const yaml_node_t *streams = top_value(c, root, "streams");
    if (rc == 0 && !streams)
        rc = bad(c, root, "streams", "missing: a manifest needs at least one stream");
    if (rc == 0 && streams->type != YAML_SEQUENCE_NODE)
        rc = bad(c, streams, "streams", "expected a list of streams (- name: ...), got %s",
                 is_null(streams) ? "nothing" : kind_name(streams));
    size_t n = rc == 0 ? (size_t)(streams->data.sequence.items.top -
                                  streams->data.sequence.items.start) : 0;
    if (rc == 0 && n == 0)
        rc = bad(c, streams, "streams", "an empty list: a manifest needs at least one stream");
    if (rc == 0 && !(m->streams = calloc(n, sizeof *m->streams)))
        rc = bad(c, streams, "streams", "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = build_stream(c, m, defaults, node(c, streams->data.sequence.items.start[i]), i,
                          sources, nsources);
    for (size_t i = 0; i < nsources; i++) {
        if (sources[i].url) {
            explicit_bzero(sources[i].url, strlen(sources[i].url));
            free(sources[i].url);
        }
    }
    free(sources);
    return rc;
}

static char *absolute_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = copy;
    }
    char *abs = realpath(dir, NULL);
    free(copy);
    return abs;
}

int manifest_load(struct manifest **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    struct manifest *m = calloc(1, sizeof *m);
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_doc = 0, rc = 0;
    if (!m || !(m->path = strdup(path)) || !yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        manifest_free(m);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    struct ctx c = {.file = path, .doc = &doc, .err = err, .errlen = errlen};
    if (!(m->dir = absolute_dir(path))) {
        snprintf(err, errlen, "%s: cannot resolve its directory: %s", path, strerror(errno));
        rc = -1;
    } else if (!yaml_parser_load(&parser, &doc)) {
        /* libyaml's words say what broke, never the text itself. */
        const char *ctxt = parser.context ? parser.context : "";
        snprintf(err, errlen, "%s:%lu: YAML: %s%s%s%s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "cannot parse", *ctxt ? " " : "", ctxt,
                 strstr(ctxt, "alias") ? " (a value that starts with * must be quoted: schedule: \"*/15 * * * *\")" : "");
        rc = -1;
    } else {
        have_doc = 1;
        c.dir = m->dir;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            snprintf(err, errlen, "%s:1: manifest: the file is empty: a manifest needs streams",
                     path);
            rc = -1;
        } else {
            rc = parse_root(&c, m, root);
        }
        if (rc == 0) {
            yaml_document_t next;
            if (!yaml_parser_load(&parser, &next)) {
                snprintf(err, errlen, "%s:%lu: YAML: %s", path,
                         (unsigned long)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "cannot parse");
                rc = -1;
            } else {
                yaml_node_t *r2 = yaml_document_get_root_node(&next);
                if (r2) {
                    snprintf(err, errlen, "%s:%lu: manifest: a second YAML document; a manifest is one",
                             path, (unsigned long)r2->start_mark.line + 1);
                    rc = -1;
                }
                yaml_document_delete(&next);
            }
        }
    }
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc < 0) {
        manifest_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nstreams; i++) {
        struct manifest_stream *s = &m->streams[i];
        if (s->spec.source)
            explicit_bzero(s->spec.source, strlen(s->spec.source));
        stream_spec_free(&s->spec);
        free(s->name);
        free(s->source_name);
        free(s->output);
        free(s->output_text);
        free(s->schedule);
    }
    free(m->streams);
    free(m->path);
    free(m->dir);
    free(m->state_path);
    free(m->timezone);
    free(m);
}

const struct manifest_stream *manifest_stream(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nstreams; i++)
        if (strcmp(m->streams[i].name, name) == 0)
            return &m->streams[i];
    return NULL;
}

const char *manifest_suggest_stream(const struct manifest *m, const char *name)
{
    const char **names = malloc((m->nstreams + 1) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < m->nstreams; i++)
        names[i] = m->streams[i].name;
    const char *near = suggest_word(name, names, m->nstreams);
    free(names);
    return near;
}
