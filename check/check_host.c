/* SPDX-License-Identifier: MIT */
/* The collectd API the plugin's submit and notify modules call: see
 * check_host.h. */
#include "check_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPES_MAX 4096

static char hostname_buf[DATA_MAX_NAME_LEN] = "localhost";
char *hostname_g = hostname_buf;

chk_capture chk_captured;

typedef struct {
    char name[DATA_MAX_NAME_LEN];
    chk_ds_type ds_type;
} type_entry;

static type_entry *types;
static size_t ntypes;

void chk_host_set_hostname(const char *name)
{
    snprintf(hostname_buf, sizeof(hostname_buf), "%s", name);
}

static bool parse_ds_type(const char *s, chk_ds_type *out)
{
    static const struct {
        const char *name;
        chk_ds_type type;
    } names[] = {{"GAUGE", CHK_GAUGE},
                 {"DERIVE", CHK_DERIVE},
                 {"COUNTER", CHK_COUNTER},
                 {"ABSOLUTE", CHK_ABSOLUTE}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].type;
            return true;
        }
    return false;
}

/* "name  ds:TYPE:min:max[, ...]": only one-source types matter here (the
 * plugin dispatches one value per list). */
int chk_host_load_types(const char *types_db)
{
    FILE *f = fopen(types_db, "re");
    if (f == NULL)
        return -1;
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL && ntypes < TYPES_MAX) {
        char name[DATA_MAX_NAME_LEN], ds[256];
        if (line[0] == '#' || sscanf(line, "%127s %255s", name, ds) != 2)
            continue;
        char *colon = strchr(ds, ':');
        if (colon == NULL)
            continue;
        char *end = strchr(colon + 1, ':');
        if (end == NULL)
            continue;
        *end = '\0';
        chk_ds_type t;
        if (!parse_ds_type(colon + 1, &t))
            continue;
        type_entry *grown = realloc(types, (ntypes + 1) * sizeof(*types));
        if (grown == NULL)
            break;
        types = grown;
        snprintf(types[ntypes].name, sizeof(types[ntypes].name), "%s", name);
        types[ntypes++].ds_type = t;
    }
    fclose(f);
    return 0;
}

chk_ds_type chk_host_ds_type(const char *type)
{
    for (size_t i = 0; i < ntypes; i++)
        if (strcmp(types[i].name, type) == 0)
            return types[i].ds_type;
    if (strcmp(type, "derive") == 0)
        return CHK_DERIVE;
    if (strcmp(type, "counter") == 0)
        return CHK_COUNTER;
    if (strcmp(type, "absolute") == 0)
        return CHK_ABSOLUTE;
    return CHK_GAUGE;
}

static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, (n + 1) * size);
    if (q == NULL) {
        fprintf(stderr, "dovecot-collectd-check: out of memory\n");
        exit(3);
    }
    return q;
}

void chk_host_reset(void)
{
    free(chk_captured.values);
    free(chk_captured.notifications);
    free(chk_captured.logs);
    memset(&chk_captured, 0, sizeof(chk_captured));
    free(types);
    types = NULL;
    ntypes = 0;
}

/* ---- collectd's API, as the plugin's modules use it ---- */

void plugin_log(int level, const char *format, ...)
{
    chk_capture *c = &chk_captured;
    c->logs = grow(c->logs, c->nlogs, sizeof(*c->logs));
    chk_log_line *l = &c->logs[c->nlogs++];
    l->level = level;
    va_list ap;
    va_start(ap, format);
    vsnprintf(l->text, sizeof(l->text), format, ap);
    va_end(ap);
}

int plugin_dispatch_values(value_list_t const *vl)
{
    chk_capture *c = &chk_captured;
    for (size_t i = 0; i < vl->values_len; i++) {
        c->values = grow(c->values, c->nvalues, sizeof(*c->values));
        chk_value *v = &c->values[c->nvalues++];
        memset(v, 0, sizeof(*v));
        /* collectd fills in its host name when the plugin leaves it empty. */
        snprintf(v->host, sizeof(v->host), "%s",
                 vl->host[0] != '\0' ? vl->host : hostname_g);
        memcpy(v->plugin, vl->plugin, sizeof(v->plugin));
        memcpy(v->plugin_instance, vl->plugin_instance, sizeof(v->plugin_instance));
        memcpy(v->type, vl->type, sizeof(v->type));
        memcpy(v->type_instance, vl->type_instance, sizeof(v->type_instance));
        v->ds_type = chk_host_ds_type(vl->type);
        v->value = vl->values[i];
        v->time = vl->time;
        v->interval = vl->interval;
    }
    return 0;
}

int plugin_dispatch_notification(const notification_t *notif)
{
    chk_capture *c = &chk_captured;
    c->notifications =
        grow(c->notifications, c->nnotifications, sizeof(*c->notifications));
    chk_notification *n = &c->notifications[c->nnotifications++];
    memset(n, 0, sizeof(*n));
    n->severity = notif->severity;
    memcpy(n->type, notif->type, sizeof(n->type));
    memcpy(n->type_instance, notif->type_instance, sizeof(n->type_instance));
    memcpy(n->message, notif->message, sizeof(n->message));
    return 0;
}
