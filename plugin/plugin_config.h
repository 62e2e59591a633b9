/* SPDX-License-Identifier: MIT */
/* The <Plugin dovecot> block -> validated settings, one per <Instance>.
 *
 *   <Plugin dovecot>
 *     <Instance "local">
 *       Socket "/run/dovecot/doveadm-server"
 *       QuotaUser "alice@example.com" "bob@example.com"
 *     </Instance>
 *   </Plugin>
 *
 * Every option of an instance goes through the library's schema
 * (doveadm/settings.h): values are passed as text, several values on one
 * line only for repeatable options. Errors are logged with ERROR as
 * "dovecot plugin: <message>", and the caller returns -1 so collectd refuses
 * to start with a broken configuration. */
#ifndef DVP_PLUGIN_CONFIG_H
#define DVP_PLUGIN_CONFIG_H

#include <stddef.h>

#include "plugin_collectd.h"

#include "doveadm/settings.h"

/* At most this many reads per QuotaInterval: the notification state of a
 * user is kept for DVP_NOTIFY_FORGET_READS reads, more than this. */
#define DVP_MAX_QUOTA_SLICES 50

/* Name of the instance used when the configuration names none. */
#define DVP_DEFAULT_INSTANCE "local"

typedef struct {
    dva_settings settings;
    double interval; /* effective: Interval, or collectd's interval (seconds) */
    double timeout;  /* effective: Timeout, or 80% of interval (seconds) */
    /* QuotaInterval spreads the users over this many reads (1: every user
     * every read): floor(QuotaInterval / interval). */
    unsigned quota_slices;
} dvp_instance_config;

typedef struct {
    dvp_instance_config *instances;
    size_t ninstances;
} dvp_config;

/* Maps one <Plugin dovecot> block (there may be several) and appends its
 * instances to cfg. default_interval is collectd's interval in seconds for
 * instances without Interval. Returns 0, or -1 after logging every error
 * found (cfg then holds only the instances of earlier blocks). */
int dvp_config_block(dvp_config *cfg, const oconfig_item_t *ci,
                     double default_interval);

/* Appends the instance DVP_DEFAULT_INSTANCE with every default (for
 * `LoadPlugin dovecot` without a block). Returns 0 or -1 (logged). */
int dvp_config_default(dvp_config *cfg, double default_interval);

/* Renders one configuration value as the text the schema takes: strings
 * as they are, booleans as "true"/"false", numbers in their shortest exact
 * form ("2425", "2.5"). Returns buf. */
const char *dvp_config_value_text(const oconfig_value_t *value, char *buf, size_t size);

void dvp_config_free(dvp_config *cfg);

#endif
