/* test_state_locks.c - a process with several state handles (run, the
 * daemon) keeps SQLite's locks on the store when one of them closes, so
 * another process reading the store cannot checkpoint and remove the WAL
 * under the handles still open. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state/state.h"

static char dir[128], path[192];
static pid_t reader = -1; /* killed by the teardown, whatever happened */

static void must(struct state *st, int rc)
{
    if (rc != 0)
        fail_msg("%s", state_error(st));
}

/* The reader: another process (a fresh one: a forked child would share
 * this process's SQLite bookkeeping) reads the store and closes it, again
 * and again, as `sluice status` or the sqlite3 shell would. */
static void read_forever(const char *file)
{
    for (;;) {
        sqlite3 *db;
        if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
            sqlite3_exec(db, "SELECT count(*) FROM runs", NULL, NULL, NULL);
        sqlite3_close(db);
    }
}

static pid_t read_elsewhere(void)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test */
        execl("/proc/self/exe", "test_state_locks", "--read", path, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void test_closing_one_handle_keeps_the_others_locked(void **ctx)
{
    (void)ctx;
    snprintf(dir, sizeof dir, "%s/sluice-locks-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state.db", dir);
    struct state *a = NULL;
    must(a, state_open(&a, path));
    must(a, state_begin_job(a, "long", NULL, "fp", "out", NULL));
    reader = read_elsewhere();
    for (int round = 0; round < 200; round++) {
        /* A short job beside the long one: its handle opens, writes, closes. */
        struct state *b = NULL;
        int64_t run;
        must(b, state_open(&b, path));
        must(b, state_run_start(b, "short", NULL, "o", -1, &run));
        must(b, state_run_end(b, run, "done", 1, 1, 0, NULL));
        state_close(b);
        /* The long job goes on writing checkpoints... */
        struct keytuple k = {0};
        assert_int_equal(key_init(&k, 1), 0);
        assert_int_equal(key_set_int(&k, 0, round), 0);
        must(a, state_checkpoint(a, "long", NULL, &k, 0, (uint64_t)round + 1, 100, NULL));
        key_clear(&k);
        /* ... and a new handle finds the store whole. */
        struct state *c = NULL;
        struct stream_state ss = {0};
        must(c, state_open(&c, path));
        must(c, state_load(c, "long", NULL, &ss));
        assert_int_equal(ss.rows, (uint64_t)round + 1);
        stream_state_clear(&ss);
        state_close(c);
    }
    state_close(a);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int stop_reader(void **ctx)
{
    (void)ctx;
    if (reader > 0) {
        kill(reader, SIGKILL);
        waitpid(reader, NULL, 0);
        reader = -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--read") == 0)
        read_forever(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_closing_one_handle_keeps_the_others_locked, stop_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
