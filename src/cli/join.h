/* join.h - `sluice join FILE`: the parts of a partitioned extraction
 * (shards) into FILE, or their index (--keep-parts). */
#ifndef SLUICE_CLI_JOIN_H
#define SLUICE_CLI_JOIN_H

#include "cli/options.h"

/* Returns the exit code; the outcome is on stderr. */
int join_command(const struct join_opts *o);

#endif
