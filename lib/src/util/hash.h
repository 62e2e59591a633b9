/* SPDX-License-Identifier: MIT */
/* FNV-1a's steps over a C string: the one string hash of the library (the
 * string set's slots, the users' slices). Its start value is FNV's offset
 * basis without the last digit, as the library has always had it: the
 * users' slices (dva_scrape_user_slice()) are made of these values, so
 * they stay (tests/unit/util/test_strset.c pins them). */
#ifndef DVA_HASH_H
#define DVA_HASH_H

#include <stdint.h>

static inline uint64_t dva_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

#endif
