/* usage.c - the help texts: an overview of the commands, and each
 * command's own usage (`sluice CMD --help`, `sluice help CMD`). The man
 * page (man/sluice.1) says the same; a test compares their options. */
#include "cli/options.h"
#include "output/sink.h"

static void overview(FILE *to)
{
    fputs(
"Usage: sluice COMMAND [options] [arguments]\n"
"\n"
"Commands:\n"
"  extract SOURCE TABLE [-o FILE]   one table to NDJSON, resumable\n"
"  discover SOURCE [TABLE]          tables, columns, keys and estimates as JSON\n"
"  join FILE                        the parts of a sharded extraction into FILE\n"
"  run MANIFEST [STREAM...]         the manifest's streams (--due: those whose\n"
"                                   schedule fired; --dry-run: say what would run)\n"
"  status MANIFEST [STREAM]         each stream's state, checkpoint, runs and\n"
"                                   schedule (--json, --prometheus)\n"
"  daemon MANIFEST                  run the streams on their schedules\n"
"  verify FILE [--against [SOURCE]] a backup against its sidecar and its table\n"
"  help [COMMAND]                   this overview, or one command's usage\n"
"  --version                        the version and the compiled-in drivers\n"
"\n"
"Run `sluice COMMAND --help` (or `sluice help COMMAND`) for a command's options.\n"
"\n"
"SOURCE is postgres://..., postgresql://..., a libpq conninfo (host=... dbname=...),\n"
"mysql://..., mariadb://..., sqlite:///abs/path.db, sqlite:relative.db, or a path\n"
"ending in .db, .sqlite or .sqlite3. Passwords come from the URL, the\n"
"environment (PGPASSWORD, MYSQL_PWD), .pgpass or option files, and never\n"
"appear in any output.\n"
"\n", to);
}

static void exit_codes(FILE *to)
{
    fputs(
"Exit codes:\n"
"  0 done   2 usage error   3 source error (SQL, permission, missing table or\n"
"  column)   4 connection error, or connection lost (after --retries)\n"
"  5 output error   6 state store error, or another sluice process is writing\n"
"  the same output or stream\n"
"  7 (run) a stream was skipped: another sluice process is running it\n"
"  10 (run, verify) a backup does not match its sidecar\n"
"  11 (verify --against) the table moved since   12 no sidecar   13 the\n"
"  sidecar describes another file   14 a sidecar from a newer sluice\n"
"  15 SOURCE is not the sidecar's database   16 the table's columns changed\n"
"  130 interrupted (SIGINT/SIGTERM): checkpointed, run again to continue\n"
"  141 stdout's reader closed it (| head): stopped quietly, as a shell reports\n"
"  a writer killed by SIGPIPE\n"
"  1 internal error\n", to);
}

static void extract_usage(FILE *to)
{
    fprintf(to,
"Usage: sluice extract SOURCE TABLE [-o FILE] [options]\n"
"\n"
"Writes one JSON object per row of TABLE, keys in column order. TABLE is NAME\n"
"or SCHEMA.NAME; a part holding a dot or a quote is written in double quotes,\n"
"as in SQL: '\"my.schema\".orders'. Every option may be given once.\n"
"\n"
"It checkpoints every N rows; if it is killed, run the same command again and\n"
"it continues from the last checkpoint. Into a file (-o) every row is written\n"
"exactly once, and the file appears under its name only when the job is\n"
"complete (until then it is FILE.partial). To stdout, each run is a new job;\n"
"with --stream NAME a run to stdout resumes the stream's unfinished job, and\n"
"rows after its last checkpoint may be written again (at-least-once).\n"
"\n"
"Options:\n"
"  -o, --output FILE        write to FILE (default: stdout); .gz and .zst compress\n"
"      --paging MODE        keyset (default): WHERE key > last ORDER BY key LIMIT n\n"
"                           offset: ORDER BY key LIMIT n OFFSET m (slower as m grows;\n"
"                             exact only if the table does not change)\n"
"                           cursor: one streamed query, reopened after the last key\n"
"      --key COL[,COL]      paging key (default: primary key, else a unique NOT NULL\n"
"                           index, else SQLite's rowid or PostgreSQL's ctid); must be\n"
"                           NOT NULL; the table's key is appended when COLs are not\n"
"                           unique; for a view it is trusted to be unique and NOT NULL\n"
"      --columns COL[,COL]  output only these columns, in this order\n"
"      --where SQL          only rows matching SQL, ANDed in on lines of its own;\n"
"                           TRUSTED input: it is pasted into the query as written\n"
"      --page-size N        rows per query or fetch at most (default %d, max %d)\n"
"      --page-bytes SIZE    about this much data per page (default 16M; K, M, G\n"
"                           suffixes; 0: no limit): pages of wide rows hold fewer rows\n"
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
"      --meta               also write FILE.meta.json when FILE is published: what\n"
"                           it holds (stream, table, columns, bounds, rows, bytes,\n"
"                           SHA-256); see the README, \"Sidecar\"\n"
"      --progress WHEN      auto (default: when stderr is a terminal), always, never\n"
"\n"
"Partitions: the table cut into N key ranges of about equal rows, each\n"
"extracted as a job of its own (own connection, own checkpoints) into\n"
"FILE.part-NNNN, then joined in key order into FILE: the same bytes as one\n"
"process writes (gzip members and zstd frames concatenate into one valid\n"
"file). The boundaries are recorded when the job starts; a resumed job keeps\n"
"them, and resuming with other --partitions or --shard is refused.\n"
"      --partitions N       cut the table into N partitions (1 to 10000); needs -o\n"
"      --parallel K         run up to K partitions at once, each on its own\n"
"                           connection (default 1, at most N)\n"
"      --shard I/N          run only shard I (0 to N-1) of N: partitions p with\n"
"                           p mod N = I; every shard its own state store, the\n"
"                           outputs on storage they share; then `sluice join FILE`\n"
"      --keep-parts         keep FILE.part-NNNN and write their index\n"
"                           FILE.parts.json (range, rows, bytes, SHA-256 of each)\n"
"                           instead of joining them\n"
"      --snapshot-lock      with --snapshot on MySQL/MariaDB: begin the partitions'\n"
"                           transactions under FLUSH TABLES WITH READ LOCK (writes\n"
"                           wait a moment; needs the RELOAD privilege), so they\n"
"                           read exactly one snapshot\n"
"      With --snapshot, the partitions read in one snapshot: PostgreSQL exports\n"
"      it to them; MySQL/MariaDB begin their transactions together (one\n"
"      connection per unfinished partition, opened at the start), a write\n"
"      committed while they begin seen by some only, unless --snapshot-lock.\n"
"      A resumed job reads its rest in a new snapshot, and says so.\n"
"\n"
"  -q, --quiet              no progress and no warnings; errors only\n"
"  -v, --verbose            say what is done: resume points, totals\n"
"  -h, --help               this help\n"
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
"\n",
            SPEC_PAGE_SIZE_DEFAULT, SPEC_PAGE_SIZE_MAX, SPEC_CHECKPOINT_DEFAULT,
            SPEC_RETRIES_MAX, sink_level_max(SINK_GZIP), sink_level_default(SINK_GZIP),
            sink_level_max(SINK_ZSTD), sink_level_default(SINK_ZSTD), sink_default_threads(),
            SINK_THREADS_MAX);
    exit_codes(to);
}

static void discover_usage(FILE *to)
{
    fputs(
"Usage: sluice discover SOURCE [TABLE]\n"
"\n"
"Prints {\"tables\":[...]} on stdout: for every table and view of SOURCE (or\n"
"only TABLE), its schema, name, type, row estimate, primary key, unique NOT\n"
"NULL keys, implicit key (rowid, ctid) and columns with their database and\n"
"JSON types and nullability. Names are written as extract accepts them.\n"
"\n"
"Options:\n"
"  -h, --help               this help\n"
"\n", to);
    exit_codes(to);
}

static void join_usage(FILE *to)
{
    fputs(
"Usage: sluice join FILE [--keep-parts]\n"
"\n"
"Assembles the parts of a partitioned extraction (extract --partitions N -o\n"
"FILE, run as shards with --shard I/N) into FILE, in key order, once every\n"
"part is finished: FILE.part-NNNN and their records FILE.part-NNNN.json, all\n"
"of one job. Each part's SHA-256 is checked against its record. FILE appears\n"
"only when complete; then the parts, records and FILE.plan.json are removed.\n"
"Killed, it finishes on the next run; run again after it is done, it does\n"
"nothing. It refuses, writing nothing, while parts are missing or belong to\n"
"another job.\n"
"\n"
"Options:\n"
"      --keep-parts         keep the parts and write their index FILE.parts.json\n"
"                           (range, rows, bytes, SHA-256 of each) instead\n"
"  -q, --quiet              errors only\n"
"  -v, --verbose            say what is done\n"
"  -h, --help               this help\n"
"\n", to);
    exit_codes(to);
}

static void manifest_note(FILE *to)
{
    fputs(
"MANIFEST is a YAML file: version, state, timezone, concurrency, defaults,\n"
"sources (name: URL, with ${ENV} and password_file) and streams (name, source,\n"
"table, schedule, output template, keep, and every extract option). See the\n"
"README, \"Manifests\".\n"
"\n", to);
}

static void run_usage(FILE *to)
{
    fputs(
"Usage: sluice run MANIFEST [STREAM...] [options]\n"
"\n"
"Runs the named streams of MANIFEST (default: all that are enabled), up to its\n"
"concurrency at once. Each resumes its own unfinished job, or starts a new one\n"
"into its output template expanded at this run's start; a finished output gets\n"
"FILE.meta.json beside it, and then the stream's oldest outputs beyond keep are\n"
"deleted (only files sluice wrote for this stream). One summary line per stream\n"
"on stdout. A stream another sluice process is running is skipped (exit 7).\n"
"\n"
"Options:\n"
"      --due                only streams that are due: their schedule fired since\n"
"                           their last run started, they never ran, or their last\n"
"                           run was interrupted (for cron or a timer every minute;\n"
"                           streams that are not due print nothing)\n"
"      --dry-run            print what would run and why; change nothing\n"
"      --restart            discard the named streams' unfinished jobs, start anew\n"
"      --list-streams       print the manifest's stream names, one a line, and exit\n"
"      --log-format FORMAT  text (default) or json: log lines on stderr and the\n"
"                           summary lines on stdout as one JSON object per line\n"
"  -q, --quiet              no warnings; errors and summaries only\n"
"  -v, --verbose            say what is done, and why streams are not due\n"
"  -h, --help               this help\n"
"\n", to);
    manifest_note(to);
    fputs(
"The exit code is 0 when every stream that ran succeeded, else the most severe\n"
"of theirs, from least to most: 7, 4, 3, 2, 5, 6, 1, 130.\n"
"\n", to);
    exit_codes(to);
}

static void status_usage(FILE *to)
{
    fputs(
"Usage: sluice status MANIFEST [STREAM] [--json | --prometheus] [-o FILE]\n"
"\n"
"Shows, from the state store, each stream of MANIFEST: its state (idle,\n"
"scheduled, running, interrupted, failed, done), its last run, next fire and\n"
"last success; with STREAM, its checkpoint, high-water mark, last output and\n"
"the last runs in detail. It only reads.\n"
"\n"
"Options:\n"
"      --json               everything as one JSON document (README, \"Status\")\n"
"      --prometheus         the node_exporter textfile format: last success time,\n"
"                           last run status, rows, bytes, next fire, per stream\n"
"  -o, --output FILE        write to FILE atomically (for node_exporter's textfile\n"
"                           directory) instead of stdout\n"
"      --list-streams       print the manifest's stream names, one a line, and exit\n"
"  -h, --help               this help\n"
"\n", to);
    manifest_note(to);
    exit_codes(to);
}

static void verify_usage(FILE *to)
{
    fputs(
"Usage: sluice verify FILE [--against [SOURCE]] [options]\n"
"\n"
"Checks a backup written with --meta (or by a manifest) against its sidecar\n"
"FILE.meta.json: every checkpoint segment's bytes (XXH3-128) and rows, and the\n"
"whole file's size and SHA-256, reading plain, gzip and zstd files in bounded\n"
"memory. One line per bad segment names its byte range and key range:\n"
"changed, truncated, missing; bytes after the last segment: extended. FILE may\n"
"also be the sidecar; a file moved together with its sidecar verifies the same.\n"
"\n"
"With --against, each intact segment's key range is read again from the\n"
"database (the sidecar's source, its password from the usual places; or\n"
"SOURCE, which must name the same database) with the same columns and filter,\n"
"encoded as the extraction encoded it, and compared. Where a segment differs,\n"
"the keys inserted, deleted or changed since are counted (--detail names them).\n"
"An incremental file is compared within its job's bounds. Neither the file nor\n"
"the database is ever written; the result is recorded in the job's state store\n"
"(or --state), where status shows it.\n"
"\n"
"Options:\n"
"      --against            compare with the table too (SOURCE: the second argument)\n"
"      --detail             with --against: one line per key that differs\n"
"      --deleted-keys FILE  with --against: the keys in the file but gone from the\n"
"                           table, one JSON object per line (written atomically)\n"
"      --json               one JSON document on stdout (README, \"Verify\")\n"
"      --state FILE         record the result in this state store\n"
"  -q, --quiet              only errors; the exit code says the result\n"
"  -h, --help               this help\n"
"\n"
"verify exits 0 when the file is intact (and, with --against, the table holds\n"
"the same rows), else with one of 10 to 16 below.\n"
"\n", to);
    exit_codes(to);
}

static void daemon_usage(FILE *to)
{
    fputs(
"Usage: sluice daemon MANIFEST [options]\n"
"\n"
"Runs the streams of MANIFEST when their schedules fire (5-field cron, in the\n"
"manifest's timezone), at most its concurrency at once; a fire while the\n"
"stream's previous run still goes is skipped. At start-up, streams that are due\n"
"(a fire missed while the daemon was down, an interrupted job, never run) run\n"
"once. SIGTERM or SIGINT: running jobs checkpoint, then it exits 0. SIGHUP:\n"
"read MANIFEST again (a bad one is logged and the running one kept; a new\n"
"timezone needs a restart).\n"
"\n"
"Options:\n"
"      --log-format FORMAT  text (default) or json: one JSON object per line on\n"
"                           stderr (time, level, stream, message)\n"
"  -q, --quiet              errors only\n"
"  -v, --verbose            every fire and start too\n"
"  -h, --help               this help\n"
"\n", to);
    manifest_note(to);
    exit_codes(to);
}

void cli_usage(FILE *to, enum command cmd)
{
    switch (cmd) {
    case CMD_EXTRACT: extract_usage(to); break;
    case CMD_JOIN: join_usage(to); break;
    case CMD_DISCOVER: discover_usage(to); break;
    case CMD_RUN: run_usage(to); break;
    case CMD_STATUS: status_usage(to); break;
    case CMD_VERIFY: verify_usage(to); break;
    case CMD_DAEMON: daemon_usage(to); break;
    default:
        overview(to);
        exit_codes(to);
        break;
    }
}
