/* The private directory of an instance's server-side quota scan (the
 * user-list files `quota get -F` reads; see dva_scrape_plan.scan_dir).
 *
 * Why private: the doveadm server (root) reads whatever file the path
 * names, and the plugin credits the rows to the users it wrote. In a
 * directory others can write, a local user could swap the file between
 * our write and the server's read and make the server scan users of their
 * choice (cost, and values dropped as not ours) or learn our user list.
 * mkdtemp() creates the directory with mode 0700 under a unique name, and
 * each file is created with O_EXCL and mode 0600 inside it, so nobody but
 * collectd's user (and root) can create, replace or read them. */
#ifndef DVP_PLUGIN_SCAN_H
#define DVP_PLUGIN_SCAN_H

#include "plugin_log.h"

/* Creates parent/collectd-dovecot.XXXXXX (mode 0700); NULL, logged, when it
 * cannot (the instance then reads users one by one). */
char *dvp_scan_dir_create(const char *parent, dvp_logger *log);

/* Removes the directory (and any user-list file a crash left in it), then
 * frees dir. NULL is fine. */
void dvp_scan_dir_remove(char *dir);

#endif
