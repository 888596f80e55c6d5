#include "source/url.h"

#include <string.h>
#include <strings.h>

/* libpq's separators: isspace() in the C locale. */
static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int secret_key(const char *k, size_t n)
{
    static const char *const keys[] = {"password", "passwd", "pwd", "sslpassword"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strlen(keys[i]) == n && strncasecmp(k, keys[i], n) == 0)
            return 1;
    return 0;
}

/* A URI query key as libpq reads it: percent-decoded. */
static int secret_query_key(const char *k, size_t n)
{
    char dec[16];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o == sizeof dec)
            return 0; /* longer than any secret key */
        if (k[i] == '%' && n - i > 2 && hex_digit(k[i + 1]) >= 0 && hex_digit(k[i + 2]) >= 0) {
            dec[o++] = (char)(hex_digit(k[i + 1]) << 4 | hex_digit(k[i + 2]));
            i += 2;
        } else {
            dec[o++] = k[i];
        }
    }
    return secret_key(dec, o);
}

struct out {
    char *p;
    size_t left;
    size_t len; /* bytes written, before truncation */
};

static void put(struct out *o, const char *s, size_t n)
{
    o->len += n;
    if (!o->left)
        return;
    if (n >= o->left)
        n = o->left - 1;
    memcpy(o->p, s, n);
    o->p += n;
    o->left -= n;
    *o->p = '\0';
}

/* key=value words separated by whitespace (libpq conninfo). Values may be
 * quoted to hold spaces; backslash escapes the next character in quoted
 * and unquoted values alike. */
static void redact_conninfo(const char *s, struct out *o)
{
    int dropped = 0;
    while (*s) {
        const char *start = s;
        while (is_space(*s))
            s++;
        const char *key = s;
        while (*s && *s != '=' && !is_space(*s))
            s++;
        size_t klen = (size_t)(s - key);
        const char *after_key = s;
        while (is_space(*s))
            s++; /* libpq allows spaces around '=' */
        if (*s != '=')
            s = after_key;
        if (*s == '=') {
            s++;
            while (is_space(*s))
                s++;
            if (*s == '\'') {
                for (s++; *s && *s != '\''; s++)
                    if (*s == '\\' && s[1])
                        s++;
                if (*s)
                    s++;
            } else {
                for (; *s && !is_space(*s); s++)
                    if (*s == '\\' && s[1])
                        s++;
            }
        }
        if (secret_key(key, klen)) {
            dropped = 1;
            continue;
        }
        /* A word that followed a dropped one without a space must not
         * join the word before it. */
        if (dropped && start == key && o->len)
            put(o, " ", 1);
        dropped = 0;
        put(o, start, (size_t)(s - start));
    }
}

void url_redact(const char *url, char *out, size_t n)
{
    struct out o = {out, n, 0};
    if (n)
        *out = '\0';
    const char *scheme_end = strstr(url, "://");
    const char *sp = url + strcspn(url, " \t\n\v\f\r");
    if (!scheme_end || (*sp && sp < scheme_end)) {
        if (strchr(url, '='))
            redact_conninfo(url, &o);
        else
            put(&o, url, strlen(url));
        return;
    }
    const char *auth = scheme_end + 3;
    /* The last @ of the URL ends the userinfo: a password pasted without
     * percent-encoding may hold '/', '?' or '#'. An '@' in the query makes
     * more than the password disappear, never less. */
    const char *at = strrchr(auth, '@');
    const char *path = (at ? at + 1 : auth) + strcspn(at ? at + 1 : auth, "/?#");
    put(&o, url, (size_t)(auth - url));
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        put(&o, auth, (size_t)((colon ? colon : at) - auth));
        put(&o, "@", 1);
        auth = at + 1;
    }
    const char *query = strchr(path, '?');
    if (!query) {
        put(&o, auth, strlen(auth));
        return;
    }
    put(&o, auth, (size_t)(query - auth));
    /* Parameters are split at '&' only: libpq and the MySQL driver read a
     * '#' as part of a value, so "?a=1#&password=x" sets a password. */
    const char *s = query + 1;
    char sep = '?';
    while (*s) {
        const char *end = s + strcspn(s, "&");
        const char *eq = memchr(s, '=', (size_t)(end - s));
        size_t klen = (size_t)((eq ? eq : end) - s);
        if (!secret_query_key(s, klen)) {
            put(&o, &sep, 1);
            put(&o, s, (size_t)(end - s));
            sep = '&';
        }
        s = *end ? end + 1 : end;
    }
}
