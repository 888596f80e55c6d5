/* extract.h - `sluice extract`: one table to NDJSON, as a resumable job. */
#ifndef SLUICE_EXTRACT_H
#define SLUICE_EXTRACT_H

#include <stdatomic.h>

#include "cli/options.h"

/* Runs or resumes the job the command describes, with progress on stderr,
 * and reports its failure as one line. Returns its EXIT_* code. *stop
 * raised (SIGINT/SIGTERM) checkpoints and returns EXIT_INTERRUPTED. */
int extract_command(const struct extract_cmd *x, const atomic_int *stop);

#endif
