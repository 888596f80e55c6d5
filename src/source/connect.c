#include "source/connect.h"

#include <stdio.h>
#include <string.h>

#include "common/exitcode.h"
#include "source/url.h"

int source_exit_code(int source_code)
{
    switch (source_code) {
    case SOURCE_ECONN: return EXIT_CONNECT;
    case SOURCE_EUSAGE: return EXIT_USAGE;
    case SOURCE_ENOMEM: return EXIT_INTERNAL;
    default: return EXIT_SOURCE;
    }
}

/* Schemes sluice knows, whether or not this build has their driver. */
static const char *known_scheme(const char *url)
{
    static const char *const schemes[][2] = {
        {"postgres://", "postgres"}, {"postgresql://", "postgres"},
        {"postgres:", "postgres"},   {"postgresql:", "postgres"},
        {"mysql://", "mysql"},       {"mariadb://", "mysql"},
        {"sqlite:", "sqlite"},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(url, schemes[i][0], strlen(schemes[i][0])) == 0)
            return schemes[i][1];
    return NULL;
}

int source_connect(const char *url, struct source **out, char *err, size_t errlen)
{
    *out = NULL;
    const struct source_driver *drv = source_find(url);
    if (!drv) {
        char shown[512];
        url_redact(url, shown, sizeof shown);
        const char *scheme = known_scheme(url);
        if (scheme)
            snprintf(err, errlen, "this sluice was built without the %s driver (drivers: %s)",
                     scheme, source_driver_names());
        else
            snprintf(err, errlen,
                     "unknown source '%s': expected postgres://, postgresql://, mysql://, mariadb://, sqlite:, a libpq conninfo (host=... dbname=...) or a path ending in .db, .sqlite or .sqlite3",
                     shown);
        return SOURCE_EUSAGE;
    }
    int rc = source_open(drv, url, out);
    if (rc < 0) {
        snprintf(err, errlen, "%s", *out ? source_error(*out) : "out of memory");
        source_close(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}
