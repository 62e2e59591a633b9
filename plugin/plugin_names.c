/* Sanitising and joining identifier names: see plugin_names.h. */
#include "plugin_names.h"

#include <string.h>

/* NAME_OK[b]: b is kept as it is. A constant table (GNU range designators):
 * a name is sanitised for every dispatched value. */
static const unsigned char NAME_OK[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['@'] = 1, ['.'] = 1,
    ['_'] = 1,         ['+'] = 1,         ['='] = 1,         ['-'] = 1,
};

bool dvp_name_byte_ok(unsigned char c)
{
    return NAME_OK[c] != 0;
}

bool dvp_name_clean(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (!NAME_OK[*p])
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
        dst[at + i] = NAME_OK[p[i]] ? (char)p[i] : '_';
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
