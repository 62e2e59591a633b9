/* FNV-1a of a C string: the one string hash of the library (the string
 * set's slots, the users' slices). */
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
