/* SPDX-License-Identifier: MIT */
/* Server-health notifications and step logs: see plugin_health.h. */
#include "plugin_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doveadm/collector.h"
#include "plugin_collectd.h"
#include "plugin_names.h"

struct dvp_health_alarm {
    char *service;
    bool alarmed; /* a WARNING was sent and no OKAY since */
    bool listed;  /* in this read's `service status` */
};

void dvp_health_notify_init(dvp_health_notify *h, bool enabled)
{
    memset(h, 0, sizeof(*h));
    h->enabled = enabled;
}

void dvp_health_notify_free(dvp_health_notify *h)
{
    for (size_t i = 0; i < h->nalarms; i++)
        free(h->alarms[i].service);
    free(h->alarms);
    memset(h, 0, sizeof(*h));
}

static const dva_collector *const collectors[4] = {
    &dva_collect_services, &dva_collect_processes, &dva_collect_indexer,
    &dva_collect_penalty};

static void report_steps(dvp_health_notify *h, const dva_scrape_result *r,
                         dvp_logger *log)
{
    for (size_t i = 0; i < 4; i++) {
        const dva_collected *c = dva_scrape_collected(r, collectors[i]);
        if (c == NULL || !c->step.attempted)
            continue;
        bool failing = c->step.error.code != DVA_OK;
        const char *why = c->step.error.message[0] != '\0'
                              ? c->step.error.message
                              : dva_errcode_name(c->step.error.code);
        if (failing && !h->failing[i])
            dvp_log(log, LOG_WARNING,
                    "%s failed: %s; its values are not reported until it works again",
                    collectors[i]->name, why);
        else if (!failing && h->failing[i])
            dvp_log(log, LOG_INFO, "%s works again", collectors[i]->name);
        h->failing[i] = failing;
    }
}

static dvp_health_alarm *alarm_of(dvp_health_notify *h, const char *service, bool add)
{
    for (size_t i = 0; i < h->nalarms; i++)
        if (strcmp(h->alarms[i].service, service) == 0)
            return &h->alarms[i];
    if (!add || h->nalarms >= DVP_HEALTH_MAX_SERVICES)
        return NULL;
    dvp_health_alarm *grown = realloc(h->alarms, (h->nalarms + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    h->alarms = grown;
    char *copy = strdup(service);
    if (copy == NULL)
        return NULL;
    h->alarms[h->nalarms] = (dvp_health_alarm){.service = copy};
    return &h->alarms[h->nalarms++];
}

/* Why service s is short of processes, or NULL when it is not: at its
 * process limit with no process taking another client, or no such
 * process while clients wait (listen_pending). */
static const char *shortage(const dva_service_row *s, char *buf, size_t size)
{
    if (s->process_avail > 0)
        return NULL;
    if (s->process_limit > 0 && s->process_count >= s->process_limit) {
        snprintf(buf, size,
                 "is at its process limit (%llu of %llu processes, no free client "
                 "slot%s)",
                 (unsigned long long)s->process_count,
                 (unsigned long long)s->process_limit,
                 s->listen_pending ? ", clients wait" : "");
        return buf;
    }
    if (s->listen_pending) {
        snprintf(buf, size,
                 "has no free client slot and clients wait (%llu of %llu processes%s)",
                 (unsigned long long)s->process_count,
                 (unsigned long long)s->process_limit,
                 s->throttle_secs > 0 ? ", throttled after failures" : "");
        return buf;
    }
    return NULL;
}

static void report_services(dvp_health_notify *h, const dva_services *services,
                            const char *instance, dvp_health_send_fn *send, void *ctx)
{
    char why[160], msg[NOTIF_MAX_MSG_LEN], ti[DATA_MAX_NAME_LEN];
    for (size_t i = 0; i < h->nalarms; i++)
        h->alarms[i].listed = false;
    for (size_t i = 0; i < services->nrows; i++) {
        const dva_service_row *s = &services->rows[i];
        const char *short_of = shortage(s, why, sizeof(why));
        dvp_health_alarm *a = alarm_of(h, s->name, short_of != NULL);
        if (a == NULL)
            continue;
        a->listed = true;
        const char *parts[] = {s->name};
        if (!dvp_name_join(ti, sizeof(ti), parts, 1))
            ti[0] = '\0';
        if (short_of != NULL && !a->alarmed) {
            snprintf(msg, sizeof(msg), "Dovecot instance \"%s\": service %s %s",
                     instance, s->name, short_of);
            send(ctx, NOTIF_WARNING, "vs_processes", ti, msg);
            a->alarmed = true;
        } else if (short_of == NULL && a->alarmed) {
            snprintf(msg, sizeof(msg),
                     "Dovecot instance \"%s\": service %s has free client slots again "
                     "(%llu of %llu processes)",
                     instance, s->name, (unsigned long long)s->process_count,
                     (unsigned long long)s->process_limit);
            send(ctx, NOTIF_OKAY, "vs_processes", ti, msg);
            a->alarmed = false;
        }
    }
    /* A service the configuration no longer has: forgotten. */
    size_t kept = 0;
    for (size_t i = 0; i < h->nalarms; i++) {
        if (h->alarms[i].listed || h->alarms[i].alarmed)
            h->alarms[kept++] = h->alarms[i];
        else
            free(h->alarms[i].service);
    }
    h->nalarms = kept;
}

void dvp_health_report(dvp_health_notify *h, const dva_scrape_result *r,
                       const char *instance, dvp_logger *log, dvp_health_send_fn *send,
                       void *send_ctx)
{
    report_steps(h, r, log);
    const dva_collected *c = dva_scrape_collected(r, &dva_collect_services);
    if (!h->enabled || c == NULL || !c->step.attempted ||
        c->step.error.code != DVA_OK || c->data == NULL)
        return;
    report_services(h, c->data, instance, send, send_ctx);
}
