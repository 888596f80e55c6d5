#include "manifest/password.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "source/url.h"

#define PASSWORD_MAX 4096

int password_read_file(char **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return errbuf_fail(err, errlen, -1, "%s is not a regular file", path);
    }
    char *buf = malloc(PASSWORD_MAX + 2);
    if (!buf) {
        close(fd);
        return errbuf_fail(err, errlen, -1, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, PASSWORD_MAX + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return errbuf_fail(err, errlen, -1, "cannot read %s: %s", path, strerror(e));
        }
        if (got == 0 || (n += (size_t)got) > PASSWORD_MAX)
            break;
    }
    close(fd);
    int rc = 0;
    if (n > PASSWORD_MAX)
        rc = errbuf_fail(err, errlen, -1, "%s is longer than %d bytes: not a password", path, PASSWORD_MAX);
    if (rc == 0 && n && buf[n - 1] == '\n')
        n -= n > 1 && buf[n - 2] == '\r' ? 2 : 1;
    buf[n] = '\0';
    if (rc == 0 && n == 0)
        rc = errbuf_fail(err, errlen, -1, "%s is empty", path);
    if (rc == 0 && (memchr(buf, '\0', n) || memchr(buf, '\n', n) || memchr(buf, '\r', n)))
        rc = errbuf_fail(err, errlen, -1, "%s holds more than one line (or a NUL byte): not a password",
                         path);
    if (rc < 0) {
        explicit_bzero(buf, PASSWORD_MAX + 2);
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static const char *uri_scheme_end(const char *url)
{
    static const char *const schemes[] = {"postgres://", "postgresql://", "mysql://",
                                          "mariadb://"};
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            return url + strlen(schemes[i]);
    return NULL;
}

int password_join_url(char **out, const char *url, const char *password, char *err,
                      size_t errlen)
{
    *out = NULL;
    /* url_redact drops every secret it knows of: a URL it changes has one. */
    size_t n = strlen(url);
    char *red = malloc(n + 1);
    if (!red)
        return errbuf_fail(err, errlen, -1, "out of memory");
    url_redact(url, red, n + 1);
    int has_secret = strcmp(red, url) != 0;
    free(red);
    if (has_secret)
        return errbuf_fail(err, errlen, -1, "the url holds a password already: give it in one place, the url or password_file");
    struct buf b;
    buf_init(&b, 1 << 20);
    const char *host = uri_scheme_end(url);
    if (host) {
        size_t auth_len = strcspn(host, "/?#");
        const char *at = NULL;
        for (const char *p = host; p < host + auth_len; p++)
            if (*p == '@')
                at = p;
        /* scheme:// [user] :PASSWORD @ rest */
        buf_append(&b, url, (size_t)((at ? at : host) - url));
        buf_putc(&b, ':');
        for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
            if (is_unreserved(*p))
                buf_putc(&b, (char)*p);
            else
                buf_printf(&b, "%%%02X", *p);
        }
        buf_putc(&b, '@');
        buf_puts(&b, at ? at + 1 : host);
    } else if (strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0) {
        buf_puts(&b, url);
        buf_puts(&b, " password='");
        for (const char *p = password; *p; p++) {
            if (*p == '\'' || *p == '\\')
                buf_putc(&b, '\\');
            buf_putc(&b, *p);
        }
        buf_putc(&b, '\'');
    } else {
        buf_free(&b);
        return errbuf_fail(err, errlen, -1, "password_file is for PostgreSQL and MySQL/MariaDB sources (postgres://, postgresql://, mysql://, mariadb://)");
    }
    if (!buf_cstr(&b)) {
        explicit_bzero(b.data, b.cap);
        buf_free(&b);
        return errbuf_fail(err, errlen, -1, "out of memory");
    }
    *out = b.data; /* the buffer's memory is the caller's now */
    return 0;
}
