/* options.c - parsing of the command line into struct cli. */
#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "output/sink.h"

int opt_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
                  uint64_t *out, char *err, size_t errlen)
{
    uint64_t v = 0;
    const char *p = s;
    if (!*p)
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            if (p[1])
                goto bad;
            goto range; /* more than UINT64_MAX: out of any range */
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
range:
        errbuf_fail(err, errlen, EXIT_USAGE, "%s: %s is out of range (%llu to %llu)", opt, s,
                    (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected a whole number, got '%s'", opt, s);
    return -1;
}

static int pick(const char *opt, const char *v, const char *const *names,
                int *out, char *err, size_t errlen)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char choices[128] = "";
    for (int i = 0; names[i]; i++) {
        strncat(choices, i ? "|" : "", sizeof choices - strlen(choices) - 1);
        strncat(choices, names[i], sizeof choices - strlen(choices) - 1);
    }
    return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected %s, got '%s'", opt, choices, v);
}

enum {
    OPT_PAGING = 256, OPT_KEY, OPT_COLUMNS, OPT_WHERE, OPT_PAGE_SIZE,
    OPT_CHECKPOINT, OPT_STATE, OPT_STREAM, OPT_RESTART, OPT_COMPRESS,
    OPT_PROGRESS, OPT_SNAPSHOT, OPT_MODE, OPT_CURSOR, OPT_START, OPT_END,
    OPT_LOOKBACK, OPT_STEP, OPT_GRANULARITY, OPT_RETRIES, OPT_RETRY_WAIT,
    OPT_PAGE_BYTES, OPT_THREADS, OPT_PARTITIONS, OPT_PARALLEL, OPT_SHARD, OPT_KEEP_PARTS,
    OPT_SNAPSHOT_LOCK, OPT_META,
};

static const struct option extract_longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"paging", required_argument, NULL, OPT_PAGING},
    {"mode", required_argument, NULL, OPT_MODE},
    {"cursor-field", required_argument, NULL, OPT_CURSOR},
    {"start", required_argument, NULL, OPT_START},
    {"end", required_argument, NULL, OPT_END},
    {"lookback", required_argument, NULL, OPT_LOOKBACK},
    {"step", required_argument, NULL, OPT_STEP},
    {"granularity", required_argument, NULL, OPT_GRANULARITY},
    {"key", required_argument, NULL, OPT_KEY},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"where", required_argument, NULL, OPT_WHERE},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"page-bytes", required_argument, NULL, OPT_PAGE_BYTES},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT},
    {"state", required_argument, NULL, OPT_STATE},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-wait", required_argument, NULL, OPT_RETRY_WAIT},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"snapshot", no_argument, NULL, OPT_SNAPSHOT},
    {"meta", no_argument, NULL, OPT_META},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"partitions", required_argument, NULL, OPT_PARTITIONS},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"keep-parts", no_argument, NULL, OPT_KEEP_PARTS},
    {"snapshot-lock", no_argument, NULL, OPT_SNAPSHOT_LOCK},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int nonempty(const char *opt, const char *v, char *err, size_t errlen)
{
    return *v ? 0 : errbuf_fail(err, errlen, EXIT_USAGE, "%s: empty value", opt);
}

/* Seconds with an optional fraction ("2", "0.25"), 0.001 to 3600. */
static int seconds_opt(const char *opt, const char *v, unsigned *ms, char *err,
                       size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0.001 && d <= 3600) || v[0] == '-' ||
        v[0] == '+' || v[0] == ' ')
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected seconds from 0.001 to 3600, got '%s'", opt, v);
    *ms = (unsigned)(d * 1000 + 0.5);
    return 0;
}

const char *const cli_spec_names[SPEC_FIELD_COUNT] = {
    [SPEC_CURSOR] = "--cursor-field", [SPEC_START] = "--start", [SPEC_END] = "--end",
    [SPEC_LOOKBACK] = "--lookback", [SPEC_STEP] = "--step",
    [SPEC_GRANULARITY] = "--granularity", [SPEC_MODE] = "--mode", [SPEC_PAGING] = "--paging",
    [SPEC_KEY] = "--key", [SPEC_COLUMNS] = "--columns",
};

/* A size in bytes: digits with an optional K, M or G (powers of 1024), at
 * most 4G; 0 allowed. */
static int size_opt(const char *opt, const char *v, size_t *out, char *err, size_t errlen)
{
    char digits[32];
    size_t n = strlen(v), mult = 1;
    if (n && n < sizeof digits && strchr("KkMmGg", v[n - 1])) {
        char u = (char)(v[n - 1] | 0x20);
        mult = u == 'k' ? (size_t)1 << 10 : u == 'm' ? (size_t)1 << 20 : (size_t)1 << 30;
        n--;
    }
    if (n >= sizeof digits)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected a size such as 16M, got '%s'", opt, v);
    memcpy(digits, v, n);
    digits[n] = '\0';
    uint64_t x;
    char why[160];
    uint64_t max = ((uint64_t)4 << 30) / mult;
    if (opt_parse_u64(opt, digits, 0, max, &x, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected a size from 0 to 4G (K, M, G suffixes), got '%s'",
                           opt, v);
    *out = (size_t)(x * mult);
    return 0;
}

/* --shard I/N: shard I (0 to N-1) of N. The range of I is checked with
 * the other partition rules (stream_spec_check). */
static int shard_opt(const char *opt, const char *v, unsigned *shard, unsigned *shards,
                     char *err, size_t errlen)
{
    const char *slash = strchr(v, '/');
    char i[32], why[160];
    uint64_t a, b;
    if (!slash || (size_t)(slash - v) >= sizeof i)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected I/N (shard I of N, I from 0), got '%s'", opt, v);
    memcpy(i, v, (size_t)(slash - v));
    i[slash - v] = '\0';
    if (opt_parse_u64(opt, i, 0, 9999, &a, why, sizeof why) < 0 ||
        opt_parse_u64(opt, slash + 1, 1, 10000, &b, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected I/N (shard I of N, I from 0, N from 1 to 10000), got '%s'",
                           opt, v);
    *shard = (unsigned)a;
    *shards = (unsigned)b;
    return 0;
}

/* --compress none|gzip[:LEVEL]|zstd[:LEVEL], levels as sink.h allows. */
static int compress_opt(struct stream_spec *o, const char *opt, const char *v, char *err,
                        size_t errlen)
{
    static const char *const names[] = {"none", "gzip", "zstd", NULL};
    const char *colon = strchr(v, ':');
    char name[16];
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    int choice;
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), v);
    if (n >= sizeof name || pick(opt, name, names, &choice, err, errlen))
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: expected none, gzip[:LEVEL] or zstd[:LEVEL], got '%s'",
                           opt, v);
    o->compress = choice;
    o->compress_level = 0;
    if (!colon)
        return 0;
    if (o->compress == SINK_PLAIN)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: none takes no level, got '%s'", opt, v);
    enum sink_compress k = (enum sink_compress)o->compress;
    char what[64];
    uint64_t level;
    snprintf(what, sizeof what, "%s %s level", opt, name);
    if (opt_parse_u64(what, colon + 1, (uint64_t)sink_level_min(k), (uint64_t)sink_level_max(k),
                      &level, err, errlen) < 0)
        return EXIT_USAGE;
    o->compress_level = (int)level;
    return 0;
}

/* A string option's value, copied into the spec. */
static int text_opt(const char *opt, const char *v, char **out, char *err, size_t errlen)
{
    if (nonempty(opt, v, err, errlen))
        return EXIT_USAGE;
    if (!(*out = strdup(v)))
        return errbuf_fail(err, errlen, EXIT_USAGE, "out of memory");
    return 0;
}

static int list_opt(const char *opt, const char *v, struct strlist *l, char *err, size_t errlen)
{
    char why[256];
    if (spec_column_list(v, l, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: %s", opt, why);
    return 0;
}

static int duration_opt(const char *opt, const char *v, struct spec_duration *d, char *err,
                        size_t errlen)
{
    char why[200];
    if (spec_duration_parse(v, d, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s: %s", opt, why);
    return 0;
}

/* getopt's own messages are replaced by ours: one line, naming the option. */
int cli_getopt_error(int c, char **argv, const struct option *longopts,
                     char *err, size_t errlen)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s needs a value", arg);
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    if (eq) {
        size_t n = (size_t)(eq - arg - 2);
        const struct option *hit = NULL;
        for (const struct option *lo = longopts; lo->name; lo++)
            if (strncmp(lo->name, arg + 2, n) == 0 && lo->has_arg == no_argument) {
                if (strlen(lo->name) == n) {
                    hit = lo;
                    break;
                }
                hit = hit ? NULL : lo;
            }
        if (hit)
            return errbuf_fail(err, errlen, EXIT_USAGE, "--%s takes no value (got '%s')", hit->name, arg);
    }
    if (optopt > 0 && optopt < 256)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unknown option -%c", optopt);
    return errbuf_fail(err, errlen, EXIT_USAGE, "unknown or ambiguous option '%s'", arg);
}

int cli_once(int c, const struct option *longopts, unsigned char *seen, char *err,
             size_t errlen)
{
    for (int i = 0; longopts[i].name && i < CLI_MAX_OPTIONS; i++) {
        if (longopts[i].val != c || c == 'h')
            continue;
        if (seen[i]++)
            return errbuf_fail(err, errlen, EXIT_USAGE, "--%s given twice", longopts[i].name);
        return 0;
    }
    return 0;
}

int cli_log_format(const char *value, int *json, char *err, size_t errlen)
{
    if (strcmp(value, "json") == 0)
        *json = 1;
    else if (strcmp(value, "text") == 0)
        *json = 0;
    else
        return errbuf_fail(err, errlen, EXIT_USAGE, "--log-format: expected text|json, got '%s'",
                           value);
    return 0;
}

static int parse_extract(struct extract_cmd *x, int argc, char **argv,
                         char *err, size_t errlen, int *help)
{
    static const char *const pagings[] = {"keyset", "offset", "cursor", NULL};
    static const char *const progresses[] = {"auto", "always", "never", NULL};
    static const char *const modes[] = {"full", "incremental", NULL};
    struct stream_spec *o = &x->spec;
    x->progress = PROGRESS_AUTO;
    unsigned char seen[CLI_MAX_OPTIONS] = {0};
    int c, rc = 0, choice;
    uint64_t n;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":o:qvh", extract_longopts, NULL)) != -1) {
        char opt[48] = "option";
        for (const struct option *lo = extract_longopts; lo->name; lo++)
            if (lo->val == c)
                snprintf(opt, sizeof opt, "--%s", lo->name);
        if (cli_once(c, extract_longopts, seen, err, errlen))
            return EXIT_USAGE;
        switch (c) {
        case 'o': rc = text_opt(opt, optarg, &o->output, err, errlen); break;
        case OPT_PAGING:
            if ((rc = pick(opt, optarg, pagings, &choice, err, errlen)) == 0)
                o->paging = (enum paging)choice;
            break;
        case OPT_MODE:
            if ((rc = pick(opt, optarg, modes, &choice, err, errlen)) == 0)
                o->mode = (enum sync_mode)choice;
            break;
        case OPT_CURSOR: rc = list_opt(opt, optarg, &o->cursor, err, errlen); break;
        case OPT_START: rc = text_opt(opt, optarg, &o->start, err, errlen); break;
        case OPT_END: rc = text_opt(opt, optarg, &o->end, err, errlen); break;
        case OPT_LOOKBACK: rc = duration_opt(opt, optarg, &o->lookback, err, errlen); break;
        case OPT_STEP: rc = duration_opt(opt, optarg, &o->step, err, errlen); break;
        case OPT_GRANULARITY: rc = duration_opt(opt, optarg, &o->granularity, err, errlen); break;
        case OPT_KEY: rc = list_opt(opt, optarg, &o->key, err, errlen); break;
        case OPT_COLUMNS: rc = list_opt(opt, optarg, &o->columns, err, errlen); break;
        case OPT_WHERE: rc = text_opt(opt, optarg, &o->where, err, errlen); break;
        case OPT_PAGE_SIZE:
            if (opt_parse_u64(opt, optarg, 1, SPEC_PAGE_SIZE_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->page_size = (size_t)n;
            break;
        case OPT_PAGE_BYTES:
            rc = size_opt(opt, optarg, &o->page_bytes, err, errlen);
            break;
        case OPT_CHECKPOINT:
            if (opt_parse_u64(opt, optarg, 0, UINT64_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->checkpoint_every = n;
            break;
        case OPT_STATE: rc = text_opt(opt, optarg, &o->state_path, err, errlen); break;
        case OPT_STREAM: rc = text_opt(opt, optarg, &o->name, err, errlen); break;
        case OPT_RESTART: o->restart = 1; break;
        case OPT_RETRIES:
            if (opt_parse_u64(opt, optarg, 0, SPEC_RETRIES_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->retries = (unsigned)n;
            break;
        case OPT_RETRY_WAIT: rc = seconds_opt(opt, optarg, &o->retry_wait_ms, err, errlen); break;
        case OPT_COMPRESS: rc = compress_opt(o, opt, optarg, err, errlen); break;
        case OPT_THREADS:
            if (opt_parse_u64(opt, optarg, 1, SINK_THREADS_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->threads = (unsigned)n;
            break;
        case OPT_SNAPSHOT: o->snapshot = 1; break;
        case OPT_PARTITIONS:
            if (opt_parse_u64(opt, optarg, 1, 10000, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->partitions = (unsigned)n;
            break;
        case OPT_PARALLEL:
            if (opt_parse_u64(opt, optarg, 1, 10000, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->parallel = (unsigned)n;
            break;
        case OPT_SHARD: rc = shard_opt(opt, optarg, &o->shard, &o->shards, err, errlen); break;
        case OPT_KEEP_PARTS: o->keep_parts = 1; break;
        case OPT_SNAPSHOT_LOCK: o->snapshot_lock = 1; break;
        case OPT_META: o->meta = 1; break;
        case OPT_PROGRESS:
            if ((rc = pick(opt, optarg, progresses, &choice, err, errlen)) == 0)
                x->progress = (enum progress_mode)choice;
            break;
        case 'q': x->quiet = 1; break;
        case 'v': x->verbose = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, extract_longopts, err, errlen);
        }
    }
    if (rc)
        return rc;
    if (x->quiet && x->verbose)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--quiet and --verbose exclude each other");
    if (stream_spec_check(o, cli_spec_names, err, errlen) < 0)
        return EXIT_USAGE;
    if (o->meta && (!o->output || strcmp(o->output, "-") == 0))
        return errbuf_fail(err, errlen, EXIT_USAGE, "--meta writes FILE.meta.json beside the output: it needs -o FILE");
    int left = argc - optind;
    if (left < 2)
        return errbuf_fail(err, errlen, EXIT_USAGE, "extract needs SOURCE and TABLE (see sluice extract --help)");
    if (left > 2)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s' (options go before SOURCE TABLE or after; values with spaces need quotes)",
                           argv[optind + 2]);
    if (!*argv[optind])
        return errbuf_fail(err, errlen, EXIT_USAGE, "SOURCE is empty");
    if (!*argv[optind + 1])
        return errbuf_fail(err, errlen, EXIT_USAGE, "TABLE is empty");
    if (!(o->source = strdup(argv[optind])) || !(o->table = strdup(argv[optind + 1])))
        return errbuf_fail(err, errlen, EXIT_USAGE, "out of memory");
    return 0;
}

static const struct option join_longopts[] = {
    {"keep-parts", no_argument, NULL, 'k'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_join(struct join_opts *o, int argc, char **argv, char *err, size_t errlen,
                      int *help)
{
    int c;
    while ((c = getopt_long(argc, argv, ":qvh", join_longopts, NULL)) != -1) {
        switch (c) {
        case 'k': o->keep_parts = 1; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, join_longopts, err, errlen);
        }
    }
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "join needs FILE, the -o of the partitioned extraction (see sluice join --help)");
    if (left > 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s'", argv[optind + 1]);
    o->output = argv[optind];
    if (!*o->output)
        return errbuf_fail(err, errlen, EXIT_USAGE, "FILE is empty");
    if (o->quiet && o->verbose)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--quiet and --verbose exclude each other");
    return 0;
}

static const struct option discover_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_discover(struct discover_opts *o, int argc, char **argv,
                          char *err, size_t errlen, int *help)
{
    int c;
    while ((c = getopt_long(argc, argv, ":h", discover_longopts, NULL)) != -1) {
        if (c == 'h') {
            *help = 1;
            return 0;
        }
        return cli_getopt_error(c, argv, discover_longopts, err, errlen);
    }
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "discover needs SOURCE (see sluice discover --help)");
    if (left > 2)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s'", argv[optind + 2]);
    o->source = argv[optind];
    o->table = left == 2 ? argv[optind + 1] : NULL;
    if (!*o->source)
        return errbuf_fail(err, errlen, EXIT_USAGE, "SOURCE is empty");
    return 0;
}

int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    if (argc < 2)
        return errbuf_fail(err, errlen, EXIT_USAGE, "no command given (see sluice --help)");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cli->cmd = CMD_HELP;
        /* `sluice help --help`: the overview, which is help's own usage. */
        if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))
            return 0;
        if (argc > 2) {
            static const char *const names[] = {"extract", "discover", "join", "run", "status",
                                                "daemon", "verify"};
            static const enum command cmds[] = {CMD_EXTRACT, CMD_DISCOVER, CMD_JOIN, CMD_RUN,
                                                CMD_STATUS, CMD_DAEMON, CMD_VERIFY};
            for (size_t i = 0; i < sizeof names / sizeof *names; i++)
                if (strcmp(argv[2], names[i]) == 0)
                    cli->help_for = cmds[i];
            if (cli->help_for == CMD_NONE)
                return errbuf_fail(err, errlen, EXIT_USAGE, "help: unknown command '%s' (expected extract, discover, join, run, status, daemon or verify)",
                                   argv[2]);
            if (argc > 3)
                return errbuf_fail(err, errlen, EXIT_USAGE, "help: unexpected argument '%s'", argv[3]);
        }
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        cli->cmd = CMD_VERSION;
        return 0;
    }
    int help = 0, rc;
    /* getopt works on a copy of argv[1..] (the command plays the program
     * name), which GNU getopt permutes so options may follow arguments. */
    int n = argc - 1;
    char **args = calloc((size_t)n + 1, sizeof *args);
    if (!args)
        return errbuf_fail(err, errlen, EXIT_USAGE, "out of memory");
    memcpy(args, argv + 1, (size_t)n * sizeof *args);
    optind = 0; /* GNU: reinitialise getopt */
    opterr = 0;
    if (strcmp(cmd, "extract") == 0) {
        cli->cmd = CMD_EXTRACT;
        stream_spec_init(&cli->extract.spec);
        rc = parse_extract(&cli->extract, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "discover") == 0) {
        cli->cmd = CMD_DISCOVER;
        rc = parse_discover(&cli->discover, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "join") == 0) {
        cli->cmd = CMD_JOIN;
        rc = parse_join(&cli->join, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "run") == 0) {
        cli->cmd = CMD_RUN;
        rc = run_parse(&cli->run, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "status") == 0) {
        cli->cmd = CMD_STATUS;
        rc = status_parse(&cli->status, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "daemon") == 0) {
        cli->cmd = CMD_DAEMON;
        rc = daemon_parse(&cli->daemon, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "verify") == 0) {
        cli->cmd = CMD_VERIFY;
        rc = verify_parse(&cli->verify, n, args, err, errlen, &help);
    } else {
        rc = errbuf_fail(err, errlen, EXIT_USAGE, "unknown command '%s' (expected extract, discover, join, run, status, daemon, verify, --help or --version)", cmd);
    }
    free(args);
    if (rc == 0 && help) {
        cli->help_for = cli->cmd;
        cli->cmd = CMD_HELP;
    }
    return rc;
}

void cli_free(struct cli *cli)
{
    stream_spec_free(&cli->extract.spec);
    run_cmd_free(&cli->run);
}
