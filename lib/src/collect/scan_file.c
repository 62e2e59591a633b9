/* SPDX-License-Identifier: MIT */
/* The user-list file of a server-side quota scan: see scan_file.h. */
#define _GNU_SOURCE
#include "scan_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode_util.h"

bool dva_scan_name_ok(const char *name)
{
    if (name == NULL || *name == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int dva_scan_write_file(const char *dir, const char *const *names, size_t n,
                        char **path, dva_error *err)
{
    *path = NULL;
    char *p = NULL;
    if (dir == NULL || dir[0] != '/' ||
        asprintf(&p, "%s/" DVA_SCAN_FILE_PREFIX "XXXXXX", dir) < 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "the quota scan directory must be an absolute path");
    int fd = mkstemp(p); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        int e = errno;
        dva_fail(err, DVA_ERR_IO, "cannot create a user list file in %s: %s", dir,
                 strerror(e));
        free(p);
        return -1;
    }
    /* One buffered write per 64 KiB instead of one per name. */
    char buf[65536];
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(names[i]);
        if (used + len + 1 > sizeof(buf)) {
            rc = write_all(fd, buf, used);
            used = 0;
        }
        if (len + 1 > sizeof(buf)) {
            rc = rc == 0 && write_all(fd, names[i], len) == 0 ? write_all(fd, "\n", 1)
                                                              : -1;
            continue;
        }
        memcpy(buf + used, names[i], len);
        buf[used + len] = '\n';
        used += len + 1;
    }
    if (rc == 0)
        rc = write_all(fd, buf, used);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc < 0) {
        dva_fail(err, DVA_ERR_IO, "cannot write the user list file %s: %s", p,
                 strerror(e));
        unlink(p);
        free(p);
        return -1;
    }
    *path = p;
    return 0;
}

long dva_scan_next(dva_scan_cursor *cur, const char *user, const char *const *names,
                   size_t n, size_t row, dva_error *err)
{
    if (cur->at < n && dva_user_equal(user, names[cur->at])) {
        cur->started = true;
        return (long)cur->at;
    }
    /* A later user of the list; never one already passed. */
    size_t next = cur->started ? cur->at + 1 : cur->at;
    while (next < n && !dva_user_equal(user, names[next]))
        next++;
    if (next == n) {
        char q[DVA_QUOTE_MAX];
        dva_fail(err, DVA_ERR_DECODE,
                 "Row %zu of the quota scan reply is for user \"%s\", who is not "
                 "next in the user list; refusing to credit the scan's values.",
                 row, dva_quote(q, sizeof(q), user, strlen(user)));
        return -1;
    }
    cur->at = next;
    cur->started = true;
    return (long)next;
}

int dva_scan_assign(const dva_quota *quota, const char *const *names, size_t n,
                    dva_scan_range *ranges, dva_error *err)
{
    for (size_t i = 0; i < n; i++)
        ranges[i] = (dva_scan_range){0, 0};
    dva_scan_cursor cur = {0, false};
    for (size_t r = 0; r < quota->nrows; r++) {
        long k = dva_scan_next(&cur, quota->rows[r].user, names, n, r + 1, err);
        if (k < 0)
            return -1;
        if (ranges[k].count++ == 0)
            ranges[k].first = r;
    }
    return 0;
}
