/* SPDX-License-Identifier: MIT */
/* A chained hash map with FNV-1a hashing: see plugin_map.h. */
#include "plugin_map.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64

static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void dvp_map_init(dvp_map *map, size_t max_entries)
{
    memset(map, 0, sizeof(*map));
    map->max_entries = max_entries;
}

void dvp_map_clear(dvp_map *map)
{
    for (size_t b = 0; b < map->nbuckets; b++) {
        dvp_map_entry *e = map->buckets[b];
        while (e != NULL) {
            dvp_map_entry *next = e->next;
            free(e);
            e = next;
        }
        map->buckets[b] = NULL;
    }
    map->count = 0;
}

void dvp_map_free(dvp_map *map)
{
    dvp_map_clear(map);
    free(map->buckets);
    map->buckets = NULL;
    map->nbuckets = 0;
}

dvp_map_entry *dvp_map_find(const dvp_map *map, const void *key, size_t len)
{
    if (map->nbuckets == 0)
        return NULL;
    uint64_t h = hash_bytes(key, len);
    for (dvp_map_entry *e = map->buckets[h & (map->nbuckets - 1)]; e != NULL;
         e = e->next)
        if (e->hash == h && e->keylen == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static bool grow(dvp_map *map)
{
    size_t n = map->nbuckets == 0 ? INITIAL_BUCKETS : map->nbuckets * 2;
    dvp_map_entry **buckets = calloc(n, sizeof(*buckets));
    if (buckets == NULL)
        return false;
    for (size_t b = 0; b < map->nbuckets; b++) {
        dvp_map_entry *e = map->buckets[b];
        while (e != NULL) {
            dvp_map_entry *next = e->next;
            e->next = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(map->buckets);
    map->buckets = buckets;
    map->nbuckets = n;
    return true;
}

dvp_map_entry *dvp_map_touch(dvp_map *map, const void *key, size_t len, bool *added)
{
    bool dummy;
    if (added == NULL)
        added = &dummy;
    *added = false;
    dvp_map_entry *e = dvp_map_find(map, key, len);
    if (e != NULL) {
        e->seen = map->generation;
        return e;
    }
    if (map->count >= map->max_entries)
        return NULL;
    if ((map->count + 1) * 4 > map->nbuckets * 3 && !grow(map) && map->nbuckets == 0)
        return NULL;
    e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return NULL;
    e->hash = hash_bytes(key, len);
    e->seen = map->generation;
    e->value = 0;
    e->keylen = len;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    size_t b = e->hash & (map->nbuckets - 1);
    e->next = map->buckets[b];
    map->buckets[b] = e;
    map->count++;
    *added = true;
    return e;
}

void dvp_map_remove(dvp_map *map, const void *key, size_t len)
{
    if (map->nbuckets == 0)
        return;
    uint64_t h = hash_bytes(key, len);
    dvp_map_entry **link = &map->buckets[h & (map->nbuckets - 1)];
    for (dvp_map_entry *e = *link; e != NULL; link = &e->next, e = e->next) {
        if (e->hash == h && e->keylen == len && memcmp(e->key, key, len) == 0) {
            *link = e->next;
            free(e);
            map->count--;
            return;
        }
    }
}

size_t dvp_map_age(dvp_map *map, uint64_t max_age)
{
    size_t dropped = 0;
    map->generation++;
    if (map->generation <= max_age)
        return 0;
    uint64_t oldest = map->generation - max_age;
    for (size_t b = 0; b < map->nbuckets; b++) {
        dvp_map_entry **link = &map->buckets[b];
        while (*link != NULL) {
            dvp_map_entry *e = *link;
            if (e->seen < oldest) {
                *link = e->next;
                free(e);
                map->count--;
                dropped++;
            } else {
                link = &e->next;
            }
        }
    }
    return dropped;
}

char *dvp_key_join(char *buf, size_t size, size_t *len, const char *const *parts,
                   size_t nparts)
{
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++)
        total += strlen(parts[i]) + 1;
    char *key = total <= size ? buf : malloc(total);
    if (key == NULL)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < nparts; i++) {
        size_t n = strlen(parts[i]);
        memcpy(key + pos, parts[i], n);
        pos += n;
        key[pos++] = '\0';
    }
    *len = total == 0 ? 0 : total - 1; /* the last NUL is not part of the key */
    return key;
}

void dvp_key_free(char *key, const char *buf)
{
    if (key != buf)
        free(key);
}
