/* SPDX-License-Identifier: MIT */
/* The private directory of a server-side quota scan: where the read
 * writes the user-list files `quota get -F` reads (PROTOCOL.md 6.5; see
 * dva_scrape_plan.scan_dir).
 *
 * Why private: the doveadm server (root) reads whatever file the path
 * names, and the read credits the rows to the users it wrote. In a
 * directory others can write, a local user could swap the file between
 * our write and the server's read and make the server scan users of their
 * choice (cost, and values dropped as not ours) or learn our user list.
 * mkdtemp() creates the directory with mode 0700 under a unique name, and
 * each file is created with O_EXCL and mode 0600 inside it, so nobody but
 * the caller's user (and root) can create, replace or read them. */
#ifndef DOVEADM_QUOTA_SCAN_H
#define DOVEADM_QUOTA_SCAN_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_COLLECT)
#error "doveadm/quota_scan.h belongs to the collect layer (doc/ARCHITECTURE.md)"
#endif

#include "doveadm/error.h"

/* Creates parent/<name>.XXXXXX (mode 0700) and returns its malloc'd path;
 * NULL with err (the reason, e.g. "Permission denied") when it cannot. */
char *dva_quota_scan_dir_create(const char *parent, const char *name, dva_error *err);

/* Removes the directory (and any user-list file a crash left in it), then
 * frees dir. NULL is fine. */
void dva_quota_scan_dir_remove(char *dir);

#endif
