/* SPDX-License-Identifier: MIT */
/* Options for the check tool from a file: the plugin's own configuration
 * (a <Plugin dovecot> block with <Instance> blocks, e.g. the installed
 * /etc/collectd/collectd.conf.d/dovecot.conf) or bare option lines, in
 * collectd's syntax:
 *
 *   Socket "/run/dovecot/doveadm-server"   # a comment
 *   QuotaUser "alice@example.com" "bob@example.com"
 *   QuotaWarning 85
 *
 * The options then go through the library's schema (doveadm/settings.h),
 * so names, values and messages are the plugin's. Other blocks
 * (<Plugin other>, <LoadPlugin ...>) and LoadPlugin lines are skipped. */
#ifndef CHK_CONFIG_H
#define CHK_CONFIG_H

#include <stddef.h>

#include "doveadm/error.h"
#include "doveadm/settings.h"

/* Longest line, largest file, most values read. */
#define CHK_CONFIG_LINE_MAX 4096
#define CHK_CONFIG_FILE_MAX (1024 * 1024)
#define CHK_CONFIG_ITEMS_MAX 10000

typedef struct {
    char *option;
    char *value;
    unsigned line;
    unsigned nth; /* 0 for the first value of its line, 1 for the second... */
} chk_config_item;

typedef struct {
    char *instance; /* the <Instance> name; NULL for bare lines */
    chk_config_item *items;
    size_t nitems;
} chk_config_options;

/* Reads the options of one instance from text (named what in messages).
 * instance: the <Instance> to use, or NULL for the first one (or the bare
 * lines when there is no <Instance> block). Returns 0, or -1 with err
 * naming the file, the line and the fix. */
int chk_config_parse(const char *what, const char *text, const char *instance,
                     chk_config_options *out, dva_error *err);
/* The same for the file at path. */
int chk_config_parse_file(const char *path, const char *instance,
                          chk_config_options *out, dva_error *err);

/* Sets every option in config; a second value on a line only for a
 * repeatable option. Errors name what and the line. */
int chk_config_apply(const chk_config_options *options, const char *what,
                     dva_config *config, dva_error *err);

void chk_config_options_free(chk_config_options *options);

#endif
