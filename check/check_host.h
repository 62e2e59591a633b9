/* SPDX-License-Identifier: MIT */
/* The plugin's own submit and notify modules (plugin_submit.c,
 * plugin_notify.c), hosted outside collectd: this file implements the few
 * collectd API functions they call and keeps what they hand over. So the
 * check tool prints exactly the identifiers and notifications the plugin
 * would produce for the same read, by running the same code. */
#ifndef CHK_HOST_H
#define CHK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_collectd.h"

typedef enum { CHK_GAUGE, CHK_DERIVE, CHK_COUNTER, CHK_ABSOLUTE } chk_ds_type;

typedef struct {
    char host[DATA_MAX_NAME_LEN];
    char plugin[DATA_MAX_NAME_LEN];
    char plugin_instance[DATA_MAX_NAME_LEN];
    char type[DATA_MAX_NAME_LEN];
    char type_instance[DATA_MAX_NAME_LEN];
    chk_ds_type ds_type;
    value_t value;
    cdtime_t time, interval;
} chk_value;

typedef struct {
    int severity; /* NOTIF_FAILURE, NOTIF_WARNING, NOTIF_OKAY */
    char type[DATA_MAX_NAME_LEN];
    char type_instance[DATA_MAX_NAME_LEN];
    char message[NOTIF_MAX_MSG_LEN];
} chk_notification;

typedef struct {
    int level; /* LOG_ERR, LOG_WARNING, LOG_INFO */
    char text[1200];
} chk_log_line;

typedef struct {
    chk_value *values;
    size_t nvalues;
    chk_notification *notifications;
    size_t nnotifications;
    chk_log_line *logs;
    size_t nlogs;
} chk_capture;

/* What the plugin's modules handed over since the last chk_host_reset(). */
extern chk_capture chk_captured;

/* The host name put into values without ReportHost (collectd's hostname_g). */
void chk_host_set_hostname(const char *name);
/* Reads the data-source type of each type from a collectd types.db; types
 * not found there (or without the file) are GAUGE, except derive, counter
 * and absolute, which are named after theirs. Returns 0, or -1 when the
 * file cannot be read. */
int chk_host_load_types(const char *types_db);
chk_ds_type chk_host_ds_type(const char *type);
/* Frees every capture and the types read. */
void chk_host_reset(void);

#endif
