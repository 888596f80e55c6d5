/* fuzz_url.c - libFuzzer target for url_redact (src/url.h).
 *
 * The input, cut at its first NUL, is the URL. Checks:
 *  - the output is NUL-terminated within n and never longer than the input;
 *  - a smaller buffer gets a prefix of the full output (n = 0: untouched);
 *  - the full output, read the way libpq and the MySQL driver read a
 *    source, holds no password: in URI form no ':' in the userinfo and no
 *    password/passwd/pwd/sslpassword query key (percent-decoded), in
 *    conninfo form no such key=value word (libpq's lexing: any whitespace
 *    separates, quotes and backslashes escape) and every other word kept
 *    as it was. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, url, out)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz_url: check failed: %s\n  url: [%s]\n  out: [%s]\n", \
                    #cond, url, out);                                           \
            abort();                                                            \
        }                                                                       \
    } while (0)

static int is_secret(const char *k, size_t n)
{
    static const char *const keys[] = {"password", "passwd", "pwd", "sslpassword"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strlen(keys[i]) == n && strncasecmp(k, keys[i], n) == 0)
            return 1;
    return 0;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The query key s[0..n) percent-decoded into k (at least n + 1 bytes). */
static size_t decode_key(const char *s, size_t n, char *k)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexv((unsigned char)s[i + 1]) >= 0 &&
            hexv((unsigned char)s[i + 2]) >= 0) {
            k[o++] = (char)(hexv((unsigned char)s[i + 1]) << 4 | hexv((unsigned char)s[i + 2]));
            i += 2;
        } else {
            k[o++] = s[i];
        }
    }
    k[o] = '\0';
    return o;
}

static int is_uri(const char *url)
{
    const char *se = strstr(url, "://");
    if (!se)
        return 0;
    for (const char *p = url; p < se; p++)
        if (isspace((unsigned char)*p))
            return 0;
    return 1;
}

static void check_uri(const char *url, const char *out)
{
    const char *se = strstr(out, "://");
    CHECK(se && strncmp(out, url, (size_t)(se + 3 - out)) == 0, url, out);
    const char *rest = se + 3;
    const char *at = strrchr(rest, '@');
    if (at)
        CHECK(memchr(rest, ':', (size_t)(at - rest)) == NULL, url, out);
    const char *q = strchr(at ? at + 1 : rest, '?');
    if (!q)
        return;
    char *key = malloc(strlen(q) + 1);
    for (const char *s = q + 1;;) {
        size_t len = strcspn(s, "&");
        size_t klen = strcspn(s, "&=");
        if (klen > len)
            klen = len;
        size_t dn = decode_key(s, klen, key);
        CHECK(!is_secret(key, dn), url, out);
        if (!s[len])
            break;
        s += len + 1;
    }
    free(key);
}

/* The next conninfo word at *p as libpq lexes it: [*word, *p) after the
 * call, its key [*word, *word + *klen); a bare word (no '=') has no value.
 * 0 at the end. */
static int next_word(const char **p, const char **word, size_t *klen)
{
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    *word = s;
    while (*s && *s != '=' && !isspace((unsigned char)*s))
        s++;
    *klen = (size_t)(s - *word);
    const char *after_key = s;
    while (isspace((unsigned char)*s))
        s++;
    if (*s != '=') {
        *p = after_key;
        return 1;
    }
    s++;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\'') {
        for (s++; *s && *s != '\''; s++)
            if (*s == '\\' && s[1])
                s++;
        if (*s)
            s++;
    } else {
        for (; *s && !isspace((unsigned char)*s); s++)
            if (*s == '\\' && s[1])
                s++;
    }
    *p = s;
    return 1;
}

/* The output's words are the input's words less those with a secret key,
 * in order and unchanged: nothing of a password survives, nothing else is
 * lost. An input with a bare word (no '='), which libpq refuses, may lex
 * differently once a word is gone; there only no secret key may remain. */
static void check_conninfo(const char *url, const char *out)
{
    const char *in = url, *o = out, *iw, *ow;
    size_t ik, ok;
    int bare = 0;
    while (next_word(&in, &iw, &ik))
        if (in == iw + ik)
            bare = 1;
    if (bare) {
        while (next_word(&o, &ow, &ok))
            CHECK(o == ow + ok || !is_secret(ow, ok), url, out);
        return;
    }
    in = url;
    for (;;) {
        int more = 0;
        while ((more = next_word(&in, &iw, &ik)) && is_secret(iw, ik))
            ;
        int omore = next_word(&o, &ow, &ok);
        CHECK(more == omore, url, out);
        if (!more)
            return;
        CHECK(!is_secret(ow, ok), url, out);
        CHECK(in - iw == o - ow && memcmp(iw, ow, (size_t)(in - iw)) == 0, url, out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    size_t len = strlen(url);

    size_t n = len + 16;
    char *full = malloc(n);
    memset(full, 'X', n);
    url_redact(url, full, n);
    CHECK(memchr(full, '\0', n) != NULL, url, "(not terminated)");
    size_t flen = strlen(full);
    CHECK(flen <= len, url, full);

    /* Smaller buffers: a prefix of the full output, and nothing past n. */
    size_t sizes[] = {1, 2, 3, 8, len / 2 + 1, len};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t k = sizes[i];
        if (k == 0)
            continue;
        char *small = malloc(k); /* exact size: ASan catches overruns */
        memset(small, 'X', k);
        url_redact(url, small, k);
        CHECK(memchr(small, '\0', k) != NULL, url, "(small not terminated)");
        size_t want = flen < k - 1 ? flen : k - 1;
        CHECK(strlen(small) == want && memcmp(small, full, want) == 0, url, small);
        free(small);
    }
    char untouched = 'X';
    url_redact(url, &untouched, 0);
    CHECK(untouched == 'X', url, full);

    if (is_uri(url))
        check_uri(url, full);
    else if (strchr(url, '='))
        check_conninfo(url, full);
    else
        CHECK(strcmp(url, full) == 0, url, full); /* nothing to redact */
    free(full);
    free(url);
    return 0;
}
