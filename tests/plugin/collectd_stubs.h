/* SPDX-License-Identifier: MIT */
/* Stand-ins for the collectd daemon's API, capturing what the plugin hands
 * to collectd so the tests can look at it. */
#ifndef DVP_COLLECTD_STUBS_H
#define DVP_COLLECTD_STUBS_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin_collectd.h"

#define STUB_HOSTNAME "stubhost"

typedef struct {
    value_list_t vl; /* vl.values points to value */
    value_t value;
} stub_value;

typedef struct {
    int level;
    char text[1200];
} stub_log_line;

typedef struct {
    char name[256];
    plugin_read_cb callback;
    cdtime_t interval;
    user_data_t user_data;
} stub_read;

extern stub_value *stub_values;
extern size_t stub_nvalues;
extern notification_t *stub_notifications;
extern size_t stub_nnotifications;
extern stub_log_line *stub_logs;
extern size_t stub_nlogs;
extern stub_read *stub_reads;
extern size_t stub_nreads;

extern int (*stub_config_cb)(oconfig_item_t *);
extern plugin_init_cb stub_init_cb;
extern plugin_shutdown_cb stub_shutdown_cb;

extern cdtime_t stub_interval; /* what plugin_get_interval() returns */
extern cdtime_t stub_now;      /* what cdtime() returns */
extern bool stub_echo_logs;    /* print log lines to stderr too */
/* Set to a function to see each value instead of keeping it (benchmarks:
 * memory that does not grow with the values; stub_nvalues still counts). */
extern void (*stub_value_sink)(const value_list_t *vl);

/* Frees every capture; reads are freed with their free function, as
 * collectd does on shutdown. Resets interval (10 s) and time. */
void stub_reset(void);
/* Drops captured values, notifications and logs (keeps registrations). */
void stub_clear_captures(void);

/* The captured value with this type and type instance, or NULL. */
const stub_value *stub_find(const char *type, const char *type_instance);
/* Number of log lines at level (any level: -1) containing needle. */
size_t stub_count_logs(int level, const char *needle);
/* Number of notifications with severity (any: 0) whose message contains
 * needle. */
size_t stub_count_notifications(int severity, const char *needle);
/* True when needle occurs in any captured log line, notification or
 * value identifier. */
bool stub_anywhere(const char *needle);
/* Prints the captures (for debugging a failing test). */
void stub_dump(void);

#endif
