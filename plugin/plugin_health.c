/* SPDX-License-Identifier: MIT */
/* Server-health values: see plugin_health.h. */
#include "plugin_health.h"

#include <stdlib.h>
#include <string.h>

#include "doveadm/collector.h"
#include "plugin_collectd.h"

struct dvp_health_service {
    char *name;
    uint64_t clients;  /* clients served, summed over reads */
    uint64_t restarts; /* processes gone, summed over reads */
};

struct dvp_health_pid {
    uint64_t pid;
    size_t service; /* index in services */
    uint64_t total; /* its total_count */
};

void dvp_health_values_init(dvp_health_values *h, dvp_logger *log)
{
    memset(h, 0, sizeof(*h));
    h->log = log;
}

void dvp_health_values_free(dvp_health_values *h)
{
    for (size_t i = 0; i < h->nservices; i++)
        free(h->services[i].name);
    free(h->services);
    free(h->pids);
    memset(h, 0, sizeof(*h));
}

/* What collector c decoded in this read, or NULL when it failed. */
static const void *data_of(const dva_scrape_result *r, const dva_collector *c)
{
    const dva_collected *got = dva_scrape_collected(r, c);
    if (got == NULL || !got->step.attempted || got->step.error.code != DVA_OK)
        return NULL;
    return got->data;
}

/* The index of service name, added when new; -1 past the bound. */
static long service_index(dvp_health_values *h, const char *name)
{
    for (size_t i = 0; i < h->nservices; i++)
        if (strcmp(h->services[i].name, name) == 0)
            return (long)i;
    if (h->nservices >= DVP_HEALTH_MAX_SERVICES) {
        if (!h->full_noted)
            dvp_log(h->log, LOG_WARNING,
                    "more than %d services: the processes of the others are not "
                    "counted",
                    DVP_HEALTH_MAX_SERVICES);
        h->full_noted = true;
        return -1;
    }
    dvp_health_service *grown =
        realloc(h->services, (h->nservices + 1) * sizeof(*h->services));
    if (grown == NULL)
        return -1;
    h->services = grown;
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    h->services[h->nservices] = (dvp_health_service){.name = copy};
    return (long)h->nservices++;
}

static int pid_cmp(const void *a, const void *b)
{
    uint64_t x = ((const dvp_health_pid *)a)->pid, y = ((const dvp_health_pid *)b)->pid;
    return x < y ? -1 : x > y;
}

/* The processes of this read against the last one's: the services'
 * clients served and restarts grow. */
static void count_processes(dvp_health_values *h, const dva_processes *p)
{
    dvp_health_pid *now = p->nrows > 0 ? calloc(p->nrows, sizeof(*now)) : NULL;
    if (p->nrows > 0 && now == NULL)
        return;
    size_t n = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        long s = service_index(h, p->rows[i].name);
        if (s >= 0)
            now[n++] =
                (dvp_health_pid){p->rows[i].pid, (size_t)s, p->rows[i].total_count};
    }
    qsort(now, n, sizeof(*now), pid_cmp);
    for (size_t i = 0; i < n; i++) {
        const dvp_health_pid *old =
            h->pids != NULL ? bsearch(&now[i], h->pids, h->npids, sizeof(*now), pid_cmp)
                            : NULL;
        uint64_t grew = now[i].total;
        /* The same process: what it served since; a reused pid: all. */
        if (old != NULL && old->service == now[i].service && old->total <= now[i].total)
            grew = now[i].total - old->total;
        h->services[now[i].service].clients += grew;
    }
    for (size_t i = 0; i < h->npids; i++)
        if (bsearch(&h->pids[i], now, n, sizeof(*now), pid_cmp) == NULL)
            h->services[h->pids[i].service].restarts++;
    free(h->pids);
    h->pids = now;
    h->npids = n;
}

/* Per service of `process status`: processes, idle ones, and the slots
 * free and clients of its processes. */
typedef struct {
    uint64_t processes, idle, free_slots, used_slots;
} process_sums;

static process_sums sum_processes(const dva_processes *p, const char *service,
                                  uint64_t client_limit)
{
    process_sums s = {0};
    for (size_t i = 0; p != NULL && i < p->nrows; i++) {
        const dva_process_row *row = &p->rows[i];
        if (strcmp(row->name, service) != 0)
            continue;
        s.processes++;
        s.idle += row->idle_start != 0;
        uint64_t avail =
            row->available_count < client_limit ? row->available_count : client_limit;
        s.free_slots += avail;
        s.used_slots += client_limit - avail;
    }
    return s;
}

static void gauge2(const dvp_health_sink *k, const char *type, const char *a,
                   const char *b, double v)
{
    const char *parts[] = {a, b};
    k->gauge(k->ctx, type, parts, b != NULL ? 2 : 1, v);
}

static void submit_service(const dvp_health_sink *k, const dva_service_row *s,
                           const dva_processes *procs)
{
    const char *name = s->name;
    gauge2(k, "vs_processes", name, NULL, (double)s->process_count);
    gauge2(k, "vs_processes", name, "limit", (double)s->process_limit);
    gauge2(k, "vs_processes", name, "available", (double)s->process_avail);
    uint64_t unstarted =
        s->process_limit > s->process_count ? s->process_limit - s->process_count : 0;
    process_sums ps = sum_processes(procs, name, s->client_limit);
    if (procs != NULL || s->client_limit == 1) {
        uint64_t in_processes = procs != NULL ? ps.free_slots : s->process_avail;
        gauge2(k, "count", name, "client_slots_free",
               (double)(unstarted * s->client_limit + in_processes));
    }
    gauge2(k, "bool", name, "listen_pending", s->listen_pending ? 1.0 : 0.0);
    gauge2(k, "duration", name, "throttle", (double)s->throttle_secs);
    gauge2(k, "count", name, "exit_failures", (double)s->exit_failures_in_sec);
    gauge2(k, "timestamp", name, "exit_failure_last", (double)s->exit_failure_last);
    /* Not for a service of one process (auth, anvil, log, stats): always at
     * 100 %, it would only trip a threshold on every percent value. */
    if (s->process_limit > 1) {
        double use = 100.0 * (double)s->process_count / (double)s->process_limit;
        gauge2(k, "percent", name, "processes", use > 100.0 ? 100.0 : use);
    }
    if (procs != NULL) {
        gauge2(k, "current_connections", name, NULL, (double)ps.used_slots);
        double slots = (double)s->process_limit * (double)s->client_limit;
        if (s->client_limit > 1 && slots > 0) {
            double use = 100.0 * (double)ps.used_slots / slots;
            gauge2(k, "percent", name, "clients", use > 100.0 ? 100.0 : use);
        }
    }
}

/* `process status` per service: idle processes, clients served,
 * restarts; processes too when `service status` was not read. */
static void submit_processes(dvp_health_values *h, const dvp_health_sink *k,
                             const dva_processes *p, bool services_read)
{
    for (size_t i = 0; i < h->nservices; i++) {
        const dvp_health_service *s = &h->services[i];
        process_sums ps = sum_processes(p, s->name, 0);
        const char *clients[] = {s->name, "clients"}, *gone[] = {s->name, "restarts"};
        if (!services_read)
            gauge2(k, "vs_processes", s->name, NULL, (double)ps.processes);
        gauge2(k, "vs_processes", s->name, "idle", (double)ps.idle);
        k->derive(k->ctx, "total_requests", clients, 2, s->clients);
        k->derive(k->ctx, "total_events", gone, 2, s->restarts);
    }
}

void dvp_health_submit(dvp_health_values *h, const dva_scrape_result *r,
                       const dvp_health_sink *sink)
{
    const dva_services *services = data_of(r, &dva_collect_services);
    const dva_processes *procs = data_of(r, &dva_collect_processes);
    const dva_indexer *indexer = data_of(r, &dva_collect_indexer);
    const dva_penalties *penalty = data_of(r, &dva_collect_penalty);

    if (procs != NULL)
        count_processes(h, procs);
    for (size_t i = 0; services != NULL && i < services->nrows; i++)
        submit_service(sink, &services->rows[i], procs);
    if (procs != NULL)
        submit_processes(h, sink, procs, services != NULL);
    if (indexer != NULL)
        gauge2(sink, "queue_length", "indexer", NULL, (double)indexer->nrows);
    if (penalty != NULL) {
        gauge2(sink, "count", "penalty", "ips", (double)penalty->nrows);
        gauge2(sink, "count", "penalty", "max", (double)penalty->max_penalty);
    }
}
