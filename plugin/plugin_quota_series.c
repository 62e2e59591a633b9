/* SPDX-License-Identifier: MIT */
/* QuotaSeries' summaries and top N: see plugin_quota_series.h. */
#include "plugin_quota_series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A domain not seen for this many reads leaves the index. */
#define FORGET_READS 100

void dvp_series_init(dvp_quota_series *q, dva_quota_series mode, size_t top,
                     double warning)
{
    memset(q, 0, sizeof(*q));
    q->mode = mode;
    q->top = top;
    q->warning = warning;
    /* room for the roots of _other beyond the bound */
    dvp_map_init(&q->index, DVP_SERIES_MAX_DOMAINS + 64);
}

void dvp_series_free(dvp_quota_series *q)
{
    dvp_map_free(&q->index);
    free(q->sums);
    free(q->picked);
    free(q->picked_percent);
    memset(q, 0, sizeof(*q));
}

void dvp_series_reset(dvp_quota_series *q)
{
    q->nsums = 0;
    q->npicked = 0;
    q->over_bound = false;
    /* The index keeps its entries (no allocation for a domain seen in the
     * read before) unless it filled up with domains gone since. */
    if (q->index.count >= DVP_SERIES_MAX_DOMAINS)
        dvp_map_clear(&q->index);
    dvp_map_age(&q->index, FORGET_READS);
}

/* The sums of (domain, root), new in this read or not; NULL when out of
 * memory or past the bound. */
static dvp_domain_sum *find_sum(dvp_quota_series *q, const char *domain,
                                const char *root, bool other)
{
    char buf[512];
    size_t len;
    const char *parts[] = {domain, root};
    char *key = dvp_key_join(buf, sizeof(buf), &len, parts, 2);
    if (key == NULL)
        return NULL;
    dvp_map_entry *e = dvp_map_find(&q->index, key, len);
    bool fresh = e == NULL || e->seen != q->index.generation;
    if (e == NULL && !other && q->index.count >= DVP_SERIES_MAX_DOMAINS)
        fresh = false; /* past the bound: e stays NULL */
    else if (e == NULL || fresh)
        e = dvp_map_touch(&q->index, key, len, NULL);
    dvp_key_free(key, buf);
    if (e == NULL)
        return NULL;
    if (!fresh)
        return &q->sums[e->value];
    if (q->nsums == q->sums_cap) {
        size_t cap = q->sums_cap > 0 ? 2 * q->sums_cap : 64;
        dvp_domain_sum *s = realloc(q->sums, cap * sizeof(*s));
        if (s == NULL)
            return NULL;
        q->sums = s;
        q->sums_cap = cap;
    }
    dvp_domain_sum *s = &q->sums[q->nsums];
    memset(s, 0, sizeof(*s));
    s->domain = e->key;
    s->root = e->key + strlen(domain) + 1;
    e->value = (int)q->nsums++;
    return s;
}

static dvp_domain_sum *domain_sum(dvp_quota_series *q, const char *user,
                                  const char *root)
{
    const char *at = strrchr(user, '@');
    const char *domain = at != NULL && at[1] != '\0' ? at + 1 : DVP_SERIES_NO_DOMAIN;
    dvp_domain_sum *s = find_sum(q, domain, root, false);
    if (s == NULL) {
        q->over_bound = true;
        s = find_sum(q, DVP_SERIES_OTHER, root, true);
    }
    return s;
}

void dvp_series_add_user(dvp_quota_series *q, const dva_scrape_user *u)
{
    dvp_domain_sum *s = NULL;
    const char *root = NULL; /* the root s was found for */
    for (size_t i = 0; i < u->quota.nrows; i++) {
        const dva_quota_row *row = &u->quota.rows[i];
        size_t k;
        double scale;
        if (row->error)
            continue;
        if (row->type == DVA_QUOTA_STORAGE) {
            k = 0;
            scale = DVA_QUOTA_STORAGE_UNIT;
        } else if (row->type == DVA_QUOTA_MESSAGE) {
            k = 1;
            scale = 1.0;
        } else {
            continue;
        }
        if (root == NULL || strcmp(root, row->root) != 0) {
            s = domain_sum(q, u->name, row->root);
            root = row->root;
        }
        if (s == NULL)
            continue;
        dvp_resource_sum *r = &s->res[k];
        r->users++;
        r->used += (double)row->value * scale;
        if (row->unlimited)
            continue;
        r->limited++;
        r->limit += (double)row->limit * scale;
        if (row->percent > r->max_percent)
            r->max_percent = row->percent;
        if (q->warning > 0 && (double)row->percent >= q->warning)
            r->warning++;
    }
}

/* The user's highest percent over its limited rows; false: none. */
static bool user_percent(const dva_scrape_user *u, uint64_t *out)
{
    bool any = false;
    *out = 0;
    if (!u->quota_step.attempted || u->quota_step.error.code != DVA_OK)
        return false;
    for (size_t i = 0; i < u->quota.nrows; i++) {
        const dva_quota_row *row = &u->quota.rows[i];
        if (row->error || row->unlimited ||
            (row->type != DVA_QUOTA_STORAGE && row->type != DVA_QUOTA_MESSAGE))
            continue;
        if (!any || row->percent > *out)
            *out = row->percent;
        any = true;
    }
    return any;
}

/* a ranks below b: a lower percent, or the same and later in the result. */
static bool below(const dvp_quota_series *q, size_t a, size_t b)
{
    if (q->picked_percent[a] != q->picked_percent[b])
        return q->picked_percent[a] < q->picked_percent[b];
    return q->picked[a] > q->picked[b];
}

static void swap(dvp_quota_series *q, size_t a, size_t b)
{
    size_t u = q->picked[a];
    uint64_t p = q->picked_percent[a];
    q->picked[a] = q->picked[b];
    q->picked_percent[a] = q->picked_percent[b];
    q->picked[b] = u;
    q->picked_percent[b] = p;
}

/* A min-heap on below(): the root is the weakest pick. */
static void sift_down(dvp_quota_series *q, size_t i, size_t n)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && below(q, l, m))
            m = l;
        if (r < n && below(q, r, m))
            m = r;
        if (m == i)
            return;
        swap(q, i, m);
        i = m;
    }
}

static void sift_up(dvp_quota_series *q, size_t i)
{
    while (i > 0 && below(q, i, (i - 1) / 2)) {
        swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static bool reserve(dvp_quota_series *q, size_t n)
{
    if (n <= q->picked_cap)
        return true;
    size_t *u = realloc(q->picked, n * sizeof(*u));
    if (u != NULL)
        q->picked = u;
    uint64_t *p = realloc(q->picked_percent, n * sizeof(*p));
    if (p != NULL)
        q->picked_percent = p;
    if (u == NULL || p == NULL)
        return false;
    q->picked_cap = n;
    return true;
}

void dvp_series_pick_top(dvp_quota_series *q, const dva_scrape_result *r)
{
    size_t want = q->top < r->nusers ? q->top : r->nusers;
    q->npicked = 0;
    if (want == 0 || !reserve(q, want))
        return;
    for (size_t i = 0; i < r->nusers; i++) {
        uint64_t pct;
        if (!user_percent(&r->users[i], &pct))
            continue;
        if (q->npicked < want) {
            q->picked[q->npicked] = i;
            q->picked_percent[q->npicked] = pct;
            sift_up(q, q->npicked++);
        } else if (pct > q->picked_percent[0]) {
            q->picked[0] = i;
            q->picked_percent[0] = pct;
            sift_down(q, 0, q->npicked);
        }
    }
    /* Heap sort: the weakest to the end, so highest first. */
    for (size_t n = q->npicked; n > 1; n--) {
        swap(q, 0, n - 1);
        sift_down(q, 0, n - 1);
    }
}

/* One resource of a domain's summary. */
static void dispatch_resource(dvp_series_gauge_fn *gauge, void *ctx, const char *domain,
                              const char *root, const dvp_resource_sum *r, bool storage)
{
    if (r->users == 0)
        return;
    const char *res = storage ? "storage" : "messages";
    const char *type = storage ? "bytes" : "email_count";
    const char *n_users[] = {domain, root,
                             storage ? "storage_users" : "messages_users"};
    const char *n_warn[] = {domain, root,
                            storage ? "storage_warning" : "messages_warning"};
    const char *n_used[] = {domain, root, "used"}, *n_limit[] = {domain, root, "limit"};
    const char *n_pct[] = {domain, root, res};
    gauge(ctx, "count", n_users, 3, (double)r->users);
    gauge(ctx, "count", n_warn, 3, (double)r->warning);
    gauge(ctx, type, n_used, 3, r->used);
    if (r->limited == 0)
        return; /* no limit, no percentage, as per user */
    gauge(ctx, type, n_limit, 3, r->limit);
    gauge(ctx, "percent", n_pct, 3,
          r->max_percent > 100 ? 100.0 : (double)r->max_percent);
}

void dvp_series_dispatch(const dvp_quota_series *q, dvp_series_gauge_fn *gauge,
                         void *ctx)
{
    for (size_t i = 0; i < q->nsums; i++) {
        const dvp_domain_sum *d = &q->sums[i];
        char domain[256]; /* longer than any type instance: dispatch warns */
        snprintf(domain, sizeof(domain), "@%s", d->domain);
        dispatch_resource(gauge, ctx, domain, d->root, &d->res[0], true);
        dispatch_resource(gauge, ctx, domain, d->root, &d->res[1], false);
    }
}
