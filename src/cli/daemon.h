/* daemon.h - `sluice daemon MANIFEST`: runs the manifest's streams when
 * their schedules fire, until SIGTERM or SIGINT; SIGHUP reloads it. */
#ifndef SLUICE_CLI_DAEMON_H
#define SLUICE_CLI_DAEMON_H

#include <stdatomic.h>
#include <stddef.h>

struct daemon_cmd {
    const char *manifest;
    int json; /* --log-format json */
    int quiet, verbose;
};

int daemon_parse(struct daemon_cmd *d, int argc, char **argv, char *err, size_t errlen,
                 int *help);
/* Returns 0 after a clean stop (every running job checkpointed), or the
 * exit code of what kept it from starting. *stop is the flag job threads
 * read; the daemon raises it itself on SIGTERM/SIGINT. */
int daemon_command(const struct daemon_cmd *d, atomic_int *stop);

#endif
