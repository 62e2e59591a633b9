/* SPDX-License-Identifier: MIT */
/* Stand-ins for the collectd daemon's API: see collectd_stubs.h. */
#include "collectd_stubs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char hostname_buf[] = STUB_HOSTNAME;
char *hostname_g = hostname_buf;

stub_value *stub_values;
size_t stub_nvalues;
notification_t *stub_notifications;
size_t stub_nnotifications;
stub_log_line *stub_logs;
size_t stub_nlogs;
stub_read *stub_reads;
size_t stub_nreads;

int (*stub_config_cb)(oconfig_item_t *);
plugin_init_cb stub_init_cb;
plugin_shutdown_cb stub_shutdown_cb;

cdtime_t stub_interval = TIME_T_TO_CDTIME_T_STATIC(10);
cdtime_t stub_now = TIME_T_TO_CDTIME_T_STATIC(1700000000);
bool stub_echo_logs;

static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, (n + 1) * size);
    if (q == NULL) {
        fprintf(stderr, "stub: out of memory\n");
        abort();
    }
    return q;
}

/* ---- collectd's API ---- */

cdtime_t cdtime(void)
{
    return stub_now;
}

cdtime_t plugin_get_interval(void)
{
    return stub_interval;
}

void plugin_log(int level, const char *format, ...)
{
    stub_logs = grow(stub_logs, stub_nlogs, sizeof(*stub_logs));
    stub_log_line *l = &stub_logs[stub_nlogs++];
    l->level = level;
    va_list ap;
    va_start(ap, format);
    vsnprintf(l->text, sizeof(l->text), format, ap);
    va_end(ap);
    if (stub_echo_logs)
        fprintf(stderr, "[log %d] %s\n", level, l->text);
}

void (*stub_value_sink)(const value_list_t *vl);

int plugin_dispatch_values(value_list_t const *vl)
{
    if (vl->values_len != 1) {
        fprintf(stderr, "stub: %zu values in one list\n", vl->values_len);
        abort();
    }
    if (stub_value_sink != NULL) {
        stub_value_sink(vl);
        stub_nvalues++;
        return 0;
    }
    stub_values = grow(stub_values, stub_nvalues, sizeof(*stub_values));
    stub_value *v = &stub_values[stub_nvalues++];
    v->vl = *vl;
    v->value = vl->values[0];
    v->vl.values = NULL; /* the array moves; use v->value */
    return 0;
}

int plugin_dispatch_notification(const notification_t *notif)
{
    stub_notifications =
        grow(stub_notifications, stub_nnotifications, sizeof(*stub_notifications));
    stub_notifications[stub_nnotifications++] = *notif;
    return 0;
}

int plugin_register_complex_config(const char *type, int (*callback)(oconfig_item_t *))
{
    (void)type;
    stub_config_cb = callback;
    return 0;
}

int plugin_register_init(const char *name, plugin_init_cb callback)
{
    (void)name;
    stub_init_cb = callback;
    return 0;
}

int plugin_register_shutdown(const char *name, plugin_shutdown_cb callback)
{
    (void)name;
    stub_shutdown_cb = callback;
    return 0;
}

int plugin_register_complex_read(const char *group, const char *name,
                                 plugin_read_cb callback, cdtime_t interval,
                                 user_data_t const *user_data)
{
    (void)group;
    for (size_t i = 0; i < stub_nreads; i++)
        if (strcmp(stub_reads[i].name, name) == 0)
            return -1; /* collectd refuses a second read of the same name */
    stub_reads = grow(stub_reads, stub_nreads, sizeof(*stub_reads));
    stub_read *r = &stub_reads[stub_nreads++];
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->callback = callback;
    r->interval = interval;
    r->user_data = *user_data;
    return 0;
}

/* ---- test helpers ---- */

void stub_clear_captures(void)
{
    free(stub_values);
    free(stub_notifications);
    free(stub_logs);
    stub_values = NULL;
    stub_notifications = NULL;
    stub_logs = NULL;
    stub_nvalues = stub_nnotifications = stub_nlogs = 0;
}

void stub_reset(void)
{
    for (size_t i = 0; i < stub_nreads; i++)
        if (stub_reads[i].user_data.free_func != NULL)
            stub_reads[i].user_data.free_func(stub_reads[i].user_data.data);
    free(stub_reads);
    stub_reads = NULL;
    stub_nreads = 0;
    stub_clear_captures();
    stub_config_cb = NULL;
    stub_init_cb = NULL;
    stub_shutdown_cb = NULL;
    stub_interval = TIME_T_TO_CDTIME_T_STATIC(10);
    stub_now = TIME_T_TO_CDTIME_T_STATIC(1700000000);
}

const stub_value *stub_find(const char *type, const char *type_instance)
{
    for (size_t i = 0; i < stub_nvalues; i++)
        if (strcmp(stub_values[i].vl.type, type) == 0 &&
            strcmp(stub_values[i].vl.type_instance, type_instance) == 0)
            return &stub_values[i];
    return NULL;
}

size_t stub_count_logs(int level, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < stub_nlogs; i++)
        if ((level < 0 || stub_logs[i].level == level) &&
            strstr(stub_logs[i].text, needle) != NULL)
            n++;
    return n;
}

size_t stub_count_notifications(int severity, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < stub_nnotifications; i++)
        if ((severity == 0 || stub_notifications[i].severity == severity) &&
            strstr(stub_notifications[i].message, needle) != NULL)
            n++;
    return n;
}

bool stub_anywhere(const char *needle)
{
    if (stub_count_logs(-1, needle) > 0 || stub_count_notifications(0, needle) > 0)
        return true;
    for (size_t i = 0; i < stub_nnotifications; i++) {
        const notification_t *n = &stub_notifications[i];
        if (strstr(n->host, needle) || strstr(n->plugin_instance, needle) ||
            strstr(n->type_instance, needle))
            return true;
    }
    for (size_t i = 0; i < stub_nvalues; i++) {
        const value_list_t *vl = &stub_values[i].vl;
        if (strstr(vl->host, needle) || strstr(vl->plugin_instance, needle) ||
            strstr(vl->type_instance, needle))
            return true;
    }
    return false;
}

void stub_dump(void)
{
    for (size_t i = 0; i < stub_nlogs; i++)
        fprintf(stderr, "log %d: %s\n", stub_logs[i].level, stub_logs[i].text);
    for (size_t i = 0; i < stub_nnotifications; i++)
        fprintf(stderr, "notification %d %s/%s-%s: %s\n",
                stub_notifications[i].severity, stub_notifications[i].plugin_instance,
                stub_notifications[i].type, stub_notifications[i].type_instance,
                stub_notifications[i].message);
    for (size_t i = 0; i < stub_nvalues; i++) {
        const stub_value *v = &stub_values[i];
        bool derive = strcmp(v->vl.type, "derive") == 0;
        fprintf(stderr, "value %s/%s-%s/%s-%s = %g\n", v->vl.host, v->vl.plugin,
                v->vl.plugin_instance, v->vl.type, v->vl.type_instance,
                derive ? (double)v->value.derive : v->value.gauge);
    }
}
