/* SPDX-License-Identifier: MIT */
/* Edge-triggered notifications and logs, with state kept per instance
 * across reads (what mysql.c does): a condition is reported once when it
 * starts and once when it ends, never on every read.
 *
 * - Server: when no request could be answered, one ERROR line naming the
 *   reason and one FAILURE notification (type "bool", type_instance "up");
 *   while it stays down nothing more; on recovery an INFO line and an OKAY
 *   notification. A first read that succeeds reports nothing.
 * - Steps (stats dump, who, the user list, and each user's quota and
 *   mailbox status): a WARNING line when one starts failing, an INFO line
 *   when it works again. While the server is down, only the server is
 *   reported.
 * - Quota per (user, root, resource): level FAILURE at >= QuotaFailure
 *   percent, WARNING at >= QuotaWarning, else OKAY (a threshold of 0 turns
 *   its level off), from the percentage Dovecot computed. A notification
 *   (type "percent", type_instance "<user>-<root>-storage|messages") is sent
 *   on every change of level; a first observation at OKAY sends nothing.
 *
 * Only conditions that are not OKAY are stored, in a bounded map; entries
 * not seen for DVP_NOTIFY_FORGET_READS successful reads are dropped (a user
 * no longer listed, a quota root removed). The password never appears in a
 * line or a notification. */
#ifndef DVP_PLUGIN_NOTIFY_H
#define DVP_PLUGIN_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "plugin_collectd.h"

#include "doveadm/scrape.h"
#include "plugin_health.h"
#include "doveadm/settings.h"
#include "plugin_log.h"
#include "plugin_map.h"

#define DVP_NOTIFY_FORGET_READS 100
#define DVP_NOTIFY_MAX_STATE 100000

typedef enum { DVP_LEVEL_OKAY = 0, DVP_LEVEL_WARNING, DVP_LEVEL_FAILURE } dvp_level;

/* The level of a quota percentage; a threshold of 0 is off. */
dvp_level dvp_quota_level(uint64_t percent, double warning, double failure);

typedef struct {
    const char *instance; /* borrowed */
    const char *host;     /* borrowed; NULL: collectd's host name */
    double quota_warning, quota_failure;
    dvp_logger *log; /* borrowed */

    bool seen; /* a read was reported */
    bool up;
    bool stats_failing, who_failing, users_failing;
    dvp_map state;
    bool aged; /* the state was aged in the read in progress */
    bool state_full_noted;
    dvp_health_notify health; /* services at their limit (ServiceNotifications) */
    /* IdentifierLayout (plugin_layout.h): quota notifications are named as
     * the percent value they are about; 0: classic. */
    dva_identifier_layout layout;
} dvp_notify;

void dvp_notify_init(dvp_notify *notify, const char *instance, const char *host,
                     double quota_warning, double quota_failure, dvp_logger *log);
void dvp_notify_free(dvp_notify *notify);

/* One user's quota as the read delivers it (the library's on_user_quota):
 * its quota notifications now, the rest with dvp_notify_result(). */
void dvp_notify_user_quota(dvp_notify *notify, const dva_scrape_user *user,
                           cdtime_t now);

/* Reports what changed with this read; now stamps the notifications. */
void dvp_notify_result(dvp_notify *notify, const dva_scrape_result *result,
                       cdtime_t now);

#endif
