/* SPDX-License-Identifier: MIT */
/* A small hash map with byte-string keys, for the plugin's state across
 * reads (collectd's c_avl_* is not part of its stable ABI, so the plugin
 * does not rely on it). Each entry carries an int value and the generation
 * it was last touched in, so state not seen for many reads can be dropped;
 * the number of entries is bounded. Not thread-safe: one map per instance,
 * and collectd never runs one read callback twice at the same time. */
#ifndef DVP_PLUGIN_MAP_H
#define DVP_PLUGIN_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dvp_map_entry {
    struct dvp_map_entry *next;
    uint64_t hash;
    uint64_t seen; /* generation of the last dvp_map_touch() */
    int value;
    size_t keylen;
    char key[]; /* keylen bytes, then a NUL */
} dvp_map_entry;

typedef struct {
    dvp_map_entry **buckets;
    size_t nbuckets;
    size_t count;
    size_t max_entries;
    uint64_t generation;
} dvp_map;

void dvp_map_init(dvp_map *map, size_t max_entries);
void dvp_map_free(dvp_map *map);
/* Drops every entry but keeps the bucket array. */
void dvp_map_clear(dvp_map *map);

dvp_map_entry *dvp_map_find(const dvp_map *map, const void *key, size_t len);
/* Finds the entry or adds it (value 0); *added tells which. Either way its
 * seen is set to the current generation. NULL when the map is full or out
 * of memory. */
dvp_map_entry *dvp_map_touch(dvp_map *map, const void *key, size_t len, bool *added);
void dvp_map_remove(dvp_map *map, const void *key, size_t len);

/* Starts a new generation, then drops the entries not touched during the
 * last max_age generations. Returns how many were dropped. */
size_t dvp_map_age(dvp_map *map, uint64_t max_age);

/* Joins parts with NUL bytes into a key. Uses buf when it is big enough,
 * otherwise a malloc()ed buffer; free the result with dvp_key_free(). NULL
 * when out of memory. */
char *dvp_key_join(char *buf, size_t size, size_t *len, const char *const *parts,
                   size_t nparts);
void dvp_key_free(char *key, const char *buf);

#endif
