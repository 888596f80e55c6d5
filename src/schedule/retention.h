/* retention.h - a stream's `keep`: after a run published a new output,
 * delete the stream's oldest finished outputs beyond keep, with their
 * sidecars.
 *
 * A file counts as one of the stream's outputs only when all hold:
 *  - it is a regular file whose path template_match()es the stream's
 *    output template (with the stream's values);
 *  - its sidecar FILE.meta.json is one this sluice reads, and names this
 *    stream and this file.
 * Nothing else is ever touched: not a file a person put there, not a
 * partial file, not another stream's output. Newest first means by the
 * run's start time encoded in the name (else the sidecar's job start,
 * else the name); the output just written always stays. A data file is
 * deleted before its sidecar; a sidecar whose file is gone (a prune cut
 * short) is removed by the next prune.
 *
 * Call it only after a run of the stream succeeded: a failed or
 * interrupted run deletes nothing. */
#ifndef SLUICE_RETENTION_H
#define SLUICE_RETENTION_H

#include <stddef.h>

#include "schedule/template.h"

/* tpl: the stream's absolute output template; kept: the output the run
 * just published (kept whatever its age), may be NULL. *deleted: the data
 * files removed. 0, or -1 with the first failure in err (pruning stops
 * there; what is left is still whole). */
int retention_prune(const char *tpl, const struct template_vars *vars, const char *stream,
                    unsigned keep, const char *kept, unsigned *deleted, char *err,
                    size_t errlen);

/* A run killed after it created OUTPUT.partial but before its job began
 * leaves that file behind, named for a time no later run expands again.
 * The next run of the stream takes it over instead of starting a new
 * name, so such files never pile up: this finds the newest one that no
 * process holds (its lock is free) and whose name the stream's template
 * gives. *out: its data path (without ".partial"; free()), or NULL when
 * there is none. 0, or -1 with a message in err. */
int retention_leftover_partial(const char *tpl, const struct template_vars *vars, char **out,
                               char *err, size_t errlen);

#endif
