/* url.h - what sluice may say of a source URL. */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

#include <stddef.h>

/* Writes url to out (NUL-terminated, truncated to n) without secrets: the
 * password of a URI's userinfo (scheme://user:pw@host -> scheme://user@host),
 * and the values of password/passwd/sslpassword query parameters or
 * conninfo words are dropped with their key. */
void url_redact(const char *url, char *out, size_t n);

#endif
