/* SPDX-License-Identifier: MIT */
/* What a front end keeps of one server from read to read, and the lines
 * a read deserves in its log (the plugin logs them; every line of the
 * library's own words is written here, the front end adds its prefix).
 *
 * DovecotVersion "auto": a read whose generation is not known yet asks the
 * server first (the probe, before any per-user request), and later reads
 * speak what the replies showed (protocol/generation.c lists the signals):
 * one INFO line when it is first known and one per change. After a read
 * that found the server down, or whose per-user replies did not fit the
 * generation used, it is asked again: a restarted server may be an
 * upgraded one. A step the generation lacks (stats dump -f on 2.2, old
 * statistics on 2.4) is not sent and is logged once. An old-stats scope
 * that fails is logged when it starts failing and when it works again,
 * never on every read. */
#ifndef DOVEADM_READ_MEMORY_H
#define DOVEADM_READ_MEMORY_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_COLLECT)
#error "doveadm/read_memory.h belongs to the collect layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>

#include "doveadm/scrape.h"

/* One line to log. key NULL: log it (it is said once per change already);
 * else log it once per key, until it stops repeating. */
typedef void dva_notice_fn(void *ctx, dva_log_level level, const char *key,
                           const char *message);

typedef struct {
    dva_generation configured; /* DovecotVersion */
    dva_generation current;    /* what the next read's plan uses (AUTO: ask) */
    dva_generation known;      /* the last one logged */
    bool oldstats_failing[DVA_OLDSTATS_NSCOPES];
} dva_read_memory;

void dva_read_memory_init(dva_read_memory *m, dva_generation configured);
/* Notes what read r showed, with its lines; returns the generation for
 * the next plan. */
dva_generation dva_read_memory_after(dva_read_memory *m, const dva_scrape_result *r,
                                     dva_notice_fn *notice, void *ctx);

/* The lines of a read on its own (before its values are reported): a quota
 * scan that did not work, a 2.4 that did not list every user's quota. */
void dva_read_explain(const dva_scrape_plan *plan, const dva_scrape_result *r,
                      dva_notice_fn *notice, void *ctx);

#endif
