/* SPDX-License-Identifier: MIT */
/* A per-read set of keys with reused memory: see plugin_seen.h. */
#include "plugin_seen.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 256

/* 8 bytes per step (the keys are identifiers of tens of bytes): a
 * multiply-xorshift mix, then a finaliser so the low bits (the slot index)
 * depend on every byte. */
uint64_t dvp_seen_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    size_t n = len;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n > 0 && len >= 8) {
        /* the last 8 bytes of the key, of which the first 8 - n were
         * hashed already: one load instead of a copy of n bytes */
        memcpy(&w, p + n - 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w <<= 8 * (8 - n);
#else
        w >>= 8 * (8 - n);
#endif
    } else {
        memcpy(&w, p, n);
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return h;
}

void dvp_seen_init(dvp_seen *seen, size_t max_entries)
{
    memset(seen, 0, sizeof(*seen));
    seen->max_entries = max_entries;
    seen->generation = 1;
}

void dvp_seen_free(dvp_seen *seen)
{
    free(seen->slots);
    free(seen->arena);
    memset(seen, 0, sizeof(*seen));
}

void dvp_seen_reset(dvp_seen *seen)
{
    seen->count = 0;
    seen->arena_len = 0;
    if (++seen->generation == 0) { /* wrapped: old stamps could match again */
        if (seen->slots != NULL)
            memset(seen->slots, 0, seen->nslots * sizeof(*seen->slots));
        seen->generation = 1;
    }
}

void dvp_seen_trim(dvp_seen *seen, size_t keep_bytes)
{
    size_t bytes = seen->nslots * sizeof(*seen->slots) + seen->arena_cap;
    if (bytes <= keep_bytes) {
        dvp_seen_reset(seen);
        return;
    }
    size_t max = seen->max_entries;
    dvp_seen_free(seen);
    dvp_seen_init(seen, max);
}

/* Doubles the table, moving this generation's keys. */
static int grow(dvp_seen *seen)
{
    size_t n = seen->nslots == 0 ? INITIAL_SLOTS : seen->nslots * 2;
    dvp_seen_slot *slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < seen->nslots; i++) {
        const dvp_seen_slot *old = &seen->slots[i];
        if (old->generation != seen->generation)
            continue;
        size_t j = old->hash & (n - 1);
        while (slots[j].generation == seen->generation)
            j = (j + 1) & (n - 1);
        slots[j] = *old;
    }
    free(seen->slots);
    seen->slots = slots;
    seen->nslots = n;
    return 0;
}

static int arena_put(dvp_seen *seen, const void *key, size_t len, size_t *offset)
{
    if (len > seen->arena_cap - seen->arena_len) {
        size_t cap = seen->arena_cap == 0 ? 4096 : seen->arena_cap;
        while (len > cap - seen->arena_len) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        char *arena = realloc(seen->arena, cap);
        if (arena == NULL)
            return -1;
        seen->arena = arena;
        seen->arena_cap = cap;
    }
    *offset = seen->arena_len;
    memcpy(seen->arena + seen->arena_len, key, len);
    seen->arena_len += len;
    return 0;
}

int dvp_seen_add(dvp_seen *seen, const void *key, size_t len)
{
    return dvp_seen_add_hashed(seen, key, len, dvp_seen_hash(key, len));
}

int dvp_seen_add_hashed(dvp_seen *seen, const void *key, size_t len, uint64_t hash)
{
    if (len > UINT32_MAX)
        return -1;
    if (seen->nslots > 0) {
        /* Equal hashes probe on until a free slot or the same key. */
        size_t i = hash & (seen->nslots - 1);
        for (; seen->slots[i].generation == seen->generation;
             i = (i + 1) & (seen->nslots - 1)) {
            const dvp_seen_slot *s = &seen->slots[i];
            if (s->hash == hash && s->len == len &&
                memcmp(seen->arena + s->offset, key, len) == 0)
                return 0;
        }
    }
    if (seen->count >= seen->max_entries)
        return -1;
    if ((seen->count + 1) * 2 > seen->nslots && grow(seen) < 0)
        return -1;
    size_t offset;
    if (arena_put(seen, key, len, &offset) < 0)
        return -1;
    size_t i = hash & (seen->nslots - 1);
    while (seen->slots[i].generation == seen->generation)
        i = (i + 1) & (seen->nslots - 1);
    seen->slots[i] = (dvp_seen_slot){.hash = hash,
                                     .generation = seen->generation,
                                     .len = (uint32_t)len,
                                     .offset = offset};
    seen->count++;
    return 1;
}
