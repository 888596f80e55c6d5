/* status.h - `sluice status MANIFEST [STREAM]`: what the state store knows
 * of each stream of the manifest, as a table, JSON (--json) or the
 * Prometheus textfile format (--prometheus). Only reads. */
#ifndef SLUICE_CLI_STATUS_H
#define SLUICE_CLI_STATUS_H

#include <stddef.h>

enum status_format { STATUS_TABLE, STATUS_JSON, STATUS_PROMETHEUS };

struct status_cmd {
    const char *manifest;
    const char *stream; /* NULL: every stream */
    enum status_format format;
    const char *output; /* -o FILE: written atomically; NULL: stdout */
    int list_streams;   /* print the manifest's stream names (shell completion) */
};

int status_parse(struct status_cmd *s, int argc, char **argv, char *err, size_t errlen,
                 int *help);
int status_command(const struct status_cmd *s);

#endif
