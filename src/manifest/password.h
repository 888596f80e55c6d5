/* password.h - a source's password_file joined with its URL.
 *
 * The file's content, less one trailing newline ("\n" or "\r\n"), is the
 * password. It goes where the URL's own password would go:
 *  - postgres://, postgresql://, mysql://, mariadb:// URIs: into the
 *    userinfo, percent-encoded: scheme://user:PASSWORD@host/db (a URL
 *    without a user gets an empty one, scheme://:PASSWORD@host/db: the
 *    client's default user);
 *  - a libpq conninfo (postgres:host=... dbname=...): appended as
 *    password='...' with ' and \ escaped.
 * A URL that already holds a password (userinfo, or a password query
 * parameter or conninfo word) is refused, and so is any other kind of
 * source (SQLite has no password). Nothing here ever quotes the URL or
 * the password in a message. */
#ifndef SLUICE_MANIFEST_PASSWORD_H
#define SLUICE_MANIFEST_PASSWORD_H

#include <stddef.h>

/* Reads the password file at path into *out (caller frees; the caller
 * should wipe it too). 0, or -1 with a message naming the path only. */
int password_read_file(char **out, const char *path, char *err, size_t errlen);

/* The URL with the password in it, into *out (caller frees). 0, or -1 with
 * a message in err. */
int password_join_url(char **out, const char *url, const char *password, char *err,
                      size_t errlen);

#endif
