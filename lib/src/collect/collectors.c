/* SPDX-License-Identifier: MIT */
/* The built-in collectors, in the order they start: server-wide steps
 * first, then the probe that starts the per-user steps (doc/
 * ARCHITECTURE.md, "Adding a collector"). */
#include "doveadm/collector.h"

const dva_collector *const dva_collectors[] = {
    &dva_collect_stats,      &dva_collect_who,
    &dva_collect_services,   &dva_collect_processes,
    &dva_collect_indexer,    &dva_collect_penalty,
    &dva_collect_oldstats,   &dva_collect_probe,
    &dva_collect_users,      &dva_collect_quota_all,
    &dva_collect_quota,      &dva_collect_mailbox,
    &dva_collect_quota_scan, NULL,
};
