/* SPDX-License-Identifier: MIT */
/* Strings copied into a few large chunks freed together: the names of a
 * read's users (100,000 of them) without an allocation each. */
#ifndef DVA_STRPOOL_H
#define DVA_STRPOOL_H

#include <stddef.h>

typedef struct dva_strpool_chunk dva_strpool_chunk;

typedef struct {
    dva_strpool_chunk *head; /* the newest chunk, the others after it */
} dva_strpool;

/* A copy of s in the pool, or NULL when out of memory. */
char *dva_strpool_dup(dva_strpool *pool, const char *s);
/* Frees every string of the pool; it may be used again. */
void dva_strpool_free(dva_strpool *pool);

#endif
