/* SPDX-License-Identifier: MIT */
/* An instance's validated settings -> the library's scrape plan: what to
 * read, where, with which password and deadline. Shared by the plugin and
 * the check tool (check/), so both read a server the same way. */
#ifndef DVP_PLUGIN_PLAN_H
#define DVP_PLUGIN_PLAN_H

#include "doveadm/scrape.h"
#include "doveadm/settings.h"
#include "plugin_log.h"

/* Fills plan from s (borrowed: it must outlive the plan); timeout is the
 * effective Timeout in seconds; the library logs through log. */
void dvp_plan_init(dva_scrape_plan *plan, const dva_settings *s, double timeout,
                   dvp_logger *log);

#endif
