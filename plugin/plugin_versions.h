/* SPDX-License-Identifier: MIT */
/* Per instance: which Dovecot generation the plan speaks to from read to
 * read, and the log lines version differences deserve. The rules and the
 * lines are the library's (doveadm/read_memory.h); this logs them with
 * the instance's logger. */
#ifndef DVP_PLUGIN_VERSIONS_H
#define DVP_PLUGIN_VERSIONS_H

#include "doveadm/read_memory.h"
#include "plugin_log.h"

typedef struct {
    dva_read_memory memory;
    dvp_logger *log; /* borrowed */
} dvp_versions;

void dvp_versions_init(dvp_versions *v, dva_generation configured, dvp_logger *log);

/* Logs what the read showed; returns the generation for the next plan. */
dva_generation dvp_versions_after_read(dvp_versions *v, const dva_scrape_result *r);

#endif
