/* SPDX-License-Identifier: MIT */
/* The quota rows reported in one read, so that each user, quota root and
 * resource is reported once: two users or roots whose names are equal
 * after sanitising ("a b" and "a_b"), or a '-' that moves between the
 * user and the root ("a-b" + "c", "a" + "b-c"), would give two rows one
 * identifier (plugin_submit.h).
 *
 * One entry per name prefix ("<user>-<root>-"), with a bit per resource,
 * and only a 62-bit hash of the prefix, not its bytes: 8 bytes a slot, so
 * a read of 100,000 users holds about 20 bytes a user here (the byte-key
 * set of plugin_seen.h held about 340). The price: two different prefixes
 * with the same hash are taken for one, and the second one's values are
 * not reported (with the duplicate warning); for 100,000 prefixes that is
 * about one read in 10^9. The memory is kept from read to read while
 * small (dvp_rowset_trim). */
#ifndef DVP_PLUGIN_ROWSET_H
#define DVP_PLUGIN_ROWSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *slots; /* 0: empty; else the hash's upper bits | resource bits */
    size_t nslots;   /* a power of two, or 0 */
    size_t count;
} dvp_rowset;

void dvp_rowset_init(dvp_rowset *set);
void dvp_rowset_free(dvp_rowset *set);
/* Forgets every row; frees the memory when it holds more than keep_bytes. */
void dvp_rowset_reset(dvp_rowset *set, size_t keep_bytes);
/* 1: the first row of prefix (len bytes) and resource (0 or 1) in this
 * read; 0: reported already; -1: out of memory or full (cannot tell). */
int dvp_rowset_add(dvp_rowset *set, const char *prefix, size_t len, unsigned resource);

#endif
