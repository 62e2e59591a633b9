/* SPDX-License-Identifier: MIT */
/* Settings -> scrape plan: see plugin_plan.h. */
#include "plugin_plan.h"

#include <stdint.h>
#include <string.h>

#include "plugin_submit.h"

void dvp_plan_init(dva_scrape_plan *p, const dva_settings *s, double timeout,
                   dvp_logger *log)
{
    memset(p, 0, sizeof(*p));
    p->socket_path = s->host == NULL ? s->socket_path : NULL;
    p->host = s->host;
    p->port = s->port;
    p->password = s->password;
    p->tls = dva_settings_tls_options(s);
    p->server_name = s->server_name;
    p->stats = s->collect_stats;
    p->who = s->collect_who;
    p->quota = s->collect_quota;
    p->mailbox = s->collect_mailbox;
    p->services = s->collect_services;
    p->processes = s->collect_processes;
    p->indexer = s->collect_indexer;
    p->penalty = s->collect_penalty;
    p->users = (const char *const *)s->quota_users;
    p->nusers = s->nquota_users;
    p->user_masks = (const char *const *)s->quota_masks;
    p->nuser_masks = s->nquota_masks;
    p->mailbox_masks = (const char *const *)s->mailboxes;
    p->nmailbox_masks = s->nmailboxes;
    p->mailbox_fields = dvp_mailbox_fields;
    p->nmailbox_fields = DVP_MAILBOX_NFIELDS;
    p->connections = s->connections;
    p->max_users = s->max_users;
    uint64_t ms = (uint64_t)(timeout * 1000.0 + 0.5);
    p->timeout_ms = ms > 0 ? ms : 1;
    p->log = dvp_lib_log;
    p->log_ctx = log;
    p->generation = s->generation;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        p->oldstats[i] = s->oldstats[i];
    p->oldstats_fields = (const char *const *)s->oldstats_columns;
    p->noldstats_fields = s->noldstats_columns;
    p->oldstats_sort_by = s->oldstats_sort_by;
    p->oldstats_top = s->oldstats_top;
}
