/* durable.h - files that appear whole and stay: written under a temporary
 * name, fsynced, renamed (or linked) into place, and the directory fsynced,
 * so a reader, or the machine after a crash, never sees half of one.
 * Errors: -1 with a one-line message in err. */
#ifndef SLUICE_DURABLE_H
#define SLUICE_DURABLE_H

#include <stddef.h>

/* Writes len bytes of data to path. exclusive: never replace an existing
 * file (several processes on several machines may race; the first wins)
 * and return 1, writing nothing, when path exists. Otherwise 0 or -1. */
int durable_write(const char *path, const char *data, size_t len, int exclusive, char *err,
                  size_t errlen);

/* fsyncs the directory that holds path, so a create or rename in it is
 * durable. 0 or -1. */
int durable_sync_dir(const char *path, char *err, size_t errlen);

#endif
