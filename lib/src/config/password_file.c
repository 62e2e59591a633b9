/* SPDX-License-Identifier: MIT */
/* PasswordFile: the password on the first line of a file, which should be
 * readable by collectd's user alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings_private.h"

#define PASSWORD_FILE_MAX 4096

int dva_settings_read_password_file(const dva_config *c, dva_settings *s,
                                    dva_config_warn_fn *warn, void *warn_ctx,
                                    dva_error *err)
{
    int fd = open(s->password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option PasswordFile: cannot read \"%s\": %s "
                        "(make it readable by the user collectd runs as)",
                        c->name, s->password_file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 && warn != NULL) {
        char msg[DVA_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg),
                 "instance \"%s\": PasswordFile \"%s\" is readable by group or others "
                 "(mode %04o); chmod 600 it",
                 c->name, s->password_file, (unsigned)(st.st_mode & 07777));
        warn(warn_ctx, msg);
    }
    char buf[PASSWORD_FILE_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    size_t line = strcspn(buf, "\r\n");
    int rc = 0;
    if (line == len && len == sizeof(buf) - 1)
        rc = dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option PasswordFile: \"%s\" has no line break in "
            "its first %d bytes; it must hold the password on its first line",
            c->name, s->password_file, PASSWORD_FILE_MAX);
    else if (line == 0)
        rc = dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option PasswordFile: the first line of \"%s\" is "
            "empty; write the server's doveadm_password there",
            c->name, s->password_file);
    else if ((s->password = strndup(buf, line)) == NULL)
        rc = dva_fail(err, DVA_ERR_NOMEM, "out of memory");
    explicit_bzero(buf, sizeof(buf));
    return rc;
}
