/* crashpoint.c - an LD_PRELOAD library that kills the process (SIGKILL, as
 * `kill -9` does) at one exact moment, so a test can crash sluice at every
 * step of work too quick to hit with a timed kill (the join of a
 * partitioned job: its journal, its copy, its rename, its clean-up).
 *
 *   SLUICE_CRASH_AT=FUNC:N:SUFFIX
 *
 * FUNC is write, rename or unlink; the process dies instead of making the
 * N-th such call whose path (write: the file descriptor's; rename: the new
 * name) ends with SUFFIX. Every other call goes through unchanged.
 *
 *   SLUICE_STOP_AT=FUNC:N:SUFFIX
 *
 * stops the process (SIGSTOP) at that call instead, before making it; it
 * goes on, making the call, when sent SIGCONT. A test changes the database
 * at that exact moment of a run. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_long hits[2];

static int armed_by(int which, const char *func, const char *path)
{
    const char *spec = getenv(which ? "SLUICE_STOP_AT" : "SLUICE_CRASH_AT");
    char f[16];
    long n;
    int at = 0;
    if (!spec || !path || sscanf(spec, "%15[^:]:%ld:%n", f, &n, &at) != 2 || !at ||
        strcmp(f, func) != 0)
        return 0;
    const char *suffix = spec + at;
    size_t ls = strlen(suffix), lp = strlen(path);
    if (lp < ls || strcmp(path + lp - ls, suffix) != 0)
        return 0;
    return atomic_fetch_add(&hits[which], 1) + 1 == n;
}

/* Dies, or stops until SIGCONT, when this call is the one. */
static int armed(const char *func, const char *path)
{
    if (armed_by(1, func, path))
        raise(SIGSTOP);
    return armed_by(0, func, path);
}

static void die(void)
{
    raise(SIGKILL);
    _exit(137);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    const char *c = getenv("SLUICE_CRASH_AT"), *s = getenv("SLUICE_STOP_AT");
    if ((c && strncmp(c, "write:", 6) == 0) || (s && strncmp(s, "write:", 6) == 0)) {
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = '\0';
            if (armed("write", path))
                die();
        }
    }
    return real(fd, buf, count);
}

int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (armed("rename", to))
        die();
    return real(from, to);
}

int unlink(const char *path)
{
    static int (*real)(const char *);
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    if (armed("unlink", path))
        die();
    return real(path);
}
