/* fuzz_options.c - libFuzzer target for cli_parse (src/options.h).
 *
 * The input split at NUL and newline bytes is argv[1..] (argv[0] is
 * "sluice"; at most 64 arguments). Checks: the result is 0 or EXIT_USAGE;
 * an error comes with a one-line message, cut cleanly by a small buffer; a
 * success holds the documented invariants (non-empty SOURCE and TABLE taken
 * from argv, page size within range, no empty column name, not both quiet
 * and verbose; run/status/daemon: a MANIFEST and streams from argv); argv is left as it was; cli_free frees all (LeakSanitizer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_options: check failed: %s (line %d)\n",    \
                    #cond, __LINE__);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* s is a copy of one of the arguments. */
static int from_argv(const char *s, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(s, argv[i]) == 0)
            return 1;
    return 0;
}

static void check_list(const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        CHECK(l->v[i] && l->v[i][0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2], *copy[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("sluice");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
        if (i == size || data[i] == '\0' || data[i] == '\n') {
            if (i == size && start == size && argc > 1)
                break; /* a trailing separator adds no empty argument */
            char *a = malloc(i - start + 1);
            memcpy(a, data + start, i - start);
            a[i - start] = '\0';
            argv[argc++] = a;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++)
        copy[i] = strdup(argv[i]);

    struct cli cli;
    char err[256];
    memset(err, 'X', sizeof err);
    int rc = cli_parse(&cli, argc, argv, err, sizeof err);
    CHECK(rc == 0 || rc == EXIT_USAGE);
    if (rc) {
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(err[0] != '\0');
        CHECK(strchr(err, '\n') == NULL); /* no argument holds a newline */
        cli_free(&cli);
        /* The same parse into a small buffer: the same message, cut. */
        char small[8];
        struct cli again;
        CHECK(cli_parse(&again, argc, argv, small, sizeof small) == rc);
        CHECK(strlen(small) < sizeof small && strncmp(small, err, strlen(small)) == 0);
        cli_free(&again);
    } else {
        switch (cli.cmd) {
        case CMD_EXTRACT: {
            const struct stream_spec *o = &cli.extract.spec;
            CHECK(o->source && o->source[0] && from_argv(o->source, argc, argv));
            CHECK(o->table && o->table[0] && from_argv(o->table, argc, argv));
            CHECK(o->page_size >= 1 && o->page_size <= SPEC_PAGE_SIZE_MAX);
            CHECK(!(cli.extract.quiet && cli.extract.verbose));
            CHECK(o->paging == PAGING_KEYSET || o->paging == PAGING_OFFSET ||
                  o->paging == PAGING_CURSOR);
            CHECK(o->compress >= SPEC_COMPRESS_AUTO && o->compress <= 2);
            CHECK(!o->output || o->output[0]);
            CHECK(!o->where || o->where[0]);
            check_list(&o->key);
            check_list(&o->columns);
            /* A partitioned job: partitions to a file, the rest within them. */
            CHECK(o->partitions <= 10000);
            CHECK(!o->partitions || (o->output && strcmp(o->output, "-") != 0));
            CHECK(o->parallel <= o->partitions && o->shards <= o->partitions);
            CHECK(!o->shards || o->shard < o->shards);
            CHECK(!o->keep_parts || o->partitions);
            CHECK(!o->snapshot_lock || (o->snapshot && o->partitions));
            break;
        }
        case CMD_DISCOVER:
            CHECK(cli.discover.source && cli.discover.source[0]);
            break;
        case CMD_RUN:
            CHECK(cli.run.manifest && cli.run.manifest[0] && from_argv(cli.run.manifest, argc, argv));
            for (size_t i = 0; i < cli.run.nstreams; i++)
                CHECK(from_argv(cli.run.streams[i], argc, argv));
            CHECK(!(cli.run.quiet && cli.run.verbose));
            CHECK(!cli.run.restart || (cli.run.nstreams && !cli.run.due));
            break;
        case CMD_STATUS:
            CHECK(cli.status.manifest && cli.status.manifest[0]);
            CHECK(!cli.status.stream || from_argv(cli.status.stream, argc, argv));
            break;
        case CMD_DAEMON:
            CHECK(cli.daemon.manifest && cli.daemon.manifest[0]);
            CHECK(!(cli.daemon.quiet && cli.daemon.verbose));
            break;
        case CMD_JOIN:
            CHECK(cli.join.output && cli.join.output[0] && from_argv(cli.join.output, argc, argv));
            CHECK(!(cli.join.quiet && cli.join.verbose));
            break;
        case CMD_VERIFY:
            CHECK(cli.verify.file && cli.verify.file[0] && from_argv(cli.verify.file, argc, argv));
            CHECK(!cli.verify.source || (cli.verify.against && cli.verify.source[0] &&
                                         from_argv(cli.verify.source, argc, argv)));
            CHECK(!(cli.verify.detail || cli.verify.deleted_keys) || cli.verify.against);
            CHECK(!(cli.verify.json && cli.verify.quiet));
            break;
        case CMD_HELP:
        case CMD_VERSION:
            break;
        default:
            CHECK(!"cli_parse returned 0 without a command");
        }
        cli_free(&cli);
    }
    for (int i = 0; i < argc; i++) {
        CHECK(strcmp(copy[i], argv[i]) == 0);
        free(copy[i]);
        free(argv[i]);
    }
    return 0;
}
