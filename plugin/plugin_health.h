/* SPDX-License-Identifier: MIT */
/* The server-health values and notifications: `service status`,
 * `process status`, `indexer list` and `penalty` (doveadm/health.h) ->
 * collectd values, through the submit code's dispatch (plugin_submit.c
 * hands a sink over, so names, duplicates and the seen-set follow its
 * rules), and edge-triggered service notifications (plugin_notify.c
 * hands a sender over).
 *
 * Values (plugin dovecot, plugin instance the instance; <S> a service):
 *   vs_processes-<S>            processes running
 *   vs_processes-<S>-limit      its process_limit
 *   vs_processes-<S>-available  processes that take another client
 *   count-<S>-client_slots_free free client slots: (process_limit -
 *                               processes) x client_limit + the free
 *                               slots of its processes (those from
 *                               `process status`; with client_limit 1,
 *                               the available processes)
 *   bool-<S>-listen_pending     1 while clients wait to be accepted
 *   duration-<S>-throttle       throttle_secs (a failing service waits)
 *   count-<S>-exit_failures     processes that failed in the last failing
 *                               second; timestamp-<S>-exit_failure_last
 *   percent-<S>-processes       processes / process_limit
 *   percent-<S>-clients         clients / (process_limit x client_limit),
 *                               client_limit > 1 and `process status` read
 *   vs_processes-<S>-idle       idle processes (`process status`)
 *   current_connections-<S>     clients now (with `service status`)
 *   total_requests-<S>-clients  clients served (DERIVE: the growth of
 *                               every process's total_count, the counts
 *                               of processes that are gone kept)
 *   total_events-<S>-restarts   processes gone since the read before
 *                               (DERIVE: a pid seen before that is no
 *                               longer listed)
 *   queue_length-indexer        requests the indexer holds (2.4)
 *   count-penalty-ips, count-penalty-max  penalised IPs, highest penalty
 *
 * The state across reads (the processes of the last read, the services'
 * counters, which services are at their limit) is bounded. */
#ifndef DVP_PLUGIN_HEALTH_H
#define DVP_PLUGIN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/scrape.h"
#include "plugin_log.h"

#define DVP_HEALTH_MAX_SERVICES 1024

typedef struct dvp_health_service dvp_health_service;
typedef struct dvp_health_pid dvp_health_pid;

typedef struct {
    dvp_health_service *services; /* counters per service name */
    size_t nservices;
    dvp_health_pid *pids; /* the last read's processes, sorted by pid */
    size_t npids;
    bool full_noted;
    dvp_logger *log; /* borrowed */
} dvp_health_values;

/* Where the values go. */
typedef struct {
    void *ctx;
    void (*gauge)(void *ctx, const char *type, const char *const *parts, size_t nparts,
                  double v);
    void (*derive)(void *ctx, const char *type, const char *const *parts, size_t nparts,
                   uint64_t v);
} dvp_health_sink;

void dvp_health_values_init(dvp_health_values *h, dvp_logger *log);
void dvp_health_values_free(dvp_health_values *h);
void dvp_health_submit(dvp_health_values *h, const dva_scrape_result *r,
                       const dvp_health_sink *sink);

/* Notifications: WARNING when a service is at its process limit with no
 * process that takes another client, or has none while listen_pending
 * says clients wait; OKAY when it is no longer (type vs_processes, type
 * instance the service). A first read that finds a service fine sends
 * nothing. Plus one WARNING log line when a health command starts
 * failing, one INFO line when it works again. */
typedef struct dvp_health_alarm dvp_health_alarm;

typedef struct {
    bool enabled; /* ServiceNotifications */
    dvp_health_alarm *alarms;
    size_t nalarms;
    bool failing[4];
} dvp_health_notify;

typedef void dvp_health_send_fn(void *ctx, int severity, const char *type,
                                const char *type_instance, const char *message);

void dvp_health_notify_init(dvp_health_notify *h, bool enabled);
void dvp_health_notify_free(dvp_health_notify *h);
/* The server answered this read: report what changed. */
void dvp_health_report(dvp_health_notify *h, const dva_scrape_result *r,
                       const char *instance, dvp_logger *log, dvp_health_send_fn *send,
                       void *send_ctx);

#endif
