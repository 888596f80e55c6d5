/* record.c - a sidecar read for verify (record.h). */
#include "verify/record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "output/keyjson.h"
#include "output/sidecar.h"

#define RECORD_MAX_BYTES ((off_t)256 << 20)

static enum record_status fail(enum record_status st, char *err, size_t errlen,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum record_status fail(enum record_status st, char *err, size_t errlen,
                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return st;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* A copy of the string member, or NULL (and *bad set) when it is neither
 * a string nor null. */
static char *string_member(const json_t *o, const char *key, int *bad)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    char *s = strdup(json_string_value(v));
    if (!s)
        *bad = 1;
    return s;
}

static int names(const json_t *a, struct strlist *out)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(a))
        return -1;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || strlist_add(out, json_string_value(v)) < 0)
            return -1;
    }
    return 0;
}

static int columns(const json_t *a, struct record *r)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return -1;
    r->cols = calloc(json_array_size(a), sizeof *r->cols);
    if (!r->cols)
        return -1;
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        int bad = 0;
        struct record_column *c = &r->cols[r->ncols++];
        c->name = string_member(v, "name", &bad);
        c->type = string_member(v, "type", &bad);
        c->json_type = string_member(v, "json_type", &bad);
        if (bad || !c->name)
            return -1;
    }
    return 0;
}

static int segments(const json_t *a, struct record *r)
{
    if (!json_is_array(a))
        return -1;
    r->segs = calloc(json_array_size(a) ? json_array_size(a) : 1, sizeof *r->segs);
    if (!r->segs)
        return -1;
    size_t i;
    const json_t *v;
    uint64_t at = 0;
    json_array_foreach(a, i, v) {
        struct record_segment *s = &r->segs[r->nsegs++];
        const json_t *rows = json_object_get(v, "rows"), *bytes = json_object_get(v, "bytes");
        const char *digest = json_string_value(json_object_get(v, "digest"));
        if (!json_is_integer(rows) || json_integer_value(rows) < 0 || !json_is_array(bytes) ||
            json_array_size(bytes) != 2 || !json_is_integer(json_array_get(bytes, 0)) ||
            !json_is_integer(json_array_get(bytes, 1)) || !digest || strlen(digest) != 32)
            return -1;
        s->rows = (uint64_t)json_integer_value(rows);
        s->start = (uint64_t)json_integer_value(json_array_get(bytes, 0));
        s->end = (uint64_t)json_integer_value(json_array_get(bytes, 1));
        memcpy(s->digest, digest, 33);
        const json_t *first = json_object_get(v, "first"), *last = json_object_get(v, "last");
        if ((first && !json_is_null(first) && keyjson_parse(first, &s->first) < 0) ||
            (last && !json_is_null(last) && keyjson_parse(last, &s->last) < 0))
            return -1;
        /* Segments tile the file, in order. */
        if (s->start != at || s->end < s->start)
            return -1;
        at = s->end;
    }
    return at == r->bytes ? 0 : -1;
}

static int bounds(const json_t *b, struct record *r)
{
    if (!b || json_is_null(b))
        return 0;
    if (!json_is_object(b))
        return -1;
    r->has_bounds = 1;
    const json_t *lower = json_object_get(b, "lower"), *upper = json_object_get(b, "upper");
    r->lower_inclusive = json_is_true(json_object_get(b, "lower_inclusive"));
    if ((lower && !json_is_null(lower) && keyjson_parse(lower, &r->lower) < 0) ||
        (upper && !json_is_null(upper) && keyjson_parse(upper, &r->upper) < 0))
        return -1;
    return 0;
}

/* The sidecar's fields into r. */
static enum record_status fill(const json_t *root, struct record *r, char *err, size_t errlen)
{
    const char *path = r->sidecar_path;
    int bad = 0;
    r->stream = string_member(root, "stream", &bad);
    r->source = string_member(root, "source", &bad);
    r->table = string_member(root, "table", &bad);
    r->mode = string_member(root, "mode", &bad);
    r->where = string_member(root, "where", &bad);
    r->compression = string_member(root, "compression", &bad);
    r->partition = string_member(root, "partition", &bad);
    r->state_path = string_member(root, "state", &bad);
    const json_t *rows = json_object_get(root, "rows"), *bytes = json_object_get(root, "bytes");
    const json_t *digest = json_object_get(root, "digest");
    const char *sha = json_string_value(json_object_get(digest, "value"));
    const char *alg = json_string_value(json_object_get(digest, "algorithm"));
    if (bad || !r->stream || !r->source || !r->table || !r->compression ||
        !json_is_integer(rows) || !json_is_integer(bytes) || !sha || strlen(sha) != 64 || !alg ||
        strcmp(alg, SIDECAR_DIGEST) != 0)
        return fail(RECORD_INVALID, err, errlen, "%s: not a complete sluice sidecar", path);
    r->rows = (uint64_t)json_integer_value(rows);
    r->bytes = (uint64_t)json_integer_value(bytes);
    memcpy(r->sha256, sha, 65);
    struct strlist cursor = {0};
    const json_t *cur = json_object_get(root, "cursor");
    if (names(json_object_get(root, "key"), &r->key) < 0 || r->key.n == 0 ||
        (cur && !json_is_null(cur) && names(cur, &cursor) < 0) ||
        columns(json_object_get(root, "columns"), r) < 0 ||
        bounds(json_object_get(root, "bounds"), r) < 0) {
        strlist_free(&cursor);
        return fail(RECORD_INVALID, err, errlen, "%s: not a complete sluice sidecar", path);
    }
    r->ncursor = cursor.n;
    strlist_free(&cursor);
    const json_t *segs = json_object_get(root, "segments");
    if (!segs)
        return fail(RECORD_INVALID, err, errlen,
                    "%s: the sidecar records no checkpoint segments (written by an older sluice); only a sidecar with segments can be verified",
                    path);
    if (segments(segs, r) < 0)
        return fail(RECORD_INVALID, err, errlen,
                    "%s: its segments do not tile the %llu bytes it records", path,
                    (unsigned long long)r->bytes);
    return RECORD_OK;
}

enum record_status record_load(const char *path, struct record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    size_t n = strlen(path);
    int given_sidecar = has_suffix(path, SIDECAR_SUFFIX);
    r->sidecar_path = malloc(n + sizeof SIDECAR_SUFFIX);
    if (!r->sidecar_path)
        return fail(RECORD_NOMEM, err, errlen, "out of memory");
    memcpy(r->sidecar_path, path, n + 1);
    if (!given_sidecar)
        memcpy(r->sidecar_path + n, SIDECAR_SUFFIX, sizeof SIDECAR_SUFFIX);
    struct stat st;
    if (stat(r->sidecar_path, &st) < 0) {
        if (errno == ENOENT)
            return fail(RECORD_NO_SIDECAR, err, errlen,
                        "%s has no sidecar (%s): only outputs written with --meta or by a manifest can be verified",
                        path, r->sidecar_path);
        return fail(RECORD_NO_SIDECAR, err, errlen, "%s: %s", r->sidecar_path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > RECORD_MAX_BYTES)
        return fail(RECORD_INVALID, err, errlen, "%s: not a sluice sidecar", r->sidecar_path);
    json_error_t jerr;
    json_t *root = json_load_file(r->sidecar_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return fail(RECORD_INVALID, err, errlen, "%s: not a sluice sidecar (not a JSON object)",
                    r->sidecar_path);
    }
    enum record_status rs = RECORD_OK;
    const json_t *version = json_object_get(root, "version");
    const char *file = json_string_value(json_object_get(root, "file"));
    const char *slash = strrchr(r->sidecar_path, '/');
    size_t dir = slash ? (size_t)(slash - r->sidecar_path + 1) : 0;
    if (!json_is_integer(version) || !file || strchr(file, '/')) {
        rs = fail(RECORD_INVALID, err, errlen, "%s: not a sluice sidecar", r->sidecar_path);
    } else if (json_integer_value(version) > SIDECAR_VERSION) {
        rs = fail(RECORD_NEWER, err, errlen,
                  "%s: sidecar version %lld was written by a newer sluice (this one reads %d)",
                  r->sidecar_path, (long long)json_integer_value(version), SIDECAR_VERSION);
    } else if (json_integer_value(version) != SIDECAR_VERSION) {
        rs = fail(RECORD_INVALID, err, errlen, "%s: unknown sidecar version %lld",
                  r->sidecar_path, (long long)json_integer_value(version));
    } else if (!(r->data_path = malloc(dir + strlen(file) + 1))) {
        rs = fail(RECORD_NOMEM, err, errlen, "out of memory");
    } else {
        memcpy(r->data_path, r->sidecar_path, dir);
        strcpy(r->data_path + dir, file);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!given_sidecar && strcmp(base, file) != 0)
            rs = fail(RECORD_OTHER_FILE, err, errlen,
                      "%s: its sidecar describes another file (%s)", path, file);
        else
            rs = fill(root, r, err, errlen);
    }
    json_decref(root);
    return rs;
}

void record_free(struct record *r)
{
    free(r->data_path);
    free(r->sidecar_path);
    free(r->stream);
    free(r->source);
    free(r->table);
    free(r->mode);
    free(r->where);
    free(r->compression);
    free(r->partition);
    free(r->state_path);
    strlist_free(&r->key);
    for (size_t i = 0; i < r->ncols; i++) {
        free(r->cols[i].name);
        free(r->cols[i].type);
        free(r->cols[i].json_type);
    }
    free(r->cols);
    key_clear(&r->lower);
    key_clear(&r->upper);
    for (size_t i = 0; i < r->nsegs; i++) {
        key_clear(&r->segs[i].first);
        key_clear(&r->segs[i].last);
    }
    free(r->segs);
    memset(r, 0, sizeof *r);
}
