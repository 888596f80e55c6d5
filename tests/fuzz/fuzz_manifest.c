/* fuzz_manifest.c - libFuzzer target for manifest_load (src/manifest).
 *
 * The input is the manifest's text, handed over as an in-memory file
 * (memfd, read through /proc/self/fd/N), so nothing is written to disk.
 * Checks: the result is 0 or -1; a refusal is one line that starts with
 * the file's name; an accepted manifest has streams whose names are
 * unique and non-empty, a state path, a concurrency in range and an
 * absolute output template per stream; manifest_free frees all
 * (LeakSanitizer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_manifest: check failed: %s (line %d)\n",   \
                    #cond, __LINE__);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("sluice.yml", MFD_CLOEXEC);
    CHECK(fd >= 0);
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        CHECK(w > 0);
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct manifest *m = NULL;
    char err[512];
    memset(err, 'x', sizeof err);
    int rc = manifest_load(&m, path, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        CHECK(m == NULL);
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
        CHECK(strchr(err, '\n') == NULL);
    } else {
        CHECK(m && m->nstreams > 0 && m->state_path && m->timezone);
        CHECK(m->concurrency >= 1 && m->concurrency <= MANIFEST_CONCURRENCY_MAX);
        for (size_t i = 0; i < m->nstreams; i++) {
            const struct manifest_stream *s = &m->streams[i];
            CHECK(s->name && s->name[0] && s->spec.source && s->spec.table);
            CHECK(s->output && s->output[0] == '/');
            CHECK(manifest_stream(m, s->name) == s);
        }
    }
    manifest_free(m);
    close(fd);
    return 0;
}
