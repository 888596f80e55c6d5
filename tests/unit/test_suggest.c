/* test_suggest.c - "did you mean": edit distance and the closeness rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "schedule/suggest.h"

static const char *const KEYS[] = {
    "name", "source", "table", "mode", "cursor_field", "key", "columns", "where",
    "paging", "page_size", "checkpoint_every", "lookback", "step", "granularity",
    "retries", "schedule", "output", "compress", "keep", "enabled",
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static void expect_suggest(const char *word, const char *want)
{
    const char *got = suggest_word(word, KEYS, N_KEYS);
    if (want == NULL && got != NULL)
        fail_msg("suggest(%s) = %s, want none", word, got);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        fail_msg("suggest(%s) = %s, want %s", word, got ? got : "(none)", want);
}

static void test_distance(void **ctx)
{
    (void)ctx;
    assert_int_equal(suggest_distance("", ""), 0);
    assert_int_equal(suggest_distance("abc", ""), 3);
    assert_int_equal(suggest_distance("", "abc"), 3);
    assert_int_equal(suggest_distance("schedule", "schedule"), 0);
    assert_int_equal(suggest_distance("shedule", "schedule"), 1);    /* deletion */
    assert_int_equal(suggest_distance("schedulle", "schedule"), 1);  /* insertion */
    assert_int_equal(suggest_distance("schedula", "schedule"), 1);   /* substitution */
    assert_int_equal(suggest_distance("scheduel", "schedule"), 1);   /* transposition */
    assert_int_equal(suggest_distance("Schedule", "schedule"), 0);   /* case */
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    assert_int_equal(suggest_distance("ca", "abc"), 3);              /* OSA, not full DL */
    char longw[SUGGEST_MAX_LEN + 2];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    assert_true(suggest_distance(longw, "a") == SIZE_MAX);
}

static void test_near_misses(void **ctx)
{
    (void)ctx;
    expect_suggest("shedule", "schedule");
    expect_suggest("scheduel", "schedule");
    expect_suggest("Schedule", "schedule");
    expect_suggest("tabel", "table");
    expect_suggest("mod", "mode");
    expect_suggest("kep", "key");           /* ties with keep: the earlier entry wins */
    expect_suggest("pagesize", "page_size");
    expect_suggest("checkpoint-every", "checkpoint_every");
    expect_suggest("cursorfeild", "cursor_field"); /* 2 edits, 11 letters */
}

static void test_far_words(void **ctx)
{
    (void)ctx;
    expect_suggest("retry", NULL); /* 2 edits from retries; 5 letters allow 1 */
    expect_suggest("x", NULL);
    expect_suggest("", NULL);
    expect_suggest("ab", NULL);
    expect_suggest("frequency", NULL);
    expect_suggest("sched", NULL); /* a truncation is not a typo */
    assert_null(suggest_word("table", NULL, 0));
}

static void test_threshold_scales(void **ctx)
{
    (void)ctx;
    const char *const words[] = {"granularity"};
    /* 11 letters allow 3 edits, not 4. */
    assert_non_null(suggest_word("granulrity", words, 1));
    assert_non_null(suggest_word("grnularty", words, 1));
    assert_non_null(suggest_word("granXXXrity", words, 1));
    assert_null(suggest_word("grXXXXarity", words, 1));
    /* One letter: only a case difference counts. */
    const char *const one[] = {"k"};
    assert_non_null(suggest_word("K", one, 1));
    assert_null(suggest_word("j", one, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_near_misses),
        cmocka_unit_test(test_far_words),
        cmocka_unit_test(test_threshold_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
