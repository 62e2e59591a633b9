/* SPDX-License-Identifier: MIT */
/* The labels identifier layout: see plugin_layout.h. */
#include "plugin_layout.h"

#include <string.h>

bool dvp_layout_labels(const char *instance, const char *ti, dvp_layout_key key,
                       char *pi, char *ti_out, size_t size)
{
    size_t n = strlen(ti), ilen = strlen(instance);
    if (key.len == 0 || key.off > n || key.len > n - key.off ||
        (key.off > 0 && ti[key.off - 1] != '-'))
        return false;
    /* before: the parts before the key, without their '-' (empty, or
     * "old_user"); after: "-<root>-used", starting with its '-', or "". */
    size_t before = key.off > 0 ? key.off - 1 : 0;
    const char *after = ti + key.off + key.len;
    size_t alen = n - key.off - key.len;
    size_t need = ilen + (key.off > 0 ? 1 + before : 0) + alen;
    if (need >= size || key.len >= size)
        return false;
    char *p = pi;
    memcpy(p, instance, ilen);
    p += ilen;
    if (key.off > 0) {
        *p++ = '-';
        memcpy(p, ti, before);
        p += before;
    }
    memcpy(p, after, alen);
    p[alen] = '\0';
    memmove(ti_out, ti + key.off, key.len); /* ti_out may be ti */
    ti_out[key.len] = '\0';
    return true;
}
