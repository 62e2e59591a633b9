/* SPDX-License-Identifier: MIT */
#include "strset.h"

#include "hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t find(const char **slots, size_t cap, const char *s)
{
    size_t i = (size_t)dva_hash_str(s) & (cap - 1);
    while (slots[i] != NULL && strcmp(slots[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(dva_strset *set)
{
    size_t cap = set->cap == 0 ? 64 : set->cap * 2;
    const char **slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i] != NULL)
            slots[find(slots, cap, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return 0;
}

int dva_strset_add(dva_strset *set, const char *s)
{
    /* Keep the load under one half so probes stay short. */
    if ((set->len + 1) * 2 > set->cap && grow(set) < 0)
        return -1;
    size_t i = find(set->slots, set->cap, s);
    if (set->slots[i] != NULL)
        return 0;
    set->slots[i] = s;
    set->len++;
    return 1;
}

bool dva_strset_has(const dva_strset *set, const char *s)
{
    return set->cap != 0 && set->slots[find(set->slots, set->cap, s)] != NULL;
}

void dva_strset_free(dva_strset *set)
{
    free(set->slots);
    memset(set, 0, sizeof(*set));
}
