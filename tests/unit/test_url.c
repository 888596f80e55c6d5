/* test_url.c - url_redact: what sluice may print of a source URL. Exact
 * output where the shape is fixed; for every case, never the secret. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "source/url.h"

static void expect_redacted(const char *url, const char *want)
{
    char out[512];
    memset(out, 'Z', sizeof out);
    url_redact(url, out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("url_redact(%s) = [%s], want [%s]", url, out, want);
}

static void expect_no_secret(const char *url, const char *secret)
{
    char out[512];
    url_redact(url, out, sizeof out);
    if (strstr(out, secret))
        fail_msg("url_redact(%s) = [%s] shows the secret [%s]", url, out, secret);
}

static void test_userinfo_password_dropped(void **ctx)
{
    (void)ctx;
    expect_redacted("postgres://user:secret@host:5432/db",
                    "postgres://user@host:5432/db");
    expect_redacted("postgresql://user:secret@host/db",
                    "postgresql://user@host/db");
    expect_redacted("mariadb://root:hunter2@127.0.0.1:3306/shop",
                    "mariadb://root@127.0.0.1:3306/shop");
    /* An empty password is still a password field: the colon goes too. */
    expect_redacted("postgres://user:@host/db", "postgres://user@host/db");
    /* IPv6 host: its colons are not userinfo. */
    expect_redacted("postgres://u:topsecret@[::1]:5432/db",
                    "postgres://u@[::1]:5432/db");
}

static void test_password_with_at_and_colon(void **ctx)
{
    (void)ctx;
    /* The last @ before the path ends the userinfo. */
    expect_redacted("postgres://user:p@ss:w@rd@host:5432/db",
                    "postgres://user@host:5432/db");
    expect_redacted("mysql://u:a:b:c@h/db", "mysql://u@h/db");
    expect_redacted("postgres://u:p%40ss%3Aword@h/db", "postgres://u@h/db");
}

static void test_no_password_unchanged(void **ctx)
{
    (void)ctx;
    const char *same[] = {
        "postgres://user@host:5432/db",
        "postgres://host/db",
        "postgresql:///db?host=/var/run/postgresql",
        "mysql://u@h/db?ssl-mode=REQUIRED",
        "postgres://h/db?sslmode=require&application_name=sluice",
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        expect_redacted(same[i], same[i]);
}

static void test_query_password_dropped(void **ctx)
{
    (void)ctx;
    expect_redacted("mysql://u:p@h/db?ssl-mode=REQUIRED&password=x",
                    "mysql://u@h/db?ssl-mode=REQUIRED");
    expect_redacted("mysql://u@h/db?password=x&ssl-mode=REQUIRED",
                    "mysql://u@h/db?ssl-mode=REQUIRED");
    expect_redacted("mysql://u@h/db?a=1&password=x&b=2", "mysql://u@h/db?a=1&b=2");
    expect_redacted("postgres://h/db?PassWord=zz", "postgres://h/db");
    expect_redacted("postgres://h/db?sslpassword=kk&sslmode=verify-full&passwd=yy&pwd=qq",
                    "postgres://h/db?sslmode=verify-full");
    /* A key that merely contains "password" is not a password. */
    expect_redacted("postgres://h/db?password_file=f", "postgres://h/db?password_file=f");
}

static void test_conninfo_password_dropped(void **ctx)
{
    (void)ctx;
    expect_redacted("host=h password='a b\\' c' user=u", "host=h user=u");
    expect_redacted("host=h password=plain dbname=d", "host=h dbname=d");
    expect_no_secret("password=first host=h", "first");
    expect_no_secret("host=h PASSWORD='x y z'", "x y z");
    expect_no_secret("host=h sslpassword=keypass", "keypass");
}

static void test_sqlite_paths_unchanged(void **ctx)
{
    (void)ctx;
    const char *same[] = {
        "/var/lib/data/shop.db",
        "relative/dir/file.sqlite3",
        "sqlite:///abs/path.db",
        "sqlite:relative.db",
        "sqlite:///tmp/with space.db",
        "/tmp/with space.sqlite",
        "my@odd:name.db",
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        expect_redacted(same[i], same[i]);
}

static void test_truncation_terminated(void **ctx)
{
    (void)ctx;
    const char *url = "postgres://user:secret@host.example.com:5432/database";
    const char *full = "postgres://user@host.example.com:5432/database";
    for (size_t n = 1; n <= strlen(full) + 1; n++) {
        char out[128];
        memset(out, 'Z', sizeof out);
        url_redact(url, out, n);
        size_t len = strnlen(out, n);
        if (len >= n)
            fail_msg("n=%zu: output not NUL-terminated within the buffer", n);
        assert_int_equal(len, n - 1);
        assert_memory_equal(out, full, len);
        assert_int_equal(out[n], 'Z'); /* nothing written past n */
        assert_null(strstr(out, "secret"));
    }
    /* n == 0 writes nothing. */
    char z = 'Z';
    url_redact(url, &z, 0);
    assert_int_equal(z, 'Z');
    /* Truncation inside a query never shows part of a dropped value. */
    char small[24];
    url_redact("mysql://h/d?password=abcdefghij&x=1", small, sizeof small);
    assert_null(strstr(small, "abc"));
}

static void test_never_the_secret(void **ctx)
{
    (void)ctx;
    static const struct {
        const char *url, *secret;
    } cases[] = {
        {"postgres://alice:S3cr3tPw@db:5432/app", "S3cr3tPw"},
        {"postgresql://alice:S3cr3tPw@db/app?sslmode=require", "S3cr3tPw"},
        {"mysql://bob:S3cr3tPw@db:3306/app", "S3cr3tPw"},
        {"mariadb://bob:S3cr3tPw@db/app", "S3cr3tPw"},
        {"mysql://bob:p@ss:S3cr3t@db/app", "S3cr3t"},
        {"mysql://bob:p@ss:S3cr3t@db/app", "p@ss"},
        {"mysql://bob@db/app?password=S3cr3tPw", "S3cr3tPw"},
        {"mysql://bob@db/app?ssl-mode=REQUIRED&password=S3cr3tPw&x=1", "S3cr3tPw"},
        {"mysql://bob@db/app?PASSWORD=S3cr3tPw#frag", "S3cr3tPw"},
        {"postgres://db/app?sslpassword=S3cr3tPw", "S3cr3tPw"},
        {"postgres://a:S3cr3tPw@db/app?password=Other2Pw", "S3cr3tPw"},
        {"postgres://a:S3cr3tPw@db/app?password=Other2Pw", "Other2Pw"},
        {"host=db password=S3cr3tPw user=a", "S3cr3tPw"},
        {"host=db password='S3cr3t Pw' user=a", "S3cr3t"},
        {"host=db password='it\\'s S3cr3t' user=a", "S3cr3t"},
        {"password=S3cr3tPw", "S3cr3tPw"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_no_secret(cases[i].url, cases[i].secret);
}

/* Passwords users paste without percent-encoding, and conninfo written
 * with spaces around '=' (libpq allows both spellings). */
static void test_never_the_secret_odd_spellings(void **ctx)
{
    (void)ctx;
    static const struct {
        const char *url, *secret;
    } cases[] = {
        {"postgres://alice:S3c/r3t@db/app", "r3t"},
        {"postgres://alice:S3c?r3t@db/app", "r3t"},
        {"postgres://alice:S3c#r3t@db/app", "r3t"},
        {"host=db password = S3cr3tPw user=a", "S3cr3tPw"},
        {"host=db password= S3cr3tPw", "S3cr3tPw"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_no_secret(cases[i].url, cases[i].secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userinfo_password_dropped),
        cmocka_unit_test(test_password_with_at_and_colon),
        cmocka_unit_test(test_no_password_unchanged),
        cmocka_unit_test(test_query_password_dropped),
        cmocka_unit_test(test_conninfo_password_dropped),
        cmocka_unit_test(test_sqlite_paths_unchanged),
        cmocka_unit_test(test_truncation_terminated),
        cmocka_unit_test(test_never_the_secret),
        cmocka_unit_test(test_never_the_secret_odd_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
