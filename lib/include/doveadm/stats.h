/* SPDX-License-Identifier: MIT */
/* `stats dump` (Dovecot 2.3+ stats): one row per metric and field, with the
 * value columns pinned by -f so their order never depends on the server.
 * group_by sub-metrics come as rows of their own ("imap_command_SELECT").
 * Never sends -r (it would reset the counters for everyone). */
#ifndef DOVEADM_STATS_H
#define DOVEADM_STATS_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/stats.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdint.h>

/* The request and its columns (DVA_STATS_FIELDS): commands.h. */
#include "doveadm/commands.h"

typedef struct {
    const char *metric; /* e.g. "imap_command", "imap_command_SELECT" */
    const char *field;  /* "duration" or an event field name */
    uint64_t count;     /* events counted */
    uint64_t sum;       /* sum of the field (microseconds for duration) */
    /* NaN where the server sent no value (e.g. no events yet). */
    double min, max, avg, median, stddev, p95;
} dva_stats_row;

typedef struct {
    dva_stats_row *rows;
    size_t nrows;
} dva_stats;

/* Decodes a successful reply. Strings point into reply: keep it alive. */
int dva_stats_decode(const dva_reply *reply, dva_stats *out, dva_error *err);
void dva_stats_free(dva_stats *stats);

#endif
