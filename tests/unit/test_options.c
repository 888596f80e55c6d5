/* test_options.c - the command line: defaults, every option, GNU argument
 * permutation, and a one-line EXIT_USAGE message naming the problem for
 * every mistake. Also opt_parse_u64 at its boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "output/sink.h"

#define NARGS(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
/* Parses `sluice ARGS...` into *cli; returns cli_parse's code. */
#define PARSE(cli, err, ...) \
    cli_parse((cli), NARGS("sluice", __VA_ARGS__), \
              (char *[]){"sluice", __VA_ARGS__, NULL}, (err), sizeof(err))

static void assert_contains(const char *s, const char *want)
{
    if (!strstr(s, want))
        fail_msg("message [%s] does not contain [%s]", s, want);
}

static void assert_one_line(const char *s)
{
    assert_true(s[0] != '\0');
    assert_null(strchr(s, '\n'));
    if (strncmp(s, "sluice:", 7) == 0)
        fail_msg("message [%s] carries a prefix", s);
}

/* The command must be refused with EXIT_USAGE and a message holding each
 * of the NULL-terminated fragments. */
#define REFUSED(frags, ...) do { \
        struct cli c_; \
        char e_[512]; \
        memset(e_, 0, sizeof e_); \
        int rc_ = PARSE(&c_, e_, __VA_ARGS__); \
        if (rc_ != EXIT_USAGE) \
            fail_msg("%s: rc %d, want EXIT_USAGE (%s)", #__VA_ARGS__, rc_, e_); \
        assert_one_line(e_); \
        for (const char *const *f_ = (frags); *f_; f_++) \
            assert_contains(e_, *f_); \
        cli_free(&c_); \
    } while (0)
#define MSG(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_defaults(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "db.sqlite", "users"), 0);
    assert_int_equal(c.cmd, CMD_EXTRACT);
    const struct stream_spec *o = &c.extract.spec;
    const struct extract_cmd *x = &c.extract;
    assert_string_equal(o->source, "db.sqlite");
    assert_string_equal(o->table, "users");
    assert_null(o->output);
    assert_int_equal(o->paging, PAGING_KEYSET);
    assert_int_equal(o->key.n, 0);
    assert_int_equal(o->columns.n, 0);
    assert_null(o->where);
    assert_int_equal(o->page_size, 10000);
    assert_int_equal(o->checkpoint_every, 100000);
    assert_null(o->state_path);
    assert_null(o->name);
    assert_int_equal(o->restart, 0);
    assert_int_equal(o->compress, SPEC_COMPRESS_AUTO);
    assert_int_equal(o->snapshot, 0);
    assert_int_equal(x->progress, PROGRESS_AUTO);
    assert_int_equal(x->quiet, 0);
    assert_int_equal(x->verbose, 0);
    cli_free(&c);
}

static void test_every_option(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    int rc = PARSE(&c, err, "extract", "-o", "out.ndjson", "--paging", "offset",
                   "--key", "a,b", "--columns", "x,y,z", "--where", "x > 1 AND y < 2",
                   "--page-size", "1000000", "--checkpoint-every", "0",
                   "--state", "s.db", "--stream", "nightly", "--restart",
                   "--compress", "zstd", "--snapshot", "--progress", "never",
                   "-v", "postgres://u@h/d", "public.t");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    const struct stream_spec *o = &c.extract.spec;
    const struct extract_cmd *x = &c.extract;
    assert_string_equal(o->source, "postgres://u@h/d");
    assert_string_equal(o->table, "public.t");
    assert_string_equal(o->output, "out.ndjson");
    assert_int_equal(o->paging, PAGING_OFFSET);
    assert_int_equal(o->key.n, 2);
    assert_string_equal(o->key.v[0], "a");
    assert_string_equal(o->key.v[1], "b");
    assert_int_equal(o->columns.n, 3);
    assert_string_equal(o->columns.v[0], "x");
    assert_string_equal(o->columns.v[2], "z");
    assert_string_equal(o->where, "x > 1 AND y < 2");
    assert_int_equal(o->page_size, 1000000);
    assert_int_equal(o->checkpoint_every, 0);
    assert_string_equal(o->state_path, "s.db");
    assert_string_equal(o->name, "nightly");
    assert_int_equal(o->restart, 1);
    assert_int_equal(o->compress, SINK_ZSTD);
    assert_int_equal(o->snapshot, 1);
    assert_int_equal(x->progress, PROGRESS_NEVER);
    assert_int_equal(x->verbose, 1);
    assert_int_equal(x->quiet, 0);
    cli_free(&c);

    /* The other choices, the --opt=value spelling and the long names. */
    rc = PARSE(&c, err, "extract", "--output=o.gz", "--paging=cursor",
               "--compress=gzip", "--progress=always", "--quiet",
               "--page-size=1", "--checkpoint-every=250", "--key=id", "s", "t");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    o = &c.extract.spec;
    x = &c.extract;
    assert_string_equal(o->output, "o.gz");
    assert_int_equal(o->paging, PAGING_CURSOR);
    assert_int_equal(o->compress, SINK_GZIP);
    assert_int_equal(x->progress, PROGRESS_ALWAYS);
    assert_int_equal(x->quiet, 1);
    assert_int_equal(o->page_size, 1);
    assert_int_equal(o->checkpoint_every, 250);
    assert_int_equal(o->key.n, 1);
    assert_string_equal(o->key.v[0], "id");
    cli_free(&c);

    rc = PARSE(&c, err, "extract", "--compress", "none", "--paging", "keyset",
               "--progress", "auto", "-q", "-o", "-", "s", "t");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_int_equal(c.extract.spec.compress, SINK_PLAIN);
    assert_int_equal(c.extract.spec.paging, PAGING_KEYSET);
    assert_int_equal(c.extract.progress, PROGRESS_AUTO);
    assert_string_equal(c.extract.spec.output, "-");
    cli_free(&c);
}

static void test_options_after_arguments(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    int rc = PARSE(&c, err, "extract", "db.sqlite", "t", "-o", "out");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_string_equal(c.extract.spec.source, "db.sqlite");
    assert_string_equal(c.extract.spec.table, "t");
    assert_string_equal(c.extract.spec.output, "out");
    cli_free(&c);

    rc = PARSE(&c, err, "extract", "db.sqlite", "--page-size", "7", "t",
               "--checkpoint-every", "3");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_string_equal(c.extract.spec.source, "db.sqlite");
    assert_string_equal(c.extract.spec.table, "t");
    assert_int_equal(c.extract.spec.page_size, 7);
    assert_int_equal(c.extract.spec.checkpoint_every, 3);
    cli_free(&c);

    /* "--" ends the options: what follows is positional even if it looks
     * like an option. */
    rc = PARSE(&c, err, "extract", "-o", "f", "--", "db.sqlite", "-weird");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_string_equal(c.extract.spec.table, "-weird");
    cli_free(&c);
}

static void test_lists(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "--key", "tenant_id,id", "s", "t"), 0);
    assert_int_equal(c.extract.spec.key.n, 2);
    assert_string_equal(c.extract.spec.key.v[0], "tenant_id");
    assert_string_equal(c.extract.spec.key.v[1], "id");
    cli_free(&c);

    REFUSED(MSG("--key", "a,,b"), "extract", "--key", "a,,b", "s", "t");
    REFUSED(MSG("--key"), "extract", "--key", "a,", "s", "t");
    REFUSED(MSG("--key"), "extract", "--key", ",a", "s", "t");
    REFUSED(MSG("--key"), "extract", "--key", "", "s", "t");
    REFUSED(MSG("--columns", "x,,y"), "extract", "--columns", "x,,y", "s", "t");
    REFUSED(MSG("--key", "twice"), "extract", "--key", "a", "--key", "b", "s", "t");
}

static void test_missing_value(void **ctx)
{
    (void)ctx;
    REFUSED(MSG("--page-size"), "extract", "s", "t", "--page-size");
    REFUSED(MSG("--checkpoint-every"), "extract", "s", "t", "--checkpoint-every");
    REFUSED(MSG("--key"), "extract", "s", "t", "--key");
    REFUSED(MSG("-o"), "extract", "s", "t", "-o");
    REFUSED(MSG("--output"), "extract", "s", "t", "--output");
    REFUSED(MSG("-o"), "extract", "-o", "", "s", "t");
    REFUSED(MSG("--where"), "extract", "--where", "", "s", "t");
    REFUSED(MSG("--state"), "extract", "--state", "", "s", "t");
}

static void test_page_size_values(void **ctx)
{
    (void)ctx;
    const char *bad[] = {"0", "-1", "abc", "1e3", "99999999999999999999999",
                         "1000001", "", "+5", " 5", "5 ", "0x10", "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cli c;
        char err[512] = "";
        int rc = PARSE(&c, err, "extract", "--page-size", (char *)bad[i], "s", "t");
        if (rc != EXIT_USAGE)
            fail_msg("--page-size '%s' accepted (rc %d, page size %zu)", bad[i],
                     rc, c.extract.spec.page_size);
        assert_one_line(err);
        assert_contains(err, "--page-size");
        cli_free(&c);
    }
    /* The message says what is wrong: range or shape. */
    REFUSED(MSG("--page-size", "1000000"), "extract", "--page-size", "1000001", "s", "t");
    REFUSED(MSG("--page-size", "whole number", "abc"), "extract", "--page-size", "abc", "s", "t");

    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "--page-size", "007", "s", "t"), 0);
    assert_int_equal(c.extract.spec.page_size, 7);
    cli_free(&c);
}

static void test_checkpoint_values(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "--checkpoint-every", "0", "s", "t"), 0);
    assert_int_equal(c.extract.spec.checkpoint_every, 0);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "--checkpoint-every",
                           "18446744073709551615", "s", "t"), 0);
    assert_int_equal(c.extract.spec.checkpoint_every, UINT64_MAX);
    cli_free(&c);

    REFUSED(MSG("--checkpoint-every", "-1"), "extract", "--checkpoint-every", "-1", "s", "t");
    REFUSED(MSG("--checkpoint-every", "abc"), "extract", "--checkpoint-every", "abc", "s", "t");
    REFUSED(MSG("--checkpoint-every"), "extract", "--checkpoint-every", "", "s", "t");
    REFUSED(MSG("--checkpoint-every"), "extract", "--checkpoint-every",
            "18446744073709551616", "s", "t");
}

static void test_incremental_options(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "--mode", "incremental",
                           "--cursor-field", "updated_at,seq", "--start", "2026-01-01",
                           "--end", "2026-02-01", "--lookback", "PT15M", "--step", "P1D",
                           "--granularity", "PT1H"), 0);
    assert_int_equal(c.extract.spec.mode, MODE_INCREMENTAL);
    assert_int_equal(c.extract.spec.cursor.n, 2);
    assert_string_equal(c.extract.spec.cursor.v[1], "seq");
    assert_string_equal(c.extract.spec.lookback.text, "PT15M");
    assert_string_equal(c.extract.spec.granularity.text, "PT1H");
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "--mode", "incremental",
                           "--cursor-field", "v", "--lookback", "1000"), 0);
    cli_free(&c);

    REFUSED(MSG("--mode incremental", "--cursor-field"), "extract", "s", "t", "--mode", "incremental");
    REFUSED(MSG("--cursor-field", "needs --mode incremental"), "extract", "s", "t", "--cursor-field", "u");
    REFUSED(MSG("--lookback", "needs --mode incremental"), "extract", "s", "t", "--lookback", "PT1M");
    REFUSED(MSG("offset"), "extract", "s", "t", "--mode", "incremental", "--cursor-field", "u",
            "--paging", "offset");
    REFUSED(MSG("--granularity needs --step"), "extract", "s", "t", "--mode", "incremental",
            "--cursor-field", "u", "--granularity", "PT1H");
    REFUSED(MSG("named twice"), "extract", "s", "t", "--mode", "incremental", "--cursor-field", "u,u");
    const char *bad[] = {"", "P", "PT", "15M", "P-1D", "PT0S", "0", "-5", "P1.5D", "PT1H junk"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char e[512] = "";
        int rc = PARSE(&c, e, "extract", "s", "t", "--mode", "incremental", "--cursor-field", "u",
                       "--step", (char *)bad[i]);
        if (rc != EXIT_USAGE)
            fail_msg("--step '%s' accepted", bad[i]);
        assert_one_line(e);
        assert_contains(e, "--step");
        cli_free(&c);
    }
    REFUSED(MSG("--mode", "full", "incremental"), "extract", "s", "t", "--mode", "delta");
}

static void test_retry_options(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "s", "t"), 0);
    assert_int_equal(c.extract.spec.retries, 0);
    assert_int_equal(c.extract.spec.retry_wait_ms, 1000);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "--retries", "5", "--retry-wait", "0.25"), 0);
    assert_int_equal(c.extract.spec.retries, 5);
    assert_int_equal(c.extract.spec.retry_wait_ms, 250);
    cli_free(&c);
    REFUSED(MSG("--retries", "101"), "extract", "s", "t", "--retries", "101");
    REFUSED(MSG("--retries", "-1"), "extract", "s", "t", "--retries", "-1");
    REFUSED(MSG("--retry-wait", "seconds"), "extract", "s", "t", "--retry-wait", "0");
    REFUSED(MSG("--retry-wait"), "extract", "s", "t", "--retry-wait", "-1");
    REFUSED(MSG("--retry-wait"), "extract", "s", "t", "--retry-wait", "1e9");
    REFUSED(MSG("--retry-wait"), "extract", "s", "t", "--retry-wait", "nan");
    REFUSED(MSG("--retry-wait"), "extract", "s", "t", "--retry-wait", "2s");
}

static void test_compress_level_and_threads(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "s", "t"), 0);
    assert_int_equal(c.extract.spec.compress_level, 0);
    assert_int_equal(c.extract.spec.threads, 0);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "--compress", "zstd:19", "--threads", "3"), 0);
    assert_int_equal(c.extract.spec.compress, SINK_ZSTD);
    assert_int_equal(c.extract.spec.compress_level, 19);
    assert_int_equal(c.extract.spec.threads, 3);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "--compress=gzip:12"), 0);
    assert_int_equal(c.extract.spec.compress, SINK_GZIP);
    assert_int_equal(c.extract.spec.compress_level, 12);
    cli_free(&c);
    REFUSED(MSG("--compress zstd level", "23", "1 to 22"), "extract", "s", "t", "--compress", "zstd:23");
    REFUSED(MSG("--compress zstd level", "0", "1 to 22"), "extract", "s", "t", "--compress", "zstd:0");
    REFUSED(MSG("--compress gzip level", "13", "1 to 12"), "extract", "s", "t", "--compress", "gzip:13");
    REFUSED(MSG("--compress gzip level", "whole number"), "extract", "s", "t", "--compress", "gzip:");
    REFUSED(MSG("--compress gzip level", "-1"), "extract", "s", "t", "--compress", "gzip:-1");
    REFUSED(MSG("--compress", "none takes no level"), "extract", "s", "t", "--compress", "none:1");
    REFUSED(MSG("--compress", "'lz4:1'"), "extract", "s", "t", "--compress", "lz4:1");
    REFUSED(MSG("--threads", "0", "1 to 256"), "extract", "s", "t", "--threads", "0");
    REFUSED(MSG("--threads", "257", "1 to 256"), "extract", "s", "t", "--threads", "257");
    REFUSED(MSG("--threads", "whole number"), "extract", "s", "t", "--threads", "two");
}

static void test_bad_choices_list_the_choices(void **ctx)
{
    (void)ctx;
    REFUSED(MSG("--paging", "keyset", "offset", "cursor", "'pages'"),
            "extract", "--paging", "pages", "s", "t");
    REFUSED(MSG("--compress", "none", "gzip", "zstd", "'lz4'"),
            "extract", "--compress", "lz4", "s", "t");
    REFUSED(MSG("--progress", "auto", "always", "never", "'yes'"),
            "extract", "--progress", "yes", "s", "t");
    /* Choices are exact words: no case folding, no prefixes. */
    REFUSED(MSG("--paging"), "extract", "--paging", "KEYSET", "s", "t");
    REFUSED(MSG("--paging"), "extract", "--paging", "key", "s", "t");
}

static void test_unknown_option_and_command(void **ctx)
{
    (void)ctx;
    REFUSED(MSG("--bogus"), "extract", "--bogus", "s", "t");
    REFUSED(MSG("--bogus"), "extract", "s", "t", "--bogus=1");
    REFUSED(MSG("-x"), "extract", "-x", "s", "t");
    REFUSED(MSG("--restart"), "extract", "--restart=yes", "s", "t");
    REFUSED(MSG("frobnicate"), "frobnicate", "s", "t");
    REFUSED(MSG("extract"), "EXTRACT", "s", "t");
    REFUSED(MSG("command"), "");
    struct cli c;
    char err[256] = "";
    assert_int_equal(cli_parse(&c, 1, (char *[]){"sluice", NULL}, err, sizeof err),
                     EXIT_USAGE);
    assert_one_line(err);
    cli_free(&c);
}

static void test_quiet_and_verbose(void **ctx)
{
    (void)ctx;
    REFUSED(MSG("--quiet", "--verbose"), "extract", "-q", "-v", "s", "t");
    REFUSED(MSG("--quiet", "--verbose"), "extract", "s", "t", "--verbose", "--quiet");
}

static void test_positional_arguments(void **ctx)
{
    (void)ctx;
    REFUSED(MSG("TABLE"), "extract", "db.sqlite");
    REFUSED(MSG("TABLE"), "extract");
    REFUSED(MSG("TABLE"), "extract", "-o", "f", "db.sqlite");
    REFUSED(MSG("'extra'"), "extract", "db.sqlite", "t", "extra");
    /* A value with a space split by the shell shows up as an extra word. */
    REFUSED(MSG("'b'"), "extract", "--where", "a", "s", "t", "b");
    REFUSED(MSG("SOURCE"), "extract", "", "t");
    REFUSED(MSG("TABLE"), "extract", "s", "");
}

static void test_help_and_version(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    const char *help[] = {"--help", "-h", "help"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(PARSE(&c, err, (char *)help[i]), 0);
        assert_int_equal(c.cmd, CMD_HELP);
        cli_free(&c);
    }
    const char *version[] = {"--version", "-V", "version"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(PARSE(&c, err, (char *)version[i]), 0);
        assert_int_equal(c.cmd, CMD_VERSION);
        cli_free(&c);
    }
    /* --help inside a command wins over a missing TABLE. */
    assert_int_equal(PARSE(&c, err, "extract", "--help"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "db.sqlite", "t", "-h"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    assert_int_equal(c.help_for, CMD_EXTRACT);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "discover", "--help"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    assert_int_equal(c.help_for, CMD_DISCOVER);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "help", "extract"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    assert_int_equal(c.help_for, CMD_EXTRACT);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "help"), 0);
    assert_int_equal(c.help_for, CMD_NONE);
    cli_free(&c);
    /* help's own usage is the overview. */
    assert_int_equal(PARSE(&c, err, "help", "--help"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    assert_int_equal(c.help_for, CMD_NONE);
    cli_free(&c);
    REFUSED(MSG("'frobnicate'"), "help", "frobnicate");
    REFUSED(MSG("'--help'"), "help", "--help", "x");

    /* Each command's help is its own: discover's says nothing of extract's
     * options, and the overview lists the commands. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_usage(f, CMD_DISCOVER);
    fclose(f);
    assert_contains(text, "sluice discover SOURCE");
    assert_null(strstr(text, "--page-size"));
    free(text);
    f = open_memstream(&text, &len);
    cli_usage(f, CMD_NONE);
    fclose(f);
    assert_contains(text, "extract SOURCE TABLE");
    assert_contains(text, "discover SOURCE");
    assert_null(strstr(text, "--page-size"));
    free(text);

    /* The help text states the defaults and limits the parser enforces. */
    f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_usage(f, CMD_EXTRACT);
    fclose(f);
    assert_contains(text, "--page-size");
    assert_contains(text, "10000");
    assert_contains(text, "1000000");
    assert_contains(text, "100000");
    assert_contains(text, "at-least-once");
    free(text);
}

static void test_discover(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "discover", "db.sqlite"), 0);
    assert_int_equal(c.cmd, CMD_DISCOVER);
    assert_string_equal(c.discover.source, "db.sqlite");
    assert_null(c.discover.table);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "discover", "db.sqlite", "users"), 0);
    assert_string_equal(c.discover.table, "users");
    cli_free(&c);
    REFUSED(MSG("SOURCE"), "discover");
    REFUSED(MSG("'c'"), "discover", "a", "b", "c");
    REFUSED(MSG("--page-size"), "discover", "--page-size", "5", "s");
}

/* One rule for every option: given twice is an error naming it, never a
 * silent choice of the last one. */
static void test_every_option_once(void **ctx)
{
    (void)ctx;
    static const char *const twice[][3] = {
        {"-o", "a", "b"}, {"--output", "a", "b"}, {"--paging", "keyset", "offset"},
        {"--key", "a", "b"}, {"--columns", "a", "b"}, {"--where", "1=1", "2=2"},
        {"--page-size", "5", "6"}, {"--page-bytes", "1M", "2M"},
        {"--checkpoint-every", "5", "6"}, {"--state", "a", "b"}, {"--stream", "a", "b"},
        {"--retries", "1", "2"}, {"--retry-wait", "1", "2"}, {"--compress", "gzip", "zstd"},
        {"--progress", "never", "always"},
    };
    for (size_t i = 0; i < sizeof twice / sizeof *twice; i++) {
        const char *name = twice[i][0];
        char frag[48];
        snprintf(frag, sizeof frag, "given twice");
        REFUSED(MSG(frag), "extract", (char *)name, (char *)twice[i][1], (char *)name,
                (char *)twice[i][2], "s", "t");
    }
    REFUSED(MSG("--restart", "twice"), "extract", "--restart", "--restart", "s", "t");
    REFUSED(MSG("--snapshot", "twice"), "extract", "--snapshot", "--snapshot", "s", "t");
    REFUSED(MSG("--verbose", "twice"), "extract", "-v", "--verbose", "s", "t");
    REFUSED(MSG("--output", "twice"), "extract", "-o", "x", "--output=y", "s", "t");
    REFUSED(MSG("--mode", "twice"), "extract", "--mode", "full", "--mode", "full", "s", "t");
}

static void test_page_bytes(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "s", "t"), 0);
    assert_int_equal(c.extract.spec.page_bytes, 16u << 20);
    cli_free(&c);
    static const struct { const char *v; size_t want; } ok[] = {
        {"0", 0}, {"1", 1}, {"64K", 64u << 10}, {"16m", 16u << 20}, {"1G", 1u << 30},
        {"4G", (size_t)4 << 30}, {"4294967296", (size_t)4 << 30},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (PARSE(&c, err, "extract", "--page-bytes", (char *)ok[i].v, "s", "t") != 0)
            fail_msg("%s: %s", ok[i].v, err);
        assert_int_equal(c.extract.spec.page_bytes, ok[i].want);
        cli_free(&c);
    }
    REFUSED(MSG("--page-bytes", "'5G'"), "extract", "--page-bytes", "5G", "s", "t");
    REFUSED(MSG("--page-bytes", "'1T'"), "extract", "--page-bytes", "1T", "s", "t");
    REFUSED(MSG("--page-bytes", "'-1'"), "extract", "--page-bytes", "-1", "s", "t");
    REFUSED(MSG("--page-bytes", "'M'"), "extract", "--page-bytes", "M", "s", "t");
}

static void test_partition_options(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "-o", "f"), 0);
    assert_int_equal(c.extract.spec.partitions, 0);
    assert_int_equal(c.extract.spec.shards, 0);
    cli_free(&c);
    if (PARSE(&c, err, "extract", "s", "t", "-o", "f", "--partitions", "8", "--parallel", "2",
              "--shard", "3/4") != 0)
        fail_msg("%s", err);
    const struct stream_spec *o = &c.extract.spec;
    assert_int_equal(o->partitions, 8);
    assert_int_equal(o->parallel, 2);
    assert_int_equal(o->shard, 3);
    assert_int_equal(o->shards, 4);
    assert_int_equal(o->keep_parts, 0);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "-o", "f", "--partitions", "10000",
                           "--parallel", "10000", "--keep-parts"), 0);
    assert_int_equal(c.extract.spec.keep_parts, 1);
    cli_free(&c);
    /* The bad input of the partitions issue, each one line. */
    REFUSED(MSG("--partitions", "0", "out of range"), "extract", "s", "t", "-o", "f",
            "--partitions", "0");
    REFUSED(MSG("--partitions", "out of range"), "extract", "s", "t", "-o", "f",
            "--partitions", "10001");
    REFUSED(MSG("--parallel 9 is more than --partitions 8"), "extract", "s", "t", "-o", "f",
            "--partitions", "8", "--parallel", "9");
    REFUSED(MSG("--shard 5/4", "no shard 5", "0 to 3"), "extract", "s", "t", "-o", "f",
            "--partitions", "8", "--shard", "5/4");
    REFUSED(MSG("--shard 4/4"), "extract", "s", "t", "-o", "f", "--partitions", "8", "--shard", "4/4");
    REFUSED(MSG("--shard needs --partitions"), "extract", "s", "t", "-o", "f", "--shard", "0/2");
    REFUSED(MSG("--parallel needs --partitions"), "extract", "s", "t", "-o", "f", "--parallel", "2");
    REFUSED(MSG("--keep-parts needs --partitions"), "extract", "s", "t", "-o", "f", "--keep-parts");
    REFUSED(MSG("--partitions needs -o FILE"), "extract", "s", "t", "--partitions", "2");
    REFUSED(MSG("--partitions needs -o FILE"), "extract", "s", "t", "-o", "-", "--partitions", "2");
    REFUSED(MSG("8 shards need at least 8 partitions"), "extract", "s", "t", "-o", "f",
            "--partitions", "4", "--shard", "1/8");
    REFUSED(MSG("--keep-parts with --shard"), "extract", "s", "t", "-o", "f", "--partitions", "4",
            "--shard", "1/2", "--keep-parts");
    REFUSED(MSG("--snapshot with --shard"), "extract", "s", "t", "-o", "f", "--partitions", "4",
            "--shard", "1/2", "--snapshot");
    REFUSED(MSG("--step with --partitions"), "extract", "s", "t", "-o", "f", "--partitions", "4",
            "--mode", "incremental", "--cursor-field", "u", "--step", "PT1H");
    static const char *const bad_shards[] = {"1", "1/", "/2", "a/2", "1/0", "1/2/3", "-1/2", "1/x"};
    for (size_t i = 0; i < sizeof bad_shards / sizeof *bad_shards; i++)
        REFUSED(MSG("--shard", "expected I/N"), "extract", "s", "t", "-o", "f", "--partitions",
                "4", "--shard", (char *)bad_shards[i]);
    REFUSED(MSG("--partitions", "twice"), "extract", "s", "t", "-o", "f", "--partitions", "2",
            "--partitions", "3");
    REFUSED(MSG("--snapshot-lock needs --snapshot"), "extract", "s", "t", "-o", "f",
            "--partitions", "2", "--snapshot-lock");
    REFUSED(MSG("--snapshot-lock needs --partitions"), "extract", "s", "t", "-o", "f",
            "--snapshot", "--snapshot-lock");
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "-o", "f", "--partitions", "2",
                           "--snapshot", "--snapshot-lock"), 0);
    assert_int_equal(c.extract.spec.snapshot_lock, 1);
    cli_free(&c);
}

static void test_join(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    assert_int_equal(PARSE(&c, err, "join", "out.ndjson"), 0);
    assert_int_equal(c.cmd, CMD_JOIN);
    assert_string_equal(c.join.output, "out.ndjson");
    assert_int_equal(c.join.keep_parts, 0);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "join", "--keep-parts", "-v", "out.ndjson"), 0);
    assert_int_equal(c.join.keep_parts, 1);
    assert_int_equal(c.join.verbose, 1);
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "join", "--help"), 0);
    assert_int_equal(c.cmd, CMD_HELP);
    assert_int_equal(c.help_for, CMD_JOIN);
    cli_free(&c);
    REFUSED(MSG("join needs FILE"), "join");
    REFUSED(MSG("unexpected argument 'b'"), "join", "a", "b");
    REFUSED(MSG("--quiet and --verbose"), "join", "-q", "-v", "a");
    REFUSED(MSG("--partitions"), "join", "--partitions", "2", "a");
}

/* Parsing twice in one process works: getopt state is reset each time. */
static void test_parse_twice(void **ctx)
{
    (void)ctx;
    struct cli c;
    char err[256] = "";
    REFUSED(MSG("--bogus"), "extract", "s", "t", "--bogus");
    assert_int_equal(PARSE(&c, err, "extract", "s", "t", "-o", "x"), 0);
    assert_string_equal(c.extract.spec.output, "x");
    cli_free(&c);
    assert_int_equal(PARSE(&c, err, "extract", "s2", "t2"), 0);
    assert_string_equal(c.extract.spec.source, "s2");
    assert_null(c.extract.spec.output);
    cli_free(&c);
}

static void test_parse_u64(void **ctx)
{
    (void)ctx;
    uint64_t v = 42;
    char err[256] = "";
    assert_int_equal(opt_parse_u64("--n", "18446744073709551615", 0, UINT64_MAX, &v,
                                   err, sizeof err), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(opt_parse_u64("--n", "18446744073709551614", 0, UINT64_MAX, &v,
                                   err, sizeof err), 0);
    assert_true(v == UINT64_MAX - 1);
    assert_int_equal(opt_parse_u64("--n", "0", 0, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(opt_parse_u64("--n", "10", 0, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 10);
    assert_int_equal(opt_parse_u64("--n", "5", 5, 5, &v, err, sizeof err), 0);
    assert_int_equal(v, 5);

    /* Refused, with *out untouched and a message naming the option. */
    static const struct {
        const char *s;
        uint64_t min, max;
    } bad[] = {
        {"18446744073709551616", 0, UINT64_MAX},   /* UINT64_MAX + 1 */
        {"18446744073709551620", 0, UINT64_MAX},
        {"184467440737095516150", 0, UINT64_MAX},  /* one digit more */
        {"99999999999999999999999", 0, UINT64_MAX},
        {"99999999999999999999999x", 0, UINT64_MAX},
        {"11", 0, 10},
        {"4", 5, 10},
        {"", 0, 10},
        {"-0", 0, 10},
        {"1.0", 0, 10},
        {"1 ", 0, 10},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 42;
        err[0] = '\0';
        if (opt_parse_u64("--n", bad[i].s, bad[i].min, bad[i].max, &v, err,
                          sizeof err) != -1)
            fail_msg("'%s' in [%llu, %llu] accepted as %llu", bad[i].s,
                     (unsigned long long)bad[i].min, (unsigned long long)bad[i].max,
                     (unsigned long long)v);
        assert_int_equal(v, 42);
        assert_one_line(err);
        assert_contains(err, "--n");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_option_once),
        cmocka_unit_test(test_page_bytes),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_options_after_arguments),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_page_size_values),
        cmocka_unit_test(test_checkpoint_values),
        cmocka_unit_test(test_compress_level_and_threads),
        cmocka_unit_test(test_bad_choices_list_the_choices),
        cmocka_unit_test(test_incremental_options),
        cmocka_unit_test(test_retry_options),
        cmocka_unit_test(test_unknown_option_and_command),
        cmocka_unit_test(test_quiet_and_verbose),
        cmocka_unit_test(test_positional_arguments),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_discover),
        cmocka_unit_test(test_parse_twice),
        cmocka_unit_test(test_partition_options),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_parse_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
