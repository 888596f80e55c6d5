/* connect.h - opening a source by its URL, and the exit code a source
 * failure means. Shared by every command that reads a database. */
#ifndef SLUICE_CONNECT_H
#define SLUICE_CONNECT_H

#include <stddef.h>

#include "source/source.h"

/* Finds the driver that claims url and connects. Returns 0, or a SOURCE_E*
 * code with a one-line message in err (the URL shown without its
 * password); *out is then NULL. */
int source_connect(const char *url, struct source **out, char *err, size_t errlen);

/* The EXIT_* code (common/exitcode.h) for a SOURCE_E* code. */
int source_exit_code(int source_code);

#endif
