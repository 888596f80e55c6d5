/* parts.c - the files of a partitioned job's output (parts.h). */
#include "output/parts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/errbuf.h"
#include "output/durable.h"
#include "output/keyjson.h"

/* 0 when a name of len characters fitted in n bytes. */
static int named(size_t n, int len)
{
    return len > 0 && (size_t)len < n ? 0 : -1;
}

int parts_path(char *out, size_t n, const char *output, unsigned index)
{
    return named(n, snprintf(out, n, "%s.part-%04u", output, index));
}

int parts_record_path(char *out, size_t n, const char *output, unsigned index)
{
    return named(n, snprintf(out, n, "%s.part-%04u.json", output, index));
}

int parts_index_path(char *out, size_t n, const char *output)
{
    return named(n, snprintf(out, n, "%s.parts.json", output));
}

int parts_plan_path(char *out, size_t n, const char *output)
{
    return named(n, snprintf(out, n, "%s.plan.json", output));
}

int parts_read_json(const char *path, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    *out = NULL;
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 1;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (access(path, F_OK) < 0 && errno == ENOENT)
            return 1; /* removed meanwhile */
        return errbuf_fail(err, errlen, -1, "cannot read %s: %s (line %d)", path, je.text, je.line);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return errbuf_fail(err, errlen, -1, "cannot read %s: not a JSON object", path);
    }
    *out = j;
    return 0;
}

int parts_sha256(const char *path, char hex[65], uint64_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "cannot open %s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    int rc = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
                 ? 0 : errbuf_fail(err, errlen, -1, "cannot compute SHA-256: out of memory");
    *size = 0;
    while (rc == 0) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = errbuf_fail(err, errlen, -1, "cannot read %s: %s", path, strerror(errno));
        if (n <= 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        *size += (uint64_t)n;
    }
    unsigned char d[32];
    unsigned dlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != 32))
        rc = errbuf_fail(err, errlen, -1, "cannot compute SHA-256 of %s", path);
    for (unsigned i = 0; rc == 0 && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    EVP_MD_CTX_free(md);
    free(buf);
    close(fd);
    return rc;
}

static json_t *tuple_or_null(const struct keytuple *t)
{
    return t ? keyjson_tuple(t) : json_null();
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int parts_write_record(const char *output, const struct part_desc *d, char *err, size_t errlen)
{
    char part[4200], rec[4200], hex[65];
    uint64_t bytes;
    if (parts_path(part, sizeof part, output, d->index) < 0 ||
        parts_record_path(rec, sizeof rec, output, d->index) < 0)
        return errbuf_fail(err, errlen, -1, "%s: path too long", output);
    if (parts_sha256(part, hex, &bytes, err, errlen) < 0)
        return -1;
    json_t *j = json_pack("{sssisssisisssososbsbsIsIss}",
                          "sluice", "part", "version", 1, "plan", d->plan,
                          "index", (int)d->index, "partitions", (int)d->partitions,
                          "file", base_name(part),
                          "after", tuple_or_null(d->after), "upto", tuple_or_null(d->upto),
                          "after_inclusive", d->after_inclusive, "empty", d->empty,
                          "rows", (json_int_t)d->rows, "bytes", (json_int_t)bytes,
                          "sha256", hex);
    if (!j)
        return errbuf_fail(err, errlen, -1, "out of memory");
    if (json_object_set_new(j, "stream", json_string(d->stream)) < 0 ||
        json_object_set_new(j, "compression",
                            json_string(d->compression)) < 0) {
        json_decref(j);
        return errbuf_fail(err, errlen, -1, "out of memory");
    }
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text)
        return errbuf_fail(err, errlen, -1, "out of memory");
    int rc = durable_write(rec, text, strlen(text), 0, err, errlen);
    free(text);
    return rc;
}

int parts_read_record(const char *path, json_t **out, char *err, size_t errlen)
{
    int rc = parts_read_json(path, out, err, errlen);
    if (rc != 0)
        return rc;
    const char *kind = json_string_value(json_object_get(*out, "sluice"));
    if (!kind || strcmp(kind, "part") != 0 || !json_string_value(json_object_get(*out, "plan")) ||
        !json_is_integer(json_object_get(*out, "index")) ||
        !json_is_integer(json_object_get(*out, "bytes")) ||
        !json_string_value(json_object_get(*out, "sha256"))) {
        json_decref(*out);
        *out = NULL;
        return errbuf_fail(err, errlen, -1, "%s is not a sluice part record", path);
    }
    return 0;
}

int parts_record_counts(const char *output, unsigned index, uint64_t *rows, uint64_t *bytes)
{
    char rec[4200], err[256];
    json_t *j;
    if (parts_record_path(rec, sizeof rec, output, index) < 0 ||
        parts_read_record(rec, &j, err, sizeof err) != 0)
        return -1;
    *rows = (uint64_t)json_integer_value(json_object_get(j, "rows"));
    *bytes = (uint64_t)json_integer_value(json_object_get(j, "bytes"));
    json_decref(j);
    return 0;
}

int parts_record_done(const char *output, const char *plan, unsigned index)
{
    char rec[4200], part[4200], err[256];
    json_t *j = NULL;
    if (parts_record_path(rec, sizeof rec, output, index) < 0 ||
        parts_path(part, sizeof part, output, index) < 0 ||
        parts_read_record(rec, &j, err, sizeof err) != 0)
        return 0;
    struct stat st;
    int done = strcmp(json_string_value(json_object_get(j, "plan")), plan) == 0 &&
               json_integer_value(json_object_get(j, "index")) == (json_int_t)index &&
               stat(part, &st) == 0 &&
               (json_int_t)st.st_size == json_integer_value(json_object_get(j, "bytes"));
    json_decref(j);
    return done;
}

/* ---- the shared plan ---- */

void shared_plan_clear(struct shared_plan *p)
{
    free(p->stream);
    free(p->fingerprint);
    key_clear(&p->range.lower);
    key_clear(&p->range.upper);
    for (unsigned i = 0; p->bounds && i + 1 < p->partitions; i++)
        key_clear(&p->bounds[i]);
    free(p->bounds);
    memset(p, 0, sizeof *p);
}

int parts_write_plan(const char *output, const struct shared_plan *p, char *err, size_t errlen)
{
    char path[4200];
    if (parts_plan_path(path, sizeof path, output) < 0)
        return errbuf_fail(err, errlen, -1, "%s: path too long", output);
    json_t *bounds = json_array();
    for (unsigned i = 0; bounds && i + 1 < p->partitions; i++)
        if (json_array_append_new(bounds, keyjson_tuple(&p->bounds[i])) < 0) {
            json_decref(bounds);
            bounds = NULL;
        }
    json_t *j = bounds ? json_pack("{sssisssssssisisbsosbsoso}",
                                   "sluice", "plan", "version", 1, "plan", p->id,
                                   "stream", p->stream, "fingerprint", p->fingerprint,
                                   "partitions", (int)p->partitions, "shards", (int)p->shards,
                                   "incremental", p->incremental,
                                   "lower", keyjson_tuple(&p->range.lower),
                                   "lower_inclusive", p->range.lower_inclusive,
                                   "upper", keyjson_tuple(&p->range.upper),
                                   "bounds", bounds)
                       : NULL;
    if (!j)
        return errbuf_fail(err, errlen, -1, "out of memory");
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text)
        return errbuf_fail(err, errlen, -1, "out of memory");
    int rc = durable_write(path, text, strlen(text), 1, err, errlen);
    free(text);
    return rc;
}

int parts_read_plan(const char *output, struct shared_plan *p, char *err, size_t errlen)
{
    char path[4200];
    json_t *j;
    memset(p, 0, sizeof *p);
    if (parts_plan_path(path, sizeof path, output) < 0)
        return errbuf_fail(err, errlen, -1, "%s: path too long", output);
    int rc = parts_read_json(path, &j, err, errlen);
    if (rc != 0)
        return rc;
    const char *kind = json_string_value(json_object_get(j, "sluice"));
    const char *id = json_string_value(json_object_get(j, "plan"));
    const char *stream = json_string_value(json_object_get(j, "stream"));
    const char *fp = json_string_value(json_object_get(j, "fingerprint"));
    json_int_t n = json_integer_value(json_object_get(j, "partitions"));
    json_int_t shards = json_integer_value(json_object_get(j, "shards"));
    json_t *bounds = json_object_get(j, "bounds");
    rc = -1;
    if (kind && strcmp(kind, "plan") == 0 && id && strlen(id) == PARTS_PLAN_ID_LEN && stream &&
        fp && n >= 1 && n <= 1000000 && shards >= 1 && shards <= n &&
        json_array_size(bounds) == (size_t)n - 1) {
        snprintf(p->id, sizeof p->id, "%s", id);
        p->stream = strdup(stream);
        p->fingerprint = strdup(fp);
        p->partitions = (unsigned)n;
        p->shards = (unsigned)shards;
        p->incremental = json_is_true(json_object_get(j, "incremental"));
        p->range.lower_inclusive = json_is_true(json_object_get(j, "lower_inclusive"));
        p->bounds = n > 1 ? calloc((size_t)n - 1, sizeof *p->bounds) : NULL;
        rc = p->stream && p->fingerprint && (n == 1 || p->bounds) &&
             keyjson_parse(json_object_get(j, "lower"), &p->range.lower) == 0 &&
             keyjson_parse(json_object_get(j, "upper"), &p->range.upper) == 0 ? 0 : -1;
        for (json_int_t i = 0; rc == 0 && i + 1 < n; i++)
            rc = keyjson_parse(json_array_get(bounds, (size_t)i), &p->bounds[i]);
    }
    json_decref(j);
    if (rc < 0) {
        shared_plan_clear(p);
        return errbuf_fail(err, errlen, -1, "%s is not a sluice plan (or is damaged)", path);
    }
    return 0;
}
