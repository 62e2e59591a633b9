/* Per instance: which Dovecot generation the plan speaks to, and the log
 * lines that version differences deserve.
 *
 * DovecotVersion "auto": a read whose generation is not known yet asks the
 * server first (the library's probe, before any per-user request), and
 * later reads speak what the replies showed (lib/src/version.c lists the
 * signals): one INFO line when it is first known and one per change.
 * After a read that found the server down, or whose per-user replies did
 * not fit the generation used, it is asked again: a restarted server may
 * be an upgraded one. A step the generation
 * lacks (stats dump -f on 2.2, old statistics on 2.4) is not sent and is
 * logged once. An old-stats scope that fails is logged when it starts
 * failing and when it works again, never on every read. */
#ifndef DVP_PLUGIN_VERSIONS_H
#define DVP_PLUGIN_VERSIONS_H

#include <stdbool.h>

#include "doveadm/scrape.h"
#include "plugin_log.h"

typedef struct {
    dva_generation configured; /* DovecotVersion */
    dva_generation current;    /* what the next read's plan uses (AUTO: ask) */
    dva_generation known;      /* the last one logged */
    bool oldstats_failing[DVA_OLDSTATS_NSCOPES];
    dvp_logger *log; /* borrowed */
} dvp_versions;

void dvp_versions_init(dvp_versions *v, dva_generation configured, dvp_logger *log);

/* Logs what the read showed; returns the generation for the next plan. */
dva_generation dvp_versions_after_read(dvp_versions *v, const dva_scrape_result *r);

#endif
