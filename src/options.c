/* options.c - parsing of the command line into struct cli. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cursorval.h"
#include "sink.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

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
        fail(err, errlen, "%s: %s is out of range (%llu to %llu)", opt, s,
             (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    fail(err, errlen, "%s: expected a whole number, got '%s'", opt, s);
    return -1;
}

/* Splits a comma list of column names into l. Empty names are refused. */
static int parse_list(const char *opt, const char *s, struct strlist *l,
                      char *err, size_t errlen)
{
    if (l->n)
        return fail(err, errlen, "%s given twice", opt);
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return fail(err, errlen, "%s: empty column name in '%s'", opt, s);
        char *name = strndup(p, n);
        int rc = name ? strlist_add(l, name) : -1;
        free(name);
        if (rc < 0)
            return fail(err, errlen, "out of memory");
        if (!comma)
            return 0;
        p = comma + 1;
    }
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
    return fail(err, errlen, "%s: expected %s, got '%s'", opt, choices, v);
}

enum {
    OPT_PAGING = 256, OPT_KEY, OPT_COLUMNS, OPT_WHERE, OPT_PAGE_SIZE,
    OPT_CHECKPOINT, OPT_STATE, OPT_STREAM, OPT_RESTART, OPT_COMPRESS,
    OPT_PROGRESS, OPT_SNAPSHOT, OPT_MODE, OPT_CURSOR, OPT_START, OPT_END,
    OPT_LOOKBACK, OPT_STEP, OPT_GRANULARITY, OPT_RETRIES, OPT_RETRY_WAIT,
    OPT_THREADS,
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
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT},
    {"state", required_argument, NULL, OPT_STATE},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-wait", required_argument, NULL, OPT_RETRY_WAIT},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"snapshot", no_argument, NULL, OPT_SNAPSHOT},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int nonempty(const char *opt, const char *v, char *err, size_t errlen)
{
    return *v ? 0 : fail(err, errlen, "%s: empty value", opt);
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
        return fail(err, errlen, "%s: expected seconds from 0.001 to 3600, got '%s'", opt, v);
    *ms = (unsigned)(d * 1000 + 0.5);
    return 0;
}

/* A duration option: ISO 8601 (PT15M, P2D) or a count, and never zero. */
static int duration_opt(const char *opt, const char *v, const char **out,
                        char *err, size_t errlen)
{
    struct duration d;
    char why[160];
    if (duration_parse(v, &d, why, sizeof why) < 0)
        return fail(err, errlen, "%s: %s", opt, why);
    if (d.is_count ? d.count == 0 : (d.months == 0 && d.days == 0 && d.usec == 0))
        return fail(err, errlen, "%s: must be more than zero, got '%s'", opt, v);
    *out = v;
    return 0;
}

/* --compress none|gzip[:LEVEL]|zstd[:LEVEL], levels as sink.h allows. */
static int compress_opt(struct extract_opts *o, const char *opt, const char *v, char *err,
                        size_t errlen)
{
    static const char *const names[] = {"none", "gzip", "zstd", NULL};
    const char *colon = strchr(v, ':');
    char name[16];
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    int choice;
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), v);
    if (n >= sizeof name || pick(opt, name, names, &choice, err, errlen))
        return fail(err, errlen, "%s: expected none, gzip[:LEVEL] or zstd[:LEVEL], got '%s'",
                    opt, v);
    o->compress = (enum compress_opt)choice;
    o->compress_level = 0;
    if (!colon)
        return 0;
    if (o->compress == COMPRESS_NONE)
        return fail(err, errlen, "%s: none takes no level, got '%s'", opt, v);
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

/* The incremental options need --mode incremental, and it needs a cursor. */
static int check_mode(const struct extract_opts *o, char *err, size_t errlen)
{
    static const char *const names[] = {"--cursor-field", "--start", "--end",
                                        "--lookback", "--step", "--granularity"};
    const int given[] = {o->cursor.n > 0, !!o->start, !!o->end,
                         !!o->lookback, !!o->step, !!o->granularity};
    if (o->mode == MODE_FULL) {
        for (size_t i = 0; i < sizeof given / sizeof *given; i++)
            if (given[i])
                return fail(err, errlen, "%s needs --mode incremental", names[i]);
        return 0;
    }
    if (!o->cursor.n)
        return fail(err, errlen, "--mode incremental needs --cursor-field COL[,COL]");
    if (o->paging == PAGING_OFFSET)
        return fail(err, errlen, "--mode incremental pages by the cursor: use --paging keyset or cursor, not offset");
    if (o->granularity && !o->step)
        return fail(err, errlen, "--granularity needs --step");
    for (size_t i = 0; i < o->cursor.n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->cursor.v[i], o->cursor.v[j]) == 0)
                return fail(err, errlen, "--cursor-field: column '%s' named twice",
                            o->cursor.v[i]);
    return 0;
}

/* getopt's own messages are replaced by ours: one line, naming the option. */
static int getopt_error(int c, char **argv, const struct option *longopts,
                        char *err, size_t errlen)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return fail(err, errlen, "%s needs a value", arg);
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
            return fail(err, errlen, "--%s takes no value (got '%s')", hit->name, arg);
    }
    if (optopt > 0 && optopt < 256)
        return fail(err, errlen, "unknown option -%c", optopt);
    return fail(err, errlen, "unknown or ambiguous option '%s'", arg);
}

static int parse_extract(struct extract_opts *o, int argc, char **argv,
                         char *err, size_t errlen, int *help)
{
    static const char *const pagings[] = {"keyset", "offset", "cursor", NULL};
    static const char *const progresses[] = {"auto", "always", "never", NULL};
    static const char *const modes[] = {"full", "incremental", NULL};
    o->paging = PAGING_KEYSET;
    o->page_size = OPT_PAGE_SIZE_DEFAULT;
    o->checkpoint_every = OPT_CHECKPOINT_DEFAULT;
    o->compress = COMPRESS_AUTO;
    o->progress = PROGRESS_AUTO;
    o->retry_wait_ms = OPT_RETRY_WAIT_DEFAULT_MS;
    int c, rc = 0, choice;
    uint64_t n;
    const char *opt;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":o:qvh", extract_longopts, NULL)) != -1) {
        opt = "option";
        for (const struct option *lo = extract_longopts; lo->name; lo++)
            if (lo->val == c) {
                static char name[40];
                snprintf(name, sizeof name, "--%s", lo->name);
                opt = name;
            }
        switch (c) {
        case 'o': rc = nonempty(opt, optarg, err, errlen); o->output = optarg; break;
        case OPT_PAGING:
            if ((rc = pick(opt, optarg, pagings, &choice, err, errlen)) == 0)
                o->paging = (enum paging)choice;
            break;
        case OPT_MODE:
            if ((rc = pick(opt, optarg, modes, &choice, err, errlen)) == 0)
                o->mode = (enum sync_mode)choice;
            break;
        case OPT_CURSOR: rc = parse_list(opt, optarg, &o->cursor, err, errlen); break;
        case OPT_START: rc = nonempty(opt, optarg, err, errlen); o->start = optarg; break;
        case OPT_END: rc = nonempty(opt, optarg, err, errlen); o->end = optarg; break;
        case OPT_LOOKBACK: rc = duration_opt(opt, optarg, &o->lookback, err, errlen); break;
        case OPT_STEP: rc = duration_opt(opt, optarg, &o->step, err, errlen); break;
        case OPT_GRANULARITY:
            rc = duration_opt(opt, optarg, &o->granularity, err, errlen);
            break;
        case OPT_KEY: rc = parse_list(opt, optarg, &o->key, err, errlen); break;
        case OPT_COLUMNS: rc = parse_list(opt, optarg, &o->columns, err, errlen); break;
        case OPT_WHERE: rc = nonempty(opt, optarg, err, errlen); o->where = optarg; break;
        case OPT_PAGE_SIZE:
            if (opt_parse_u64(opt, optarg, 1, OPT_PAGE_SIZE_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->page_size = (size_t)n;
            break;
        case OPT_CHECKPOINT:
            if (opt_parse_u64(opt, optarg, 0, UINT64_MAX, &n, err, errlen) < 0)
                rc = EXIT_USAGE;
            o->checkpoint_every = n;
            break;
        case OPT_STATE: rc = nonempty(opt, optarg, err, errlen); o->state_path = optarg; break;
        case OPT_STREAM: rc = nonempty(opt, optarg, err, errlen); o->stream = optarg; break;
        case OPT_RESTART: o->restart = 1; break;
        case OPT_RETRIES:
            if (opt_parse_u64(opt, optarg, 0, OPT_RETRIES_MAX, &n, err, errlen) < 0)
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
        case OPT_PROGRESS:
            if ((rc = pick(opt, optarg, progresses, &choice, err, errlen)) == 0)
                o->progress = (enum progress_mode)choice;
            break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h': *help = 1; return 0;
        default: return getopt_error(c, argv, extract_longopts, err, errlen);
        }
    }
    if (rc)
        return rc;
    if (o->quiet && o->verbose)
        return fail(err, errlen, "--quiet and --verbose exclude each other");
    if ((rc = check_mode(o, err, errlen)))
        return rc;
    int left = argc - optind;
    if (left < 2)
        return fail(err, errlen, "extract needs SOURCE and TABLE (see sluice --help)");
    if (left > 2)
        return fail(err, errlen, "unexpected argument '%s' (options go before SOURCE TABLE or after; values with spaces need quotes)",
                    argv[optind + 2]);
    o->source = argv[optind];
    o->table = argv[optind + 1];
    if (!*o->source)
        return fail(err, errlen, "SOURCE is empty");
    if (!*o->table)
        return fail(err, errlen, "TABLE is empty");
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
        return getopt_error(c, argv, discover_longopts, err, errlen);
    }
    int left = argc - optind;
    if (left < 1)
        return fail(err, errlen, "discover needs SOURCE (see sluice --help)");
    if (left > 2)
        return fail(err, errlen, "unexpected argument '%s'", argv[optind + 2]);
    o->source = argv[optind];
    o->table = left == 2 ? argv[optind + 1] : NULL;
    if (!*o->source)
        return fail(err, errlen, "SOURCE is empty");
    return 0;
}

int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    if (argc < 2)
        return fail(err, errlen, "no command given (see sluice --help)");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cli->cmd = CMD_HELP;
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
        return fail(err, errlen, "out of memory");
    memcpy(args, argv + 1, (size_t)n * sizeof *args);
    optind = 0; /* GNU: reinitialise getopt */
    opterr = 0;
    if (strcmp(cmd, "extract") == 0) {
        cli->cmd = CMD_EXTRACT;
        rc = parse_extract(&cli->extract, n, args, err, errlen, &help);
    } else if (strcmp(cmd, "discover") == 0) {
        cli->cmd = CMD_DISCOVER;
        rc = parse_discover(&cli->discover, n, args, err, errlen, &help);
    } else {
        rc = fail(err, errlen, "unknown command '%s' (expected extract, discover, --help or --version)", cmd);
    }
    free(args);
    if (rc == 0 && help)
        cli->cmd = CMD_HELP;
    return rc;
}

void cli_free(struct cli *cli)
{
    strlist_free(&cli->extract.key);
    strlist_free(&cli->extract.columns);
    strlist_free(&cli->extract.cursor);
}

void cli_usage(FILE *to)
{
    fprintf(to,
"Usage:\n"
"  sluice extract SOURCE TABLE [-o FILE] [options]   one table to NDJSON\n"
"  sluice discover SOURCE [TABLE]                     tables, columns, keys as JSON\n"
"  sluice --help | --version\n"
"\n"
"SOURCE is postgres://..., postgresql://..., mysql://..., mariadb://...,\n"
"sqlite:///abs/path.db, sqlite:relative.db, or a path ending in .db, .sqlite\n"
"or .sqlite3. TABLE is NAME or SCHEMA.NAME.\n"
"\n"
"extract writes one JSON object per row, keys in column order. It checkpoints\n"
"every N rows; if it is killed, run the same command again and it continues\n"
"from the last checkpoint. Into a file (-o) every row is written exactly once;\n"
"to stdout rows after the last checkpoint may be written again (at-least-once).\n"
"A file appears under its name only when the job is complete (until then it is\n"
"FILE.partial).\n"
"\n"
"Options for extract:\n"
"  -o, --output FILE        write to FILE (default: stdout); .gz and .zst compress\n"
"      --paging MODE        keyset (default): WHERE key > last ORDER BY key LIMIT n\n"
"                           offset: ORDER BY key LIMIT n OFFSET m (slower as m grows;\n"
"                             exact only if the table does not change)\n"
"                           cursor: one streamed query, reopened after the last key\n"
"      --key COL[,COL]      paging key (default: primary key, else a unique NOT NULL\n"
"                           index, else SQLite's rowid); must be NOT NULL; the\n"
"                           table's key is appended when COLs are not unique; for a\n"
"                           view it is trusted to be unique and NOT NULL\n"
"      --columns COL[,COL]  output only these columns, in this order\n"
"      --where SQL          only rows matching SQL; TRUSTED input: it is pasted into\n"
"                           the query as written\n"
"      --page-size N        rows per query or fetch (default %d, max %d)\n"
"      --checkpoint-every N rows between checkpoints (default %d; 0: only at the end)\n"
"      --state FILE         state store (default $XDG_STATE_HOME/sluice/state.db,\n"
"                           else ~/.local/state/sluice/state.db)\n"
"      --stream NAME        stream identity in the state store (default: the source\n"
"                           without password, the table and, in full mode, the\n"
"                           output path)\n"
"      --restart            discard an unfinished job of the stream and start anew\n"
"      --retries N          when the connection is lost (or cannot be made), connect\n"
"                           again up to N times and continue from the last\n"
"                           checkpoint in the same run (default 0, max %d)\n"
"      --retry-wait SECONDS first wait before reconnecting (default 1), doubled\n"
"                           after each failed attempt, at most 60\n"
"      --compress MODE[:LEVEL]  none, gzip or zstd (default: by the -o suffix,\n"
"                           .gz or .zst, else none); LEVEL: gzip 1-%d (default\n"
"                           %d), zstd 1-%d (default %d). Compressed output is cut\n"
"                           into 1 MiB blocks compressed in parallel\n"
"      --threads N          compression threads (default: the CPUs this process\n"
"                           may use, here %u; max %d)\n"
"      --snapshot           read every page in one transaction (one snapshot)\n"
"      --progress WHEN      auto (default: when stderr is a terminal), always, never\n"
"  -q, --quiet              no progress and no warnings; errors only\n"
"  -v, --verbose            say what is done: resume points, totals\n"
"\n"
"Incremental mode (--mode incremental): each run is a job that reads only the\n"
"rows whose cursor moved past the stream's high-water mark, in the order\n"
"(cursor columns, key columns), so rows sharing a cursor value are never lost\n"
"or repeated. A job freezes its upper bound when it starts and reads\n"
"  high-water < (cursor, key) and cursor <= upper bound;\n"
"rows changed meanwhile go to the next job. The stream (default: source and\n"
"table, not the output) keeps its high-water mark across runs, so each run\n"
"may write a new -o file. Rows whose cursor is NULL make the job refuse to\n"
"start (exclude them knowingly with --where).\n"
"      --mode MODE          full (default): the whole table; incremental\n"
"      --cursor-field COL[,COL]  the cursor: integer, numeric, date, timestamp or\n"
"                           text columns (never floating point)\n"
"      --start VALUE        first job only: read rows with cursor >= VALUE\n"
"      --end VALUE          read up to cursor <= VALUE (default: the cursor's\n"
"                           maximum when the job starts, held back for timestamp\n"
"                           with time zone cursors to before the oldest open\n"
"                           transaction the server shows)\n"
"      --lookback DURATION  start each job DURATION before the high-water mark\n"
"                           (e.g. PT15M, P2D; a count for integer cursors); rows\n"
"                           in that window are written AGAIN on purpose, for\n"
"                           sources whose timestamps are set before commit\n"
"      --step DURATION      read the range in windows of DURATION on the first\n"
"                           cursor column, checkpointed as each one completes\n"
"      --granularity DURATION  align window ends to multiples of DURATION (from\n"
"                           1970-01-01T00:00:00, or 0 for integer cursors)\n"
"\n"
"Exit codes:\n"
"  0 done   2 usage error   3 source error (SQL, permission, missing table or\n"
"  column)   4 connection error, or connection lost (after --retries)\n"
"  5 output error   6 state store error, or another sluice process is writing\n"
"  the same output or stream\n"
"  130 interrupted (SIGINT/SIGTERM): checkpointed, run again to continue\n"
"  1 internal error\n",
            OPT_PAGE_SIZE_DEFAULT, OPT_PAGE_SIZE_MAX, OPT_CHECKPOINT_DEFAULT, OPT_RETRIES_MAX,
            sink_level_max(SINK_GZIP), sink_level_default(SINK_GZIP), sink_level_max(SINK_ZSTD),
            sink_level_default(SINK_ZSTD), sink_default_threads(), SINK_THREADS_MAX);
}
