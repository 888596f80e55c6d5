/* main.c - sluice: extract database tables to NDJSON, resumably. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli/daemon.h"
#include "cli/discover.h"
#include "cli/extract.h"
#include "cli/join.h"
#include "common/log.h"
#include "cli/options.h"
#include "cli/run.h"
#include "cli/status.h"
#include "source/source.h"

/* Raised by SIGINT/SIGTERM; read by every job thread. Lock-free, so a
 * signal handler may store to it. */
static atomic_int stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, 1);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Write errors arrive as errno values, reported once (EFBIG), or, for
     * EPIPE on stdout, ending the run quietly with EXIT_PIPE. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct cli cli;
    char err[1024];
    int code = cli_parse(&cli, argc, argv, err, sizeof err);
    if (code) {
        log_error("%s", err);
        cli_free(&cli);
        return code;
    }
    install_signals();
    switch (cli.cmd) {
    case CMD_HELP:
        cli_usage(stdout, cli.help_for);
        break;
    case CMD_VERSION:
        printf("sluice %s (drivers: %s)\n", SLUICE_VERSION, source_driver_names());
        break;
    case CMD_EXTRACT:
        if (cli.extract.quiet)
            log_level = LOG_QUIET;
        else if (cli.extract.verbose)
            log_level = LOG_VERBOSE;
        code = extract_command(&cli.extract, &stop_requested);
        break;
    case CMD_DISCOVER:
        code = discover_run(&cli.discover);
        break;
    case CMD_RUN:
        code = run_command(&cli.run, &stop_requested);
        break;
    case CMD_STATUS:
        code = status_command(&cli.status);
        break;
    case CMD_DAEMON:
        code = daemon_command(&cli.daemon, &stop_requested);
        break;
    case CMD_VERIFY:
        if (cli.verify.quiet)
            log_level = LOG_QUIET;
        code = verify_command(&cli.verify);
        break;
    case CMD_JOIN:
        log_level = cli.join.quiet ? LOG_QUIET : cli.join.verbose ? LOG_VERBOSE : LOG_NORMAL;
        code = join_command(&cli.join);
        break;
    case CMD_NONE:
        code = EXIT_USAGE;
        break;
    }
    cli_free(&cli);
    return code;
}
