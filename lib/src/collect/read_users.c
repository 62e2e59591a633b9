/* SPDX-License-Identifier: MIT */
/* The users of one read (configured, listed by the server, or named by
 * its all-user rows) and the phases of the read that concern them: once
 * the generation is known the per-user collectors start, and once no user
 * list is pending the collectors that need every user. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "read.h"

unsigned dva_scrape_user_slice(const char *user, unsigned slices)
{
    if (slices <= 1)
        return 0;
    return (unsigned)(dva_hash_str(user) % slices);
}

/* A user's part past max_users: another hash than the slices' (their
 * residues would go together), splitmix64's finaliser over it. */
static uint64_t part_hash(const char *user)
{
    uint64_t h = dva_hash_str(user);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static unsigned part_of(const char *user, unsigned parts)
{
    return (unsigned)(part_hash(user) % parts);
}

/* The fewest parts, from at least, with no part over budget users. */
static unsigned fewest_parts(const uint64_t *hashes, size_t n, size_t budget,
                             unsigned at_least)
{
    size_t *count = NULL;
    for (unsigned parts = at_least; parts < DVA_MAX_USER_PARTS; parts++) {
        size_t *c = realloc(count, parts * sizeof(*c));
        if (c == NULL)
            break;
        count = c;
        memset(count, 0, parts * sizeof(*count));
        size_t most = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = ++count[hashes[i] % parts];
            most = k > most ? k : most;
        }
        if (most <= budget) {
            free(count);
            return parts;
        }
    }
    free(count);
    return DVA_MAX_USER_PARTS; /* what does not fit is dropped */
}

/* Room for the users a list of n names adds, sized once: grown by
 * doubling, the array of 100,000 users' records would be up to twice
 * their size. */
static void reserve_users(dva_read *r, const char *const *names, size_t n)
{
    const dva_scrape_plan *plan = r->plan;
    dva_scrape_result *res = r->result;
    size_t kept = n;
    if (plan->user_slices > 1) {
        kept = 0;
        for (size_t i = 0; i < n; i++)
            kept +=
                dva_scrape_user_slice(names[i], plan->user_slices) == plan->user_slice;
    }
    size_t room = r->max_users > res->nusers ? r->max_users - res->nusers : 0;
    size_t need = res->nusers + (kept < room ? kept : room);
    if (need <= r->users_cap)
        return;
    dva_scrape_user *users = realloc(res->users, need * sizeof(*users));
    if (users == NULL)
        return; /* dva_read_new_user() grows it as it can */
    res->users = users;
    r->users_cap = need;
}

void dva_read_bound_users(dva_read *r, const char *const *names, size_t n)
{
    const dva_scrape_plan *plan = r->plan;
    dva_scrape_result *res = r->result;
    reserve_users(r, names, n);
    if (r->max_users == SIZE_MAX)
        return; /* no bound: nothing to count */
    uint64_t *hashes = malloc((n > 0 ? n : 1) * sizeof(*hashes));
    size_t m = 0;
    if (hashes == NULL)
        return; /* the bound in dva_read_new_user() holds still */
    for (size_t i = 0; i < n; i++) {
        if (plan->user_slices > 1 &&
            dva_scrape_user_slice(names[i], plan->user_slices) != plan->user_slice)
            continue;
        if (!dva_strset_has(&r->user_set, names[i]))
            hashes[m++] = part_hash(names[i]);
    }
    res->listed_users += m;
    size_t budget = r->max_users > res->nusers ? r->max_users - res->nusers : 0;
    if (res->user_parts <= 1 && m > budget && budget > 0) {
        size_t least = (m + budget - 1) / budget;
        unsigned parts = fewest_parts(hashes, m, budget,
                                      least < DVA_MAX_USER_PARTS ? (unsigned)least
                                                                 : DVA_MAX_USER_PARTS);
        res->user_parts = parts;
        res->user_part = (unsigned)(r->users_part_seed % parts);
    }
    free(hashes);
}

static void free_user(dva_scrape_user *u)
{
    free(u->mailbox_replies);
    free(u->mailboxes);
}

long dva_read_new_user(dva_read *r, const char *name)
{
    const dva_scrape_plan *plan = r->plan;
    dva_scrape_result *res = r->result;
    if (plan->user_slices > 1 &&
        dva_scrape_user_slice(name, plan->user_slices) != plan->user_slice)
        return -1;
    if (dva_strset_has(&r->user_set, name))
        return -1;
    if (res->user_parts > 1 && part_of(name, res->user_parts) != res->user_part)
        return -1;
    if (res->nusers >= r->max_users) {
        res->users_dropped++;
        return -1;
    }
    dva_scrape_user *users =
        dva_read_grow(res->users, &r->users_cap, res->nusers + 1, sizeof(*users));
    if (users == NULL)
        return -1;
    res->users = users;
    dva_scrape_user *u = &res->users[res->nusers];
    memset(u, 0, sizeof(*u));
    /* In chunks, not one allocation per user (freed with the result). */
    u->name = dva_scrape_result_strdup(res, name);
    u->nmailbox_masks = plan->mailbox ? dva_collect_mailbox_masks(plan, NULL) : 0;
    if (u->nmailbox_masks > 0) {
        u->mailbox_replies = calloc(u->nmailbox_masks, sizeof(dva_reply));
        u->mailboxes = calloc(u->nmailbox_masks, sizeof(dva_mailbox_status));
    }
    if (u->name == NULL || (u->nmailbox_masks > 0 &&
                            (u->mailbox_replies == NULL || u->mailboxes == NULL))) {
        free_user(u);
        return -1;
    }
    /* The set borrows the name owned by the result. */
    if (dva_strset_add(&r->user_set, u->name) < 0) {
        free_user(u);
        return -1;
    }
    return (long)res->nusers++;
}

static bool enabled(const dva_read *r, const dva_collector *c)
{
    return c->enabled == NULL || c->enabled(r);
}

void dva_read_announce_user(dva_read *r, size_t user)
{
    for (size_t i = 0; i < r->ncollectors; i++) {
        const dva_collector *c = r->collectors[i];
        if (c->when == DVA_COLLECT_EACH_USER && c->start != NULL && enabled(r, c))
            c->start(r, user);
    }
}

long dva_read_add_user(dva_read *r, const char *name)
{
    long u = dva_read_new_user(r, name);
    if (u >= 0)
        dva_read_announce_user(r, (size_t)u);
    return u;
}

bool dva_read_knows_user(const dva_read *r, const char *name)
{
    return dva_strset_has(&r->user_set, name);
}

static void start_when(dva_read *r, dva_collect_when when)
{
    for (size_t i = 0; i < r->ncollectors; i++) {
        const dva_collector *c = r->collectors[i];
        if (c->when == when && c->start != NULL && enabled(r, c))
            c->start(r, 0);
    }
}

void dva_read_start_all_users(dva_read *r)
{
    r->all_users_started = true;
    start_when(r, DVA_COLLECT_ALL_USERS);
}

void dva_read_start_per_user(dva_read *r)
{
    const dva_scrape_plan *plan = r->plan;
    start_when(r, DVA_COLLECT_PER_USER);
    for (size_t i = 0; i < plan->nusers; i++)
        dva_read_add_user(r, plan->users[i]);
    if (r->sources_pending == 0)
        dva_read_start_all_users(r);
}

void dva_read_skip_per_user(dva_read *r, const dva_error *err)
{
    const dva_scrape_plan *plan = r->plan;
    dva_read_record_down(r, err);
    for (size_t i = 0; i < r->ncollectors; i++) {
        const dva_collector *c = r->collectors[i];
        if (c->when == DVA_COLLECT_PER_USER && c->start != NULL && enabled(r, c))
            c->fail(r, &(dva_job){.collector = c}, err);
    }
    for (size_t i = 0; i < plan->nusers; i++) {
        long u = dva_read_new_user(r, plan->users[i]);
        for (size_t k = 0; u >= 0 && k < r->ncollectors; k++) {
            const dva_collector *c = r->collectors[k];
            if (c->when == DVA_COLLECT_EACH_USER && enabled(r, c))
                c->fail(r, &(dva_job){.collector = c, .user = (size_t)u}, err);
        }
    }
}

void dva_read_decide_generation(dva_read *r)
{
    r->gen = dva_generation_decide(&r->evidence, NULL);
}

void dva_read_doubt_generation(dva_read *r)
{
    if (dva_generation_user_rows(r->gen) == DVA_ROWS_NAMED)
        r->result->generation_doubtful = true;
}

void dva_read_deliver_quota(dva_read *r, size_t user)
{
    const dva_scrape_plan *plan = r->plan;
    dva_scrape_user *u = &r->result->users[user];
    if (plan->on_user_quota == NULL || u->quota_delivered || !u->quota_step.attempted ||
        u->quota_step.error.code != DVA_OK)
        return;
    plan->on_user_quota(plan->on_user_quota_ctx, r->result, u);
    u->quota_delivered = true;
    if (!u->quota_shared)
        dva_quota_free(&u->quota);
    u->quota = (dva_quota){0};
    if (u->quota_reply != NULL) {
        dva_reply_free(u->quota_reply);
        free(u->quota_reply);
        u->quota_reply = NULL;
    }
}
