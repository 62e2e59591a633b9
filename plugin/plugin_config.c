/* SPDX-License-Identifier: MIT */
/* The <Plugin dovecot> block -> settings: see plugin_config.h. */
#include "plugin_config.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin_names.h"

#define VALUE_TEXT_MAX 64

__attribute__((format(printf, 1, 2))) static void config_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    plugin_log(LOG_ERR, DVP_PLUGIN_NAME " plugin: %s", msg);
}

static void config_warning(void *ctx, const char *message)
{
    (void)ctx;
    plugin_log(LOG_WARNING, DVP_PLUGIN_NAME " plugin: %s", message);
}

const char *dvp_config_value_text(const oconfig_value_t *value, char *buf, size_t size)
{
    switch (value->type) {
    case OCONFIG_TYPE_STRING:
        return value->value.string != NULL ? value->value.string : "";
    case OCONFIG_TYPE_BOOLEAN:
        return value->value.boolean ? "true" : "false";
    case OCONFIG_TYPE_NUMBER: {
        double d = value->value.number;
        if (isfinite(d) && d == trunc(d) && fabs(d) < 9007199254740992.0) {
            snprintf(buf, size, "%.0f", d);
            return buf;
        }
        /* The shortest form that reads back as the same number. */
        for (int precision = 1; precision <= 17; precision++) {
            snprintf(buf, size, "%.*g", precision, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        return buf;
    }
    }
    snprintf(buf, size, "?");
    return buf;
}

static const char *value_kind(const oconfig_value_t *value)
{
    switch (value->type) {
    case OCONFIG_TYPE_STRING:
        return "a string";
    case OCONFIG_TYPE_NUMBER:
        return "a number";
    case OCONFIG_TYPE_BOOLEAN:
        return "a boolean";
    }
    return "a value";
}

static bool name_taken(const dvp_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ninstances; i++)
        if (strcmp(cfg->instances[i].settings.name, name) == 0)
            return true;
    return false;
}

/* Feeds one option line (all its values) into the schema. */
static int set_option(dva_config *config, const char *instance,
                      const oconfig_item_t *opt)
{
    char text[VALUE_TEXT_MAX];
    dva_error err;

    if (opt->children_num > 0) {
        config_error(
            "instance \"%s\": <%s> blocks are not allowed inside <Instance>; "
            "write options as lines like Socket \"/run/dovecot/doveadm-server\"",
            instance, opt->key);
        return -1;
    }
    if (opt->values_num < 1) {
        /* The schema names an unknown option, or the missing value. */
        dva_config_set(config, opt->key, NULL, &err);
        config_error("%s", err.message);
        return -1;
    }
    for (int i = 0; i < opt->values_num; i++) {
        if (i == 1 && !dva_config_repeatable(opt->key)) {
            config_error(
                "instance \"%s\": option %s takes one value, but %d are given; "
                "only QuotaUser, QuotaUsers, Mailbox, OldStats and "
                "OldStatsColumns take several",
                instance, opt->key, opt->values_num);
            return -1;
        }
        const char *value = dvp_config_value_text(&opt->values[i], text, sizeof(text));
        if (dva_config_set(config, opt->key, value, &err) < 0) {
            config_error("%s", err.message);
            return -1;
        }
    }
    return 0;
}

static bool collects_something(const dva_settings *s)
{
    bool per_user = (s->collect_quota || s->collect_mailbox) &&
                    (s->nquota_users > 0 || s->nquota_masks > 0);
    bool oldstats = false;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        oldstats = oldstats || s->oldstats[i];
    bool health = s->collect_services || s->collect_processes || s->collect_indexer ||
                  s->collect_penalty;
    return s->collect_stats || s->collect_who || per_user || oldstats || health;
}

/* The checks that need collectd's view (interval, identifier limits). */
static int check_instance(dvp_instance_config *ic, double default_interval)
{
    const dva_settings *s = &ic->settings;
    ic->interval = s->interval > 0 ? s->interval : default_interval;
    ic->timeout = s->timeout > 0 ? s->timeout : 0.8 * ic->interval;
    if (!(ic->timeout < ic->interval)) {
        config_error("instance \"%s\": Timeout %g seconds is not below the interval of "
                     "%g seconds (%s); lower Timeout or raise Interval",
                     s->name, ic->timeout, ic->interval,
                     s->interval > 0 ? "its Interval option" : "collectd's Interval");
        return -1;
    }
    ic->quota_slices = 1;
    if (s->quota_interval > 0) {
        double ratio = s->quota_interval / ic->interval;
        if (ratio < 1 || ratio > DVP_MAX_QUOTA_SLICES + 1e-9) {
            config_error(
                "instance \"%s\": QuotaInterval %g seconds must be between the "
                "interval of %g seconds and %d times it; each read then reads "
                "that fraction of the users",
                s->name, s->quota_interval, ic->interval, DVP_MAX_QUOTA_SLICES);
            return -1;
        }
        ic->quota_slices = (unsigned)(ratio + 1e-9);
    }
    if (s->report_host != NULL && (strlen(s->report_host) >= DATA_MAX_NAME_LEN ||
                                   !dvp_name_clean(s->report_host))) {
        config_error("instance \"%s\": option ReportHost must be shorter than %d bytes "
                     "and use only letters, digits and @ . _ + = -",
                     s->name, DATA_MAX_NAME_LEN);
        return -1;
    }
    if (!collects_something(s)) {
        config_error(
            "instance \"%s\" collects nothing: enable CollectStats, CollectWho "
            "or CollectServices, name users with QuotaUser or QuotaUsers, or "
            "add OldStats",
            s->name);
        return -1;
    }
    return 0;
}

static int append(dvp_config *cfg, dvp_instance_config *ic)
{
    dvp_instance_config *grown =
        realloc(cfg->instances, (cfg->ninstances + 1) * sizeof(*cfg->instances));
    if (grown == NULL) {
        config_error("out of memory reading the configuration");
        return -1;
    }
    cfg->instances = grown;
    cfg->instances[cfg->ninstances++] = *ic;
    return 0;
}

/* Checks the name of an <Instance> block; returns it or NULL (logged). */
static const char *instance_name(const oconfig_item_t *block)
{
    if (block->values_num != 1 || block->values[0].type != OCONFIG_TYPE_STRING) {
        config_error("<Instance> needs exactly one name in quotes, e.g. "
                     "<Instance \"local\">; got %d value(s)%s%s",
                     block->values_num, block->values_num == 1 ? ", " : "",
                     block->values_num == 1 ? value_kind(&block->values[0]) : "");
        return NULL;
    }
    const char *name = block->values[0].value.string;
    if (name == NULL || name[0] == '\0') {
        config_error("<Instance \"\"> has an empty name; name it, e.g. "
                     "<Instance \"local\">");
        return NULL;
    }
    if (strlen(name) >= DATA_MAX_NAME_LEN || !dvp_name_clean(name)) {
        config_error(
            "<Instance \"%s\">: an instance name must be shorter than %d bytes "
            "and use only letters, digits and @ . _ + = - (it becomes the "
            "plugin instance of every value)",
            name, DATA_MAX_NAME_LEN);
        return NULL;
    }
    return name;
}

/* Maps one <Instance> block; on success appends it to out. */
static int map_instance(dvp_config *cfg, const oconfig_item_t *block,
                        double default_interval, dvp_config *pending)
{
    const char *name = instance_name(block);
    if (name == NULL)
        return -1;
    if (name_taken(cfg, name) || name_taken(pending, name)) {
        config_error("instance \"%s\" is defined twice; instance names must be unique",
                     name);
        return -1;
    }
    dva_config *config = dva_config_new(name);
    if (config == NULL) {
        config_error("out of memory reading the configuration");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < block->children_num; i++)
        if (set_option(config, name, &block->children[i]) < 0)
            rc = -1; /* keep going: report every bad option at once */

    dvp_instance_config ic;
    memset(&ic, 0, sizeof(ic));
    dva_error err;
    if (rc == 0 &&
        dva_config_finish(config, &ic.settings, config_warning, NULL, &err) < 0) {
        config_error("%s", err.message);
        rc = -1;
    }
    dva_config_free(config);
    if (rc < 0)
        return -1;
    if (check_instance(&ic, default_interval) < 0 || append(pending, &ic) < 0) {
        dva_settings_free(&ic.settings);
        return -1;
    }
    return 0;
}

static void move_all(dvp_config *to, dvp_config *from)
{
    for (size_t i = 0; i < from->ninstances; i++) {
        if (append(to, &from->instances[i]) < 0)
            dva_settings_free(&from->instances[i].settings);
    }
    free(from->instances);
    from->instances = NULL;
    from->ninstances = 0;
}

int dvp_config_block(dvp_config *cfg, const oconfig_item_t *ci, double default_interval)
{
    dvp_config pending = {0};
    int rc = 0;
    for (int i = 0; i < ci->children_num; i++) {
        const oconfig_item_t *child = &ci->children[i];
        if (strcasecmp(child->key, "Instance") == 0) {
            if (map_instance(cfg, child, default_interval, &pending) < 0)
                rc = -1;
            continue;
        }
        config_error(
            "option \"%s\" is not valid at the top of <Plugin %s>; put options "
            "inside an <Instance \"name\"> block",
            child->key, DVP_PLUGIN_NAME);
        rc = -1;
    }
    if (rc < 0) {
        dvp_config_free(&pending);
        return -1;
    }
    move_all(cfg, &pending);
    return 0;
}

int dvp_config_default(dvp_config *cfg, double default_interval)
{
    dva_config *config = dva_config_new(DVP_DEFAULT_INSTANCE);
    if (config == NULL) {
        config_error("out of memory reading the configuration");
        return -1;
    }
    dvp_instance_config ic;
    memset(&ic, 0, sizeof(ic));
    dva_error err;
    int rc = dva_config_finish(config, &ic.settings, config_warning, NULL, &err);
    dva_config_free(config);
    if (rc < 0) {
        config_error("%s", err.message);
        return -1;
    }
    if (check_instance(&ic, default_interval) < 0 || append(cfg, &ic) < 0) {
        dva_settings_free(&ic.settings);
        return -1;
    }
    return 0;
}

void dvp_config_free(dvp_config *cfg)
{
    for (size_t i = 0; i < cfg->ninstances; i++)
        dva_settings_free(&cfg->instances[i].settings);
    free(cfg->instances);
    cfg->instances = NULL;
    cfg->ninstances = 0;
}
