/* SPDX-License-Identifier: MIT */
/* Sanitising and joining identifier names: see plugin_names.h. */
#include "plugin_names.h"

#include <string.h>

/* The bytes kept as they are, as a constant expression. */
#define NAME_OK(c)                                                                     \
    (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') ||                       \
     ((c) >= '0' && (c) <= '9') || (c) == '@' || (c) == '.' || (c) == '_' ||           \
     (c) == '+' || (c) == '=' || (c) == '-')

/* SANITISED[b]: b when kept, '_' otherwise. A constant table, built by the
 * preprocessor: a name is sanitised for every dispatched value. */
#define S1(c) (NAME_OK(c) ? (c) : '_')
#define S4(c) S1(c), S1((c) + 1), S1((c) + 2), S1((c) + 3)
#define S16(c) S4(c), S4((c) + 4), S4((c) + 8), S4((c) + 12)
#define S64(c) S16(c), S16((c) + 16), S16((c) + 32), S16((c) + 48)
static const unsigned char SANITISED[256] = {S64(0), S64(64), S64(128), S64(192)};

bool dvp_name_byte_ok(unsigned char c)
{
    return NAME_OK(c);
}

bool dvp_name_clean(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (SANITISED[*p] != *p)
            return false;
    return true;
}

bool dvp_name_append(char *dst, size_t size, size_t *pos, const char *part)
{
    const unsigned char *p = (const unsigned char *)part;
    size_t at = *pos, len = strlen(part);
    /* One bound check for the whole part (the NUL after it included), not
     * one per byte; a part that does not fit is cut where the room ends. */
    bool fits = len < size - at;
    size_t n = fits ? len : size - at - 1;
    for (size_t i = 0; i < n; i++)
        dst[at + i] = (char)SANITISED[p[i]];
    at += n;
    dst[at] = '\0';
    *pos = at;
    return fits;
}

bool dvp_name_join(char *dst, size_t size, const char *const *parts, size_t nparts)
{
    size_t pos = 0;
    if (size == 0)
        return false;
    dst[0] = '\0';
    for (size_t i = 0; i < nparts; i++)
        if ((i > 0 && !dvp_name_append(dst, size, &pos, "-")) ||
            !dvp_name_append(dst, size, &pos, parts[i]))
            return false;
    return true;
}
