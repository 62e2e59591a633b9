/* SPDX-License-Identifier: MIT */
/* The server-side quota scan (PROTOCOL.md section 6.5): `quota get -F
 * <file>` makes a local doveadm server read a user list FILE and answer for
 * every user in one process, several times faster than one request per
 * user. The file is written by us into a private directory; the rows of
 * the reply are credited to a user only when they name, in the file's
 * order, a user of the file (so a row can never go to the wrong user).
 * Private to the library: collect_quota_scan.c drives it, in the
 * directory of doveadm/quota_scan.h. */
#ifndef DVA_SCAN_FILE_H
#define DVA_SCAN_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/command.h"
#include "doveadm/quota.h"

/* True when name can be one line of the file: not empty, no byte <= 0x20
 * and no 0x7f (Dovecot 2.3.19 silently skips a line with a space or TAB,
 * and CR/LF would split it). Other users are read one by one. */
bool dva_scan_name_ok(const char *name);

/* The names of the files in the scan directory start with this. */
#define DVA_SCAN_FILE_PREFIX "users."

/* Writes the names, one per line, to a new file dir/users.XXXXXX created
 * with mkstemp() (O_EXCL, mode 0600: never follows a planted link and is
 * complete before its name is sent). *path gets the malloc'd path. */
int dva_scan_write_file(const char *dir, const char *const *names, size_t n,
                        char **path, dva_error *err);

typedef struct {
    size_t first, count; /* rows of one user in the decoded reply */
} dva_scan_range;

/* Where the rows of a scan are in its file's list of names. */
typedef struct {
    size_t at;    /* the user the rows are at */
    bool started; /* rows of names[at] seen */
} dva_scan_cursor;

/* The index in names of the user of the next row (row: its number, for
 * the message), the cursor moved to it: the user of the row before, or a
 * later one of the list (users may be missing); -1 with err
 * (DVA_ERR_DECODE) for anyone else, never a user already passed. */
long dva_scan_next(dva_scan_cursor *cur, const char *user, const char *const *names,
                   size_t n, size_t row, dva_error *err);

/* Credits decoded rows to names (the file's order): ranges[i] gets the
 * rows of names[i] (count 0: the server said nothing about that user).
 * The rows of one user must be consecutive and users must come in the
 * file's order (users may be missing); any other row fails the whole
 * assignment with DVA_ERR_DECODE, naming the row. */
int dva_scan_assign(const dva_quota *quota, const char *const *names, size_t n,
                    dva_scan_range *ranges, dva_error *err);

#endif
