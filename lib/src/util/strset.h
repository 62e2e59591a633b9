/* SPDX-License-Identifier: MIT */
/* A set of strings (open addressing, FNV-1a), to keep user lists distinct
 * in linear time. Strings are borrowed, not copied. */
#ifndef DVA_STRSET_H
#define DVA_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char **slots;
    size_t cap, len;
} dva_strset;

/* Adds s; returns 1 when added, 0 when already there, -1 out of memory. */
int dva_strset_add(dva_strset *set, const char *s);
bool dva_strset_has(const dva_strset *set, const char *s);
void dva_strset_free(dva_strset *set);

#endif
