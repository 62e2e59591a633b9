/* SPDX-License-Identifier: MIT */
/* Stats counters across a reset: see plugin_resets.h. */
#include "plugin_resets.h"

#include <stdlib.h>
#include <string.h>

#include "plugin_collectd.h"
#include "plugin_seen.h"

struct dvp_reset_entry {
    char *key; /* metric NUL part; NULL: a free slot */
    size_t keylen;
    uint64_t hash;
    uint64_t last;   /* raw value of its last read */
    uint64_t offset; /* added to raw */
    uint64_t seen;   /* read number of its last value */
};

#define FIRST_CAP 64

void dvp_resets_init(dvp_resets *resets, dvp_logger *log)
{
    memset(resets, 0, sizeof(*resets));
    resets->log = log;
}

static void free_slots(dvp_reset_entry *slots, size_t cap)
{
    for (size_t i = 0; i < cap; i++)
        free(slots[i].key);
    free(slots);
}

void dvp_resets_free(dvp_resets *resets)
{
    free_slots(resets->slots, resets->cap);
    memset(resets, 0, sizeof(*resets));
}

/* The slot of key, or the free slot where it would go. */
static dvp_reset_entry *slot_of(dvp_reset_entry *slots, size_t cap, const char *key,
                                size_t len, uint64_t hash)
{
    size_t i = (size_t)hash & (cap - 1);
    for (;;) {
        dvp_reset_entry *e = &slots[i];
        if (e->key == NULL ||
            (e->hash == hash && e->keylen == len && memcmp(e->key, key, len) == 0))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

/* Moves the entries into a table of cap slots, leaving out those not seen
 * since read min_seen. */
static bool rebuild(dvp_resets *r, size_t cap, uint64_t min_seen)
{
    dvp_reset_entry *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return false;
    size_t count = 0;
    for (size_t i = 0; i < r->cap; i++) {
        dvp_reset_entry *e = &r->slots[i];
        if (e->key == NULL)
            continue;
        if (e->seen < min_seen) {
            free(e->key);
            continue;
        }
        *slot_of(slots, cap, e->key, e->keylen, e->hash) = *e;
        count++;
    }
    free(r->slots);
    r->slots = slots;
    r->cap = cap;
    r->count = count;
    return true;
}

/* key = metric NUL part into buf (NULL when it does not fit). */
static const char *make_key(char *buf, size_t size, const char *metric,
                            const char *part, size_t *len)
{
    size_t m = strlen(metric), p = strlen(part);
    if (m + 1 + p + 1 > size)
        return NULL;
    memcpy(buf, metric, m);
    buf[m] = '\0';
    memcpy(buf + m + 1, part, p + 1);
    *len = m + 1 + p;
    return buf;
}

static dvp_reset_entry *find(const dvp_resets *r, const char *key, size_t len,
                             uint64_t hash)
{
    if (r->slots == NULL)
        return NULL;
    dvp_reset_entry *e = slot_of(r->slots, r->cap, key, len, hash);
    return e->key != NULL ? e : NULL;
}

static bool went_down(const dvp_resets *r, const char *metric, const char *part,
                      uint64_t raw)
{
    char buf[2 * DATA_MAX_NAME_LEN + 2];
    size_t len;
    const char *key = make_key(buf, sizeof(buf), metric, part, &len);
    if (key == NULL)
        return false;
    const dvp_reset_entry *e = find(r, key, len, dvp_seen_hash(key, len));
    return e != NULL && raw < e->last;
}

bool dvp_resets_begin(dvp_resets *r, const dva_stats *stats)
{
    r->read++;
    const dva_stats_row *down = NULL;
    for (size_t i = 0; i < stats->nrows && down == NULL; i++) {
        const dva_stats_row *row = &stats->rows[i];
        if (row->metric == NULL || row->field == NULL)
            continue;
        if (went_down(r, row->metric, DVP_RESETS_COUNT, row->count) ||
            went_down(r, row->metric, row->field, row->sum))
            down = row;
    }
    if (down == NULL)
        return false;
    for (size_t i = 0; i < r->cap; i++) {
        dvp_reset_entry *e = &r->slots[i];
        if (e->key != NULL && e->key[0] != DVP_RESETS_LONE[0]) {
            e->offset += e->last;
            e->last = 0;
        }
    }
    r->resets++;
    dvp_log(
        r->log, LOG_INFO,
        "Dovecot's statistics restarted (a reload or restart: metric %s counts %llu, "
        "fewer than before); its counters go on from their last values",
        down->metric, (unsigned long long)down->count);
    return true;
}

uint64_t dvp_resets_value(dvp_resets *r, const char *metric, const char *part,
                          uint64_t raw)
{
    char buf[2 * DATA_MAX_NAME_LEN + 2];
    size_t len;
    const char *key = make_key(buf, sizeof(buf), metric, part, &len);
    if (key == NULL)
        return raw;
    uint64_t hash = dvp_seen_hash(key, len);
    dvp_reset_entry *e = find(r, key, len, hash);
    if (e == NULL) {
        if (r->count + 1 > r->cap / 2) { /* keep the table half empty */
            size_t cap = r->cap == 0 ? FIRST_CAP : r->cap * 2;
            /* Full: drop counters the last read did not have. */
            if (cap / 2 > DVP_RESETS_MAX)
                cap = r->cap;
            if (!rebuild(r, cap, r->read > 0 ? r->read - 1 : 0) ||
                r->count + 1 > r->cap / 2) {
                if (!r->full_noted)
                    dvp_log(r->log, LOG_WARNING,
                            "more than %d stats counters: the new ones are reported "
                            "as the server sends them (a reload may draw a negative "
                            "rate for them)",
                            DVP_RESETS_MAX);
                r->full_noted = true;
                return raw;
            }
        }
        e = slot_of(r->slots, r->cap, key, len, hash);
        e->key = malloc(len + 1);
        if (e->key == NULL)
            return raw;
        memcpy(e->key, key, len + 1);
        e->keylen = len;
        e->hash = hash;
        e->last = 0;
        e->offset = 0;
        r->count++;
    }
    /* A lone counter lower than before in a read that saw no reset (a
     * metric that came back): start its offset from its last value. */
    if (raw < e->last)
        e->offset += e->last;
    e->last = raw;
    e->seen = r->read;
    return e->offset + raw;
}
