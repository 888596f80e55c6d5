#include "state/lockfd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kept {
    char *path;
    dev_t dev;
    ino_t ino;
    int fd;
    int in_use;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept *pool;
static size_t npool, cap;

int lockfd_acquire(const char *path, int *fd)
{
    struct stat now;
    int exists = stat(path, &now) == 0;
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < npool; i++) {
        struct kept *k = &pool[i];
        if (k->in_use || strcmp(k->path, path) != 0)
            continue;
        if (exists && k->dev == now.st_dev && k->ino == now.st_ino) {
            k->in_use = 1;
            *fd = k->fd;
            pthread_mutex_unlock(&pool_lock);
            return 0;
        }
        /* The path names another file now (removed, replaced): this one
         * can go; no handle of this process uses it. */
        close(k->fd);
        free(k->path);
        pool[i--] = pool[--npool];
    }
    int rc = -1;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (f >= 0 && fstat(f, &st) == 0) {
        if (npool == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            struct kept *p = realloc(pool, ncap * sizeof *p);
            if (p) {
                pool = p;
                cap = ncap;
            }
        }
        char *copy = npool < cap ? strdup(path) : NULL;
        if (copy) {
            pool[npool++] = (struct kept){.path = copy, .dev = st.st_dev, .ino = st.st_ino,
                                          .fd = f, .in_use = 1};
            *fd = f;
            rc = 0;
        } else {
            errno = ENOMEM;
        }
    }
    if (rc < 0 && f >= 0) {
        int e = errno;
        close(f); /* a file no handle of ours had open before this call */
        errno = e;
    }
    pthread_mutex_unlock(&pool_lock);
    return rc;
}

void lockfd_release(int fd, off_t from)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = from, .l_len = 0};
    while (fcntl(fd, F_OFD_SETLK, &fl) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < npool; i++)
        if (pool[i].fd == fd)
            pool[i].in_use = 0;
    pthread_mutex_unlock(&pool_lock);
}
