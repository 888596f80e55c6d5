/* durable.c - see durable.h. */
#include "output/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/errbuf.h"

int durable_sync_dir(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "cannot open directory %s: %s", dir, strerror(errno));
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        rc = errbuf_fail(err, errlen, -1, "cannot fsync directory %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

int durable_write(const char *path, const char *data, size_t len, int exclusive, char *err,
                  size_t errlen)
{
    /* One writer at a time replaces a file (the part's job, the join): a
     * temporary name of its own is reused, so a crash leaves no litter. A
     * file written exclusively (the shared plan) may be written by several
     * processes on several machines at once: each takes a random name. */
    char tmp[4200];
    unsigned char r[8] = {0};
    if (exclusive && getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return errbuf_fail(err, errlen, -1, "cannot draw a temporary name: %s", strerror(errno));
    int tlen = exclusive ? snprintf(tmp, sizeof tmp, "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path,
                                   r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
                        : snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (tlen < 0 || (size_t)tlen >= sizeof tmp)
        return errbuf_fail(err, errlen, -1, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    int rc = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = errbuf_fail(err, errlen, -1, "cannot write %s: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            break;
        }
        done += (size_t)w;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = errbuf_fail(err, errlen, -1, "cannot fsync %s: %s", tmp, strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = errbuf_fail(err, errlen, -1, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0) {
        if (exclusive) {
            /* link(2) fails when the name exists: the first writer wins,
             * on a network file system too. */
            if (link(tmp, path) < 0)
                rc = errno == EEXIST ? 1 : errbuf_fail(err, errlen, -1, "cannot create %s: %s", path, strerror(errno));
        } else if (rename(tmp, path) < 0) {
            rc = errbuf_fail(err, errlen, -1, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        }
    }
    if (rc != 0 || exclusive)
        unlink(tmp);
    if (rc == 0)
        rc = durable_sync_dir(path, err, errlen);
    return rc;
}
