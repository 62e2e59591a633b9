/* Sanitising and joining identifier names: see plugin_names.h. */
#include "plugin_names.h"

bool dvp_name_byte_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '@' || c == '.' || c == '_' || c == '+' || c == '=' || c == '-';
}

bool dvp_name_clean(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (!dvp_name_byte_ok(*p))
            return false;
    return true;
}

bool dvp_name_join(char *dst, size_t size, const char *const *parts, size_t nparts)
{
    size_t pos = 0;
    if (size == 0)
        return false;
    for (size_t i = 0; i < nparts; i++) {
        if (i > 0) {
            if (pos + 1 >= size)
                goto overflow;
            dst[pos++] = '-';
        }
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0';
             p++) {
            if (pos + 1 >= size)
                goto overflow;
            dst[pos++] = dvp_name_byte_ok(*p) ? (char)*p : '_';
        }
    }
    dst[pos] = '\0';
    return true;
overflow:
    dst[pos] = '\0';
    return false;
}
