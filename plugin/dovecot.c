/* SPDX-License-Identifier: MIT */
/* collectd plugin "dovecot": module registration and the per-instance
 * read callback, glue only: config -> instances -> the library's read
 * (doveadm/scrape.h) -> submit. Configuration mapping, the plan, value
 * submission and notifications live in plugin_config.c, plugin_plan.c,
 * plugin_submit.c and plugin_notify.c; everything about Dovecot and its
 * protocol, and the words the library logs, in libdoveadm (lib/).
 *
 * Lifecycle: the config callback validates every <Instance> block (collectd
 * refuses to start on an error); init turns each instance (or the default
 * instance "local" when none is configured) into its own read callback
 * "dovecot/<instance>", so instances are read in parallel by collectd's
 * read threads and a slow server never delays another. Each instance owns
 * its settings, scrape plan, logger and notification state; collectd frees
 * them through the user_data free function. */
#include "plugin_collectd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doveadm/collector.h"
#include "doveadm/quota_scan.h"
#include "doveadm/read_memory.h"
#include "doveadm/resolver.h"
#include "doveadm/scrape.h"
#include "plugin_config.h"
#include "plugin_log.h"
#include "plugin_notify.h"
#include "plugin_plan.h"
#include "plugin_submit.h"
#include "plugin_versions.h"

typedef struct {
    dvp_instance_config config; /* owns the settings the rest borrows */
    dva_scrape_plan plan;
    dvp_logger log;
    dvp_submit submit;
    dvp_notify notify;
    dvp_versions versions;
    char *scan_dir; /* private directory of the quota scan; NULL: none */
    /* Host's addresses across reads (plan.resolver): a read never waits
     * on DNS past its Timeout. NULL with a Socket. */
    dva_resolver *resolver;
    uint64_t reads;     /* picks the users' slice (QuotaInterval) */
    cdtime_t read_time; /* of the read in progress: stamps its values */
} dvp_instance;

/* Instances configured but not started yet (config -> init). */
static dvp_config pending;
static bool config_failed;
static bool initialized;

static double default_interval(void)
{
    return CDTIME_T_TO_DOUBLE(plugin_get_interval());
}

static int dovecot_config(oconfig_item_t *ci)
{
    if (dvp_config_block(&pending, ci, default_interval()) < 0) {
        config_failed = true;
        return -1;
    }
    return 0;
}

static void instance_free(void *data)
{
    dvp_instance *inst = data;
    if (inst == NULL)
        return;
    dvp_notify_free(&inst->notify);
    /* Does not wait for a lookup still running (it ends on its own). */
    dva_resolver_free(inst->resolver);
    dva_quota_scan_dir_remove(inst->scan_dir);
    dvp_submit_free(&inst->submit);
    dvp_logger_free(&inst->log);
    dva_settings_free(&inst->config.settings);
    free(inst);
}

/* A user's quota during the read (plan.on_user_quota): dispatched and
 * notified at once, so that neither the read nor collectd's write queue
 * holds every user's values at the end of a large read. */
static void user_quota(void *ctx, const dva_scrape_result *result,
                       const dva_scrape_user *user)
{
    dvp_instance *inst = ctx;
    dvp_submit_user_quota(&inst->submit, result, user);
    dvp_notify_user_quota(&inst->notify, user, inst->read_time);
}

static int dovecot_read(user_data_t *ud)
{
    dvp_instance *inst = ud->data;
    dva_scrape_result result;
    dva_error err;

    dvp_logger_new_read(&inst->log);
    inst->plan.read_count = inst->reads;
    inst->plan.user_slice = (unsigned)(inst->reads++ % inst->plan.user_slices);
    inst->read_time = cdtime();
    dvp_submit_begin(&inst->submit, inst->read_time);
    /* Blocks at most Timeout: the library polls every connection of this
     * read against one deadline. */
    if (dva_scrape_run(&inst->plan, &result, &err) < 0) {
        /* The plan is built from validated settings: this is a bug, and
         * collectd's backoff is the right answer to it. */
        dvp_log_once(&inst->log, LOG_ERR, "plan", "cannot read: %s", err.message);
        dva_scrape_result_free(&result);
        return -1;
    }
    dva_read_explain(&inst->plan, &result, dvp_lib_notice, &inst->log);
    dvp_submit_result(&inst->submit, &result, inst->read_time);
    dvp_notify_result(&inst->notify, &result, inst->read_time);
    inst->plan.generation = dvp_versions_after_read(&inst->versions, &result);
    /* A server without `indexer list` (2.3) is not asked again (logged once). */
    const dva_collected *ix = dva_scrape_collected(&result, &dva_collect_indexer);
    if (ix != NULL && ix->step.unsupported)
        inst->plan.indexer = false;
    dva_scrape_result_free(&result);
    /* 0 even when Dovecot is down: bool-up = 0 and the FAILURE notification
     * report it. A non-zero return would make collectd double this read's
     * interval on every failure (up to a day), so the recovery would go
     * unseen for hours. */
    return 0;
}

/* The private directory of the instance's quota scan, or NULL (logged:
 * the users are then read one request each). */
static char *scan_dir_create(const char *parent, dvp_logger *log)
{
    dva_error err;
    char *dir = dva_quota_scan_dir_create(parent, "collectd-dovecot", &err);
    if (dir == NULL)
        dvp_log(log, LOG_WARNING,
                "QuotaScanDir \"%s\": cannot create a private directory there (%s); "
                "quota is read one request per user, which is slower. Give a "
                "directory collectd can write and the doveadm server can read.",
                parent, err.message);
    return dir;
}

/* Takes over *config (zeroed) and registers the instance's read. */
static int instance_start(dvp_instance_config *config)
{
    dvp_instance *inst = calloc(1, sizeof(*inst));
    if (inst == NULL) {
        plugin_log(LOG_ERR,
                   DVP_PLUGIN_NAME " plugin: out of memory starting instance "
                                   "\"%s\"",
                   config->settings.name);
        return -1;
    }
    inst->config = *config;
    memset(config, 0, sizeof(*config));
    const dva_settings *s = &inst->config.settings;
    cdtime_t interval = DOUBLE_TO_CDTIME_T(inst->config.interval);

    dvp_logger_init(&inst->log, s->name, s->password);
    if (dva_settings_quota_scan(s))
        inst->scan_dir = scan_dir_create(s->quota_scan_dir, &inst->log);
    dvp_plan_init(&inst->plan, s, inst->config.timeout, &inst->log);
    dvp_versions_init(&inst->versions, s->generation, &inst->log);
    inst->plan.scan_dir = inst->scan_dir;
    inst->plan.user_slices =
        inst->config.quota_slices > 0 ? inst->config.quota_slices : 1;
    dvp_submit_init(&inst->submit, s->name, s->report_host, interval, &inst->log);
    inst->submit.layout = s->identifier_layout;
    dvp_series_init(&inst->submit.series, s->quota_series, s->quota_series_top,
                    s->quota_warning);
    if (s->quota_interval > 0)
        inst->submit.user_interval = DOUBLE_TO_CDTIME_T(s->quota_interval);
    if (s->quota_series != DVA_QUOTA_SERIES_TOP) { /* top N needs every user */
        inst->plan.on_user_quota = user_quota;
        inst->plan.on_user_quota_ctx = inst;
    }
    dvp_notify_init(&inst->notify, s->name, s->report_host, s->quota_warning,
                    s->quota_failure, &inst->log);
    inst->notify.health.enabled = s->service_notifications;
    inst->notify.layout = s->identifier_layout;
    if (s->host != NULL) {
        dva_error err;
        inst->resolver = dva_resolver_new(s->host, s->port, NULL, &err);
        if (inst->resolver == NULL) {
            dvp_log(&inst->log, LOG_ERR, "cannot start: %s", err.message);
            instance_free(inst);
            return -1;
        }
        inst->plan.resolver = inst->resolver;
    }

    char where[512];
    if (s->host != NULL)
        snprintf(where, sizeof(where), "%s port %u%s", s->host, s->port,
                 s->tls == DVA_TLS_IMMEDIATE  ? " over TLS"
                 : s->tls == DVA_TLS_STARTTLS ? " with STARTTLS"
                                              : "");
    else
        snprintf(where, sizeof(where), "%s", s->socket_path);
    dvp_log(&inst->log, LOG_INFO, "reading Dovecot at %s every %g s (timeout %g s)",
            where, inst->config.interval, inst->config.timeout);

    char name[DATA_MAX_NAME_LEN + 16];
    snprintf(name, sizeof(name), DVP_PLUGIN_NAME "/%s", s->name);
    user_data_t ud = {.data = inst, .free_func = instance_free};
    if (plugin_register_complex_read(NULL, name, dovecot_read, interval, &ud) != 0) {
        dvp_log(&inst->log, LOG_ERR, "registering the read callback failed");
        instance_free(inst); /* not freed by collectd when registering fails */
        return -1;
    }
    return 0;
}

static int dovecot_init(void)
{
    if (initialized)
        return 0;
    initialized = true;
    if (config_failed)
        return -1;
    /* `LoadPlugin dovecot` alone reads the local Dovecot with defaults. */
    if (pending.ninstances == 0 && dvp_config_default(&pending, default_interval()) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < pending.ninstances; i++)
        if (instance_start(&pending.instances[i]) < 0)
            rc = -1;
    dvp_config_free(&pending); /* what is left: nothing, or what failed */
    return rc;
}

static int dovecot_shutdown(void)
{
    /* Started instances are freed by collectd (their free function). */
    dvp_config_free(&pending);
    config_failed = false;
    initialized = false;
    return 0;
}

__attribute__((visibility("default"))) void module_register(void)
{
    plugin_register_complex_config(DVP_PLUGIN_NAME, dovecot_config);
    plugin_register_init(DVP_PLUGIN_NAME, dovecot_init);
    plugin_register_shutdown(DVP_PLUGIN_NAME, dovecot_shutdown);
}
