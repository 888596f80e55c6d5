/* sidecar.c - digest, atomic write and read-back of FILE.meta.json. */
#include "output/sidecar.h"

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

int sidecar_path(const char *data_path, char *out, size_t n)
{
    int len = snprintf(out, n, "%s%s", data_path, SIDECAR_SUFFIX);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

int sidecar_digest_file(const char *path, char hex[65], uint64_t *size, char *err,
                        size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "%s: cannot read for its digest: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *chunk = malloc(1 << 20);
    int rc = ctx && chunk && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
    if (rc < 0)
        errbuf_fail(err, errlen, -1, "%s: cannot start a SHA-256 digest", path);
    *size = 0;
    while (rc == 0) {
        ssize_t got = read(fd, chunk, 1 << 20);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = errbuf_fail(err, errlen, -1, "%s: cannot read for its digest: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        if (EVP_DigestUpdate(ctx, chunk, (size_t)got) != 1)
            rc = errbuf_fail(err, errlen, -1, "%s: SHA-256 digest failed", path);
        *size += (uint64_t)got;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32))
        rc = errbuf_fail(err, errlen, -1, "%s: SHA-256 digest failed", path);
    if (rc == 0)
        for (unsigned i = 0; i < mdlen; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    free(chunk);
    close(fd);
    return rc;
}

int sidecar_write(const char *data_path, const char *json, size_t len, char *err,
                  size_t errlen)
{
    char path[4096];
    if (sidecar_path(data_path, path, sizeof path) < 0)
        return errbuf_fail(err, errlen, -1, "%s: path too long for a sidecar", data_path);
    return durable_write(path, json, len, 0, err, errlen);
}

int sidecar_remove(const char *data_path, char *err, size_t errlen)
{
    char path[4096];
    if (sidecar_path(data_path, path, sizeof path) < 0)
        return errbuf_fail(err, errlen, -1, "%s: path too long for a sidecar", data_path);
    if (unlink(path) < 0 && errno != ENOENT)
        return errbuf_fail(err, errlen, -1, "%s: cannot remove: %s", path, strerror(errno));
    return 0;
}

void sidecar_info_free(struct sidecar_info *info)
{
    free(info->stream);
    free(info->file);
    free(info->started_at);
    memset(info, 0, sizeof *info);
}

static const char *string_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int sidecar_read(const char *sidecar_path, struct sidecar_info *out, char *why,
                 size_t whylen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    /* A sidecar is small; anything large is not one. */
    struct stat st;
    if (stat(sidecar_path, &st) < 0) {
        errbuf_fail(why, whylen, -1, "%s: %s", sidecar_path, strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (1 << 24)) {
        errbuf_fail(why, whylen, -1, "%s: not a sidecar (not a small regular file)", sidecar_path);
        return 0;
    }
    json_t *root = json_load_file(sidecar_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        errbuf_fail(why, whylen, -1, "%s: not JSON (line %d: %s)", sidecar_path, jerr.line, jerr.text);
        return 0;
    }
    int rc = 0;
    json_t *version = json_object_get(root, "version");
    const char *stream = string_at(root, "stream"), *file = string_at(root, "file");
    if (!json_is_object(root) || !json_is_integer(version) || !stream || !file) {
        errbuf_fail(why, whylen, -1, "%s: not a sluice sidecar", sidecar_path);
    } else if (json_integer_value(version) != SIDECAR_VERSION) {
        errbuf_fail(why, whylen, -1, "%s: sidecar version %lld is not one this sluice reads (%d)",
                    sidecar_path, (long long)json_integer_value(version), SIDECAR_VERSION);
    } else {
        json_t *job = json_object_get(root, "job");
        const char *started = json_is_object(job) ? string_at(job, "started_at") : NULL;
        out->stream = strdup(stream);
        out->file = strdup(file);
        out->started_at = started ? strdup(started) : NULL;
        json_t *rows = json_object_get(root, "rows");
        out->rows = json_is_integer(rows) ? (long long)json_integer_value(rows) : -1;
        if (!out->stream || !out->file || (started && !out->started_at)) {
            sidecar_info_free(out);
            rc = -1;
        } else {
            rc = 1;
        }
    }
    json_decref(root);
    return rc;
}
