/* SPDX-License-Identifier: MIT */
/* Stats counters across a Dovecot reload or restart.
 *
 * The counters of `stats dump` restart at 0 when the stats process does
 * (a reload, a restart: doc/PROTOCOL.md section 7). They are dispatched as
 * DERIVE, and collectd computes a DERIVE's rate as (new - old) / time
 * with no wrap or reset rule, so a reset would draw one large negative
 * rate (and an RRD with minimum 0 a gap). Instead each counter is
 * dispatched as offset + raw: when any counter of a read is lower than in
 * the read before, the statistics restarted, every counter's offset grows
 * by its last value, and the series go on monotone (the rate across the
 * reset: what was counted since it, spread over the interval). One INFO
 * line per reset. A counter lower than its last value without such a
 * reset (old statistics, DVP_RESETS_LONE) continues the same way alone. State per
 * counter is bounded (DVP_RESETS_MAX); a counter past the bound is dispatched raw. Not
 * thread-safe: one per instance. */
#ifndef DVP_PLUGIN_RESETS_H
#define DVP_PLUGIN_RESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/stats.h"
#include "plugin_log.h"

#define DVP_RESETS_MAX 65536
/* The first byte of the name of a counter that restarts on its own (old
 * statistics: a user's row starts again when Dovecot forgets the user): a
 * stats reset leaves it alone, and it is kept monotone by itself. */
#define DVP_RESETS_LONE "\002"
/* The part of a metric's event count (no field of an event starts with
 * a control byte). */
#define DVP_RESETS_COUNT "\001count"

typedef struct dvp_reset_entry dvp_reset_entry;

typedef struct {
    dvp_reset_entry *slots; /* open addressing, cap a power of two */
    size_t cap, count;
    uint64_t read;   /* read number, for dropping counters gone */
    uint64_t resets; /* seen since start */
    bool full_noted;
    dvp_logger *log; /* borrowed */
} dvp_resets;

void dvp_resets_init(dvp_resets *resets, dvp_logger *log);
void dvp_resets_free(dvp_resets *resets);

/* Before the counters of one read's stats are dispatched: true when they
 * restarted since the read before (logged). */
bool dvp_resets_begin(dvp_resets *resets, const dva_stats *stats);
/* The value to dispatch for a counter: name and part ("count", "sum")
 * identify it (part: DVP_RESETS_COUNT, or the field of a sum); raw is what the server
 * sent. */
uint64_t dvp_resets_value(dvp_resets *resets, const char *metric, const char *part,
                          uint64_t raw);

#endif
