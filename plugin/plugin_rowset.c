/* SPDX-License-Identifier: MIT */
/* The quota rows of one read as hashes: see plugin_rowset.h. */
#include "plugin_rowset.h"

#include <stdlib.h>
#include <string.h>

#include "plugin_seen.h"

#define INITIAL_SLOTS 1024
/* 2^24 prefixes (a read of millions of users) is far past any Dovecot. */
#define MAX_SLOTS ((size_t)1 << 25)
#define RESOURCE_BITS 3u

void dvp_rowset_init(dvp_rowset *set)
{
    memset(set, 0, sizeof(*set));
}

void dvp_rowset_free(dvp_rowset *set)
{
    free(set->slots);
    dvp_rowset_init(set);
}

void dvp_rowset_reset(dvp_rowset *set, size_t keep_bytes)
{
    if (set->nslots * sizeof(*set->slots) > keep_bytes) {
        dvp_rowset_free(set);
        return;
    }
    if (set->slots != NULL)
        memset(set->slots, 0, set->nslots * sizeof(*set->slots));
    set->count = 0;
}

/* The slot of tag (its resource bits cleared) in slots, or the empty one
 * where it goes. */
static uint64_t *find(uint64_t *slots, size_t nslots, uint64_t tag)
{
    size_t mask = nslots - 1;
    /* The low bits hold the resources: index with the upper ones. */
    for (size_t i = (size_t)(tag >> 32 ^ tag >> 2) & mask;; i = (i + 1) & mask)
        if (slots[i] == 0 || (slots[i] & ~(uint64_t)RESOURCE_BITS) == tag)
            return &slots[i];
}

/* Doubles the table (kept at most half full). */
static int grow(dvp_rowset *set)
{
    size_t n = set->nslots == 0 ? INITIAL_SLOTS : set->nslots * 2;
    if (n > MAX_SLOTS)
        return -1;
    uint64_t *slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < set->nslots; i++)
        if (set->slots[i] != 0)
            *find(slots, n, set->slots[i] & ~(uint64_t)RESOURCE_BITS) = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->nslots = n;
    return 0;
}

int dvp_rowset_add(dvp_rowset *set, const char *prefix, size_t len, unsigned resource)
{
    if ((set->count + 1) * 2 > set->nslots && grow(set) < 0)
        return -1;
    uint64_t tag = dvp_seen_hash(prefix, len) & ~(uint64_t)RESOURCE_BITS;
    if (tag == 0)
        tag = RESOURCE_BITS + 1; /* 0 marks an empty slot */
    uint64_t bit = (uint64_t)1 << (resource & 1);
    uint64_t *slot = find(set->slots, set->nslots, tag);
    if (*slot == 0) {
        *slot = tag | bit;
        set->count++;
        return 1;
    }
    if (*slot & bit)
        return 0;
    *slot |= bit;
    return 1;
}
