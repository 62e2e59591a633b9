/* SPDX-License-Identifier: MIT */
/* QuotaSeries (doc/configuration.md): which quota values one read sends.
 * "user" sends each user's values (plugin_submit.c); "domain" sums them
 * per domain and quota root here; "top N" picks the N users of highest
 * percent; "none" sends none. Quota notifications (plugin_notify.c) are
 * per user whatever the mode.
 *
 * The summaries are bounded: at most DVP_SERIES_MAX_DOMAINS (domain, root)
 * pairs a read, the users of further domains are summed under "_other".
 * The state is kept from read to read so that a read in steady state
 * allocates nothing per user. */
#ifndef DVP_PLUGIN_QUOTA_SERIES_H
#define DVP_PLUGIN_QUOTA_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/scrape.h"
#include "doveadm/settings.h"
#include "plugin_map.h"

#define DVP_SERIES_MAX_DOMAINS 10000
/* The domain of users without '@', and of those past the bound. */
#define DVP_SERIES_NO_DOMAIN "_"
#define DVP_SERIES_OTHER "_other"

/* One resource (storage, messages) of one domain and root. */
typedef struct {
    uint64_t users;   /* with a row of this resource */
    uint64_t warning; /* of them, at or over QuotaWarning percent */
    uint64_t limited; /* of them, with a limit */
    uint64_t max_percent;
    double used, limit; /* sums, in the unit of the values (bytes, messages) */
} dvp_resource_sum;

typedef struct {
    const char *domain, *root; /* into the index's key: "domain NUL root" */
    dvp_resource_sum res[2];   /* 0 storage, 1 messages */
} dvp_domain_sum;

typedef struct {
    dva_quota_series mode;
    size_t top;           /* N of "top N" */
    double warning;       /* QuotaWarning; 0: none counted */
    dvp_map index;        /* "domain NUL root" -> sums[value] */
    dvp_domain_sum *sums; /* of this read, nsums of them */
    size_t nsums, sums_cap;
    bool over_bound; /* a user went to _other in this read */
    /* top N: the picked users (indexes into result->users), a heap
     * while picking, sorted by percent, highest first, afterwards. */
    size_t *picked;
    uint64_t *picked_percent;
    size_t npicked, picked_cap;
} dvp_quota_series;

void dvp_series_init(dvp_quota_series *q, dva_quota_series mode, size_t top,
                     double warning);
void dvp_series_free(dvp_quota_series *q);

/* Starts a read: no sums, nothing picked. */
void dvp_series_reset(dvp_quota_series *q);

/* Adds the rows of one user whose quota was read to its domain's sums. */
void dvp_series_add_user(dvp_quota_series *q, const dva_scrape_user *u);

/* Picks the top N users of the result (q->picked, q->npicked): those whose
 * quota was read and with a limit, by their highest percent, highest
 * first; equal percents in the order of the result. */
void dvp_series_pick_top(dvp_quota_series *q, const dva_scrape_result *r);

/* Sends the summaries of this read, each through gauge: type, the parts
 * of its type instance ("@<domain>", root, last) and the value. */
typedef void dvp_series_gauge_fn(void *ctx, const char *type, const char *const *parts,
                                 size_t nparts, double value);
void dvp_series_dispatch(const dvp_quota_series *q, dvp_series_gauge_fn *gauge,
                         void *ctx);

#endif
