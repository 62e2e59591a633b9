/* SPDX-License-Identifier: MIT */
/* The identifiers dispatched during one read, to dispatch each only once.
 * An open-addressing set of byte-string keys whose memory is kept from
 * read to read: after the first reads, a read allocates nothing, whatever
 * the number of values (the key bytes go to one reused arena). */
#ifndef DVP_PLUGIN_SEEN_H
#define DVP_PLUGIN_SEEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t hash;
    uint32_t generation; /* the slot is used when it equals the set's */
    uint32_t len;
    size_t offset; /* of the key in the arena */
} dvp_seen_slot;

typedef struct {
    dvp_seen_slot *slots;
    size_t nslots; /* a power of two, or 0 */
    size_t count;
    size_t max_entries;
    uint32_t generation;
    char *arena;
    size_t arena_len, arena_cap;
} dvp_seen;

void dvp_seen_init(dvp_seen *seen, size_t max_entries);
void dvp_seen_free(dvp_seen *seen);
/* Forgets every key (O(1) but once every 2^32 resets); keeps the memory. */
void dvp_seen_reset(dvp_seen *seen);
/* Forgets every key and frees the memory when it holds more than
 * keep_bytes (a large read's set is not kept until the next read). */
void dvp_seen_trim(dvp_seen *seen, size_t keep_bytes);
/* 1: added; 0: already there; -1: full or out of memory (cannot tell). */
int dvp_seen_add(dvp_seen *seen, const void *key, size_t len);

/* dvp_seen_add() in steps, for a caller adding several keys at once: the
 * set spans megabytes in a read of many users, so a key's slot is mostly
 * a cache miss. Hash the keys and prefetch their slots first, then add
 * them: the misses overlap instead of coming one after the other. */
uint64_t dvp_seen_hash(const void *key, size_t len);
static inline void dvp_seen_prefetch(const dvp_seen *seen, uint64_t hash)
{
    if (seen->nslots > 0)
        __builtin_prefetch(&seen->slots[hash & (seen->nslots - 1)]);
}
/* dvp_seen_add() with hash = dvp_seen_hash(key, len). */
int dvp_seen_add_hashed(dvp_seen *seen, const void *key, size_t len, uint64_t hash);

#endif
