#include "url.h"

#include <string.h>
#include <strings.h>

static int secret_key(const char *k, size_t n)
{
    static const char *const keys[] = {"password", "passwd", "pwd", "sslpassword"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strlen(keys[i]) == n && strncasecmp(k, keys[i], n) == 0)
            return 1;
    return 0;
}

struct out {
    char *p;
    size_t left;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (!o->left)
        return;
    if (n >= o->left)
        n = o->left - 1;
    memcpy(o->p, s, n);
    o->p += n;
    o->left -= n;
    *o->p = '\0';
}

/* key=value words separated by spaces (libpq conninfo). Quoted values may
 * hold spaces and backslash escapes. */
static void redact_conninfo(const char *s, struct out *o)
{
    while (*s) {
        const char *start = s;
        while (*s == ' ')
            s++;
        const char *key = s;
        while (*s && *s != '=' && *s != ' ')
            s++;
        size_t klen = (size_t)(s - key);
        const char *after_key = s;
        while (*s == ' ')
            s++; /* libpq allows spaces around '=' */
        if (*s != '=')
            s = after_key;
        if (*s == '=') {
            s++;
            while (*s == ' ')
                s++;
            if (*s == '\'') {
                for (s++; *s && *s != '\''; s++)
                    if (*s == '\\' && s[1])
                        s++;
                if (*s)
                    s++;
            } else {
                while (*s && *s != ' ')
                    s++;
            }
        }
        if (!secret_key(key, klen))
            put(o, start, (size_t)(s - start));
    }
}

void url_redact(const char *url, char *out, size_t n)
{
    struct out o = {out, n};
    if (n)
        *out = '\0';
    const char *scheme_end = strstr(url, "://");
    const char *sp = strchr(url, ' ');
    if (!scheme_end || (sp && sp < scheme_end)) {
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
    const char *s = query + 1;
    char sep = '?';
    while (*s) {
        const char *end = s + strcspn(s, "&#");
        const char *eq = memchr(s, '=', (size_t)(end - s));
        size_t klen = (size_t)((eq ? eq : end) - s);
        if (!secret_key(s, klen)) {
            put(&o, &sep, 1);
            put(&o, s, (size_t)(end - s));
            sep = '&';
        }
        if (*end == '#') {
            put(&o, end, strlen(end));
            return;
        }
        s = *end ? end + 1 : end;
    }
}
