/* lockfd.h - the descriptors of the state store that hold its OFD locks
 * (the open lock, the stream locks), kept open for the life of the
 * process and reused.
 *
 * Why never closed: POSIX record locks belong to the process, and closing
 * ANY descriptor of a file drops every such lock the process holds on it,
 * SQLite's own among them. A process with several state handles at once
 * (run, the daemon, a partitioned extraction) that closed one handle's
 * descriptor would silently unlock its other connections, and another
 * process could then checkpoint and remove the WAL under them. So a
 * released descriptor drops its OFD locks and waits, open, for the next
 * handle of the same file. Thread-safe. */
#ifndef SLUICE_STATE_LOCKFD_H
#define SLUICE_STATE_LOCKFD_H

#include <stddef.h>
#include <sys/types.h>

/* A descriptor of path opened O_RDWR, creating the file (mode 0600) if it
 * does not exist: a free one kept from an earlier handle when it still is
 * that file, else a new one. Its open file description is this caller's
 * alone until lockfd_release. 0, or -1 with errno set. */
int lockfd_acquire(const char *path, int *fd);

/* Drops every OFD lock of fd at or above `from` and keeps it for reuse. */
void lockfd_release(int fd, off_t from);

#endif
