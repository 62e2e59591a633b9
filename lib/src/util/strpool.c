/* SPDX-License-Identifier: MIT */
/* A pool of strings in chunks: see strpool.h. */
#include "strpool.h"

#include <stdlib.h>
#include <string.h>

/* Chunks grow from 4 KiB to 1 MiB: a pool of a few names stays small, one
 * of 100,000 names takes a few dozen allocations. */
#define FIRST_CHUNK ((size_t)4 << 10)
#define LAST_CHUNK ((size_t)1 << 20)

struct dva_strpool_chunk {
    dva_strpool_chunk *next;
    size_t used, cap;
    char data[];
};

char *dva_strpool_dup(dva_strpool *pool, const char *s)
{
    size_t n = strlen(s) + 1;
    dva_strpool_chunk *c = pool->head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = c == NULL             ? FIRST_CHUNK
                     : c->cap < LAST_CHUNK ? c->cap * 2
                                           : c->cap;
        if (cap < n)
            cap = n;
        dva_strpool_chunk *fresh = malloc(sizeof(*fresh) + cap);
        if (fresh == NULL)
            return NULL;
        *fresh = (dva_strpool_chunk){.next = c, .used = 0, .cap = cap};
        pool->head = c = fresh;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

void dva_strpool_free(dva_strpool *pool)
{
    for (dva_strpool_chunk *c = pool->head, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    pool->head = NULL;
}
