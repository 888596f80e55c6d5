/* test_envsubst.c - ${NAME}, ${NAME:-default} and $$ in manifest strings;
 * errors name the variable and never show a value or the text around it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/envsubst.h"

/* A fixed environment: NAME=VALUE pairs. */
static const char *const ENV[][2] = {
    {"PGHOST", "db.internal"},
    {"PGPASSWORD", "s3cr3t$pw}"},
    {"EMPTY", ""},
    {"_X1", "x"},
    {"REF", "${PGHOST}"},
};

static const char *fake_env(const char *name, void *ctx)
{
    int *calls = ctx;
    if (calls)
        (*calls)++;
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++)
        if (strcmp(ENV[i][0], name) == 0)
            return ENV[i][1];
    return NULL;
}

static void expect_out(const char *in, const char *want)
{
    char *out = NULL, err[256] = "";
    if (envsubst(&out, in, fake_env, NULL, err, sizeof err) != 0)
        fail_msg("envsubst(%s) failed: %s", in, err);
    if (strcmp(out, want) != 0)
        fail_msg("envsubst(%s) = [%s], want [%s]", in, out, want);
    free(out);
}

/* Fails with a message containing want and none of the secrets. */
static void expect_err(const char *in, const char *want)
{
    char *out = (char *)1, err[256] = "";
    if (envsubst(&out, in, fake_env, NULL, err, sizeof err) == 0)
        fail_msg("envsubst(%s) succeeded: [%s]", in, out);
    assert_null(out);
    if (!strstr(err, want))
        fail_msg("envsubst(%s): error [%s] lacks [%s]", in, err, want);
    const char *secrets[] = {"s3cr3t", "hunter2", "db.internal"};
    for (size_t i = 0; i < 3; i++)
        if (strstr(err, secrets[i]))
            fail_msg("envsubst(%s): error [%s] shows [%s]", in, err, secrets[i]);
}

static void test_plain(void **ctx)
{
    (void)ctx;
    expect_out("", "");
    expect_out("sqlite:/data/app.db", "sqlite:/data/app.db");
    expect_out("postgres://u@h/db?x={y}", "postgres://u@h/db?x={y}");
}

static void test_variables(void **ctx)
{
    (void)ctx;
    expect_out("postgres://${PGHOST}/db", "postgres://db.internal/db");
    expect_out("${PGHOST}", "db.internal");
    expect_out("${PGHOST}${_X1}", "db.internalx");
    /* Values go in verbatim: their $, { and } are not expanded again. */
    expect_out("postgres://u:${PGPASSWORD}@h/db", "postgres://u:s3cr3t$pw}@h/db");
    expect_out("${REF}", "${PGHOST}");
    /* Set but empty is a value. */
    expect_out("a${EMPTY}b", "ab");
}

static void test_defaults(void **ctx)
{
    (void)ctx;
    expect_out("${NOPE:-localhost}", "localhost");
    expect_out("${PGHOST:-localhost}", "db.internal");
    expect_out("${EMPTY:-fallback}", "fallback"); /* :- also covers empty */
    expect_out("${NOPE:-}", "");
    expect_out("${NOPE:-a:b/c?d=e}", "a:b/c?d=e");
    expect_out("${NOPE:-$x}", "$x"); /* the default is verbatim */
    expect_out("${NOPE:-{}x", "{x");
}

static void test_dollar_dollar(void **ctx)
{
    (void)ctx;
    expect_out("$$", "$");
    expect_out("pa$$word", "pa$word");
    expect_out("$$$${PGHOST}", "$${PGHOST}");
    expect_out("$$${PGHOST}", "$db.internal");
}

static void test_errors(void **ctx)
{
    (void)ctx;
    expect_err("postgres://u:hunter2@h/${NOT_SET}", "environment variable NOT_SET is not set");
    expect_err("postgres://u:hunter2@h/$HOME", "'$' at character 24");
    expect_err("hunter2$", "'$' at character 8");
    expect_err("hunter2${", "character 8");
    expect_err("hunter2${1X}", "starts with a letter");
    expect_err("hunter2${PGHOST", "${PGHOST at character 8 is not closed");
    expect_err("hunter2${PGHOST:-x", "is not closed");
    expect_err("hunter2${PGHOST-x}", "expected '}' or ':-'");
    expect_err("${PGHOST} ${ALSO_MISSING}", "ALSO_MISSING");
    char longname[400] = "${";
    memset(longname + 2, 'A', 300);
    strcpy(longname + 302, "}");
    expect_err(longname, "longer than 255");
}

static void test_getenv_default(void **ctx)
{
    (void)ctx;
    setenv("SLUICE_TEST_ENVSUBST", "from-env", 1);
    char *out = NULL, err[256];
    assert_int_equal(envsubst(&out, "x-${SLUICE_TEST_ENVSUBST}", NULL, NULL, err, sizeof err), 0);
    assert_string_equal(out, "x-from-env");
    free(out);
    unsetenv("SLUICE_TEST_ENVSUBST");
    assert_int_equal(envsubst(&out, "${SLUICE_TEST_ENVSUBST}", NULL, NULL, err, sizeof err), -1);
    assert_null(out);
}

static void test_lookup_ctx(void **ctx)
{
    (void)ctx;
    int calls = 0;
    char *out = NULL;
    assert_int_equal(envsubst(&out, "${PGHOST}-${_X1}-$$", fake_env, &calls, NULL, 0), 0);
    assert_string_equal(out, "db.internal-x-$");
    assert_int_equal(calls, 2);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dollar_dollar),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_getenv_default),
        cmocka_unit_test(test_lookup_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
